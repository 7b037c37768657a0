import {
  Alert, Button, Group, Pill, Select, SegmentedControl, Stack, Text, TextInput,
} from "@mantine/core";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useWindowVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useParams, useSearchParams } from "react-router";
import { errorMessage, unwrap } from "../api/errors";
import { useVersions } from "../api/queries";
import type { SearchHit, SearchMode, SearchRequest, SearchResponse } from "../api/types";
import { MessageInContext } from "../components/MessageInContext";
import { SearchHitCard } from "../components/SearchHitCard";
import { SEARCH_BOX_ID } from "../components/Shell";
import { addChip, chipsFromParams, FILTER_FIELDS, toFilters, type FilterChip, type FilterField } from "../lib/filters";
import { useApi } from "../services";

const PAGE = 20;
interface Submitted {
  query: string;
  mode: SearchMode;
  chips: FilterChip[];
  version: string | null;
}

const MODES: SearchMode[] = ["hybrid", "semantic", "keyword"];
const linkedMode = (mode: string | null): SearchMode => MODES.find((m) => m === mode) ?? "hybrid";

/** One box with the operators, a mode, filters as chips, a version; hits scroll without end. */
export default function SearchPage() {
  const api = useApi();
  const { collectionId = "" } = useParams();
  // A drill-down from the dashboard arrives with its filters in the URL, and a word of the
  // language report with its words (`q`) and mode: that one is searched at once.
  const [params] = useSearchParams();
  const [query, setQuery] = useState(() => params.get("q") ?? "");
  const [mode, setMode] = useState<SearchMode>(() => linkedMode(params.get("mode")));
  const [chips, setChips] = useState<FilterChip[]>(() => chipsFromParams(params));
  const [version, setVersion] = useState<string | null>(() => params.get("version"));
  const fromLink = params.size > 0;
  const [submitted, setSubmitted] = useState<Submitted | null>(() => params.get("q")?.trim()
    ? { query: params.get("q")!.trim(), mode: linkedMode(params.get("mode")), chips: chipsFromParams(params),
      version: params.get("version") }
    : null);
  const [opened, setOpened] = useState<SearchHit | null>(null);

  const versions = useVersions(collectionId);

  const results = useInfiniteQuery({
    queryKey: ["search", collectionId, submitted],
    enabled: submitted !== null,
    initialPageParam: null as string | null,
    getNextPageParam: (last: SearchResponse) => last.next_cursor ?? null,
    queryFn: async ({ pageParam, signal }): Promise<SearchResponse> =>
      unwrap(await api.POST("/api/v1/collections/{collection_id}/search", {
        params: { path: { collection_id: collectionId } },
        signal,
        body: {
          query: submitted!.query, mode: submitted!.mode, k: PAGE, context: 1,
          filters: toFilters(submitted!.chips),
          ...(submitted!.version ? { version: submitted!.version } : {}),
          ...(pageParam ? { cursor: pageParam } : {}),
          // The document marks fields with defaults as required; the gateway does not.
        } as SearchRequest,
      })) as SearchResponse,
  });

  // A chip or the mode changed after a search: search again at once.
  useEffect(() => {
    setSubmitted((previous) => (previous ? { ...previous, mode, chips, version } : previous));
  }, [mode, chips, version]);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (query.trim()) setSubmitted({ query: query.trim(), mode, chips, version });
  }

  const hits = results.data?.pages.flatMap((page) => page.results) ?? [];
  const searchedVersion = results.data?.pages[0]?.version;

  return (
    <Stack>
      <form onSubmit={submit} role="search" aria-label="Search messages">
        <Stack gap="xs">
          <Group align="flex-end" wrap="wrap">
            <TextInput id={SEARCH_BOX_ID} label="Search" autoFocus={fromLink} style={{ flex: 1, minWidth: 240 }}
              placeholder='e.g. trip to Lisbon from:Marta after:2025-01-01 "team retro"'
              description="Press / to jump here. Operators: from:, in:, before:, after:, quotes"
              value={query} onChange={(e) => setQuery(e.currentTarget.value)} />
            <Button type="submit" loading={results.isFetching && !results.isFetchingNextPage}>Search</Button>
          </Group>
          <Group wrap="wrap" gap="md">
            <SegmentedControl aria-label="Search mode" value={mode} onChange={(v) => setMode(v as SearchMode)}
              data={[{ value: "hybrid", label: "Hybrid" }, { value: "semantic", label: "Meaning" }, { value: "keyword", label: "Keywords" }]} />
            <Select aria-label="Version" placeholder="Latest version" clearable w={200}
              value={version} onChange={setVersion}
              data={(versions.data ?? []).slice().reverse().map((v) => ({
                value: String(v.version), label: `Version ${v.version} (${v.messages} messages)`,
              }))} />
          </Group>
        </Stack>
      </form>
      <FilterChips chips={chips} onChange={setChips} />
      {fromLink && submitted === null && chips.length > 0 && (
        <Text size="sm" data-testid="drill-down-hint">
          The filters of the chart you clicked are set: type words to search those messages.
        </Text>
      )}
      {results.isError && <Alert color="red" role="alert">{errorMessage(results.error)}</Alert>}
      {results.isSuccess && (
        <Text size="sm" c="dimmed" data-testid="search-summary">
          {hits.length === 0 ? "No messages match." : `${hits.length}${results.hasNextPage ? "+" : ""} messages`}
          {searchedVersion != null ? ` · version ${searchedVersion}` : ""}
        </Text>
      )}
      <HitList hits={hits} hasMore={!!results.hasNextPage} loadingMore={results.isFetchingNextPage}
        loadMore={() => void results.fetchNextPage()} onOpen={setOpened} />
      <MessageInContext collectionId={collectionId} messageId={opened?.message_id ?? null}
        version={submitted?.version} onClose={() => setOpened(null)} />
    </Stack>
  );
}

function FilterChips({ chips, onChange }: { chips: FilterChip[]; onChange: (chips: FilterChip[]) => void }) {
  const [field, setField] = useState<FilterField>("sender");
  const [value, setValue] = useState("");
  const dates = field === "since" || field === "until";
  function add() {
    onChange(addChip(chips, { field, value }));
    setValue("");
  }
  return (
    <Stack gap="xs">
      <Group align="flex-end" gap="xs" wrap="wrap">
        <Select label="Filter" w={140} value={field} allowDeselect={false}
          onChange={(v) => setField((v ?? "sender") as FilterField)}
          data={Object.entries(FILTER_FIELDS).map(([v, label]) => ({ value: v, label }))} />
        <TextInput label="Value" aria-label="Filter value" type={dates ? "date" : "text"} value={value}
          onChange={(e) => setValue(e.currentTarget.value)}
          onKeyDown={(e) => { if (e.key === "Enter") { e.preventDefault(); add(); } }} />
        <Button variant="default" onClick={add} disabled={!value.trim()}>Add filter</Button>
      </Group>
      {chips.length > 0 && (
        <Pill.Group aria-label="Active filters">
          {chips.map((chip) => (
            <Pill key={`${chip.field}:${chip.value}`} withRemoveButton
              // Mantine hides the remove button from keyboards and screen readers; this one is
              // the only way to drop a filter, so it must be reachable.
              removeButtonProps={{ "aria-label": `Remove filter ${FILTER_FIELDS[chip.field]} ${chip.value}`,
                "aria-hidden": false, tabIndex: 0 }}
              onRemove={() => onChange(chips.filter((c) => c !== chip))}>
              {FILTER_FIELDS[chip.field]}: {chip.value}
            </Pill>
          ))}
        </Pill.Group>
      )}
    </Stack>
  );
}

interface HitListProps {
  hits: SearchHit[];
  hasMore: boolean;
  loadingMore: boolean;
  loadMore: () => void;
  onOpen: (hit: SearchHit) => void;
}

/** Only the hits near the viewport are in the DOM; nearing the end fetches the next page. */
function HitList({ hits, hasMore, loadingMore, loadMore, onOpen }: HitListProps) {
  const list = useRef<HTMLDivElement>(null);
  const virtualizer = useWindowVirtualizer({
    count: hits.length,
    estimateSize: () => 140,
    overscan: 6,
    gap: 8,
    scrollMargin: list.current?.offsetTop ?? 0,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.length ? items[items.length - 1].index : -1;
  useEffect(() => {
    if (hasMore && !loadingMore && lastIndex >= hits.length - 3) loadMore();
  }, [lastIndex, hits.length, hasMore, loadingMore, loadMore]);

  return (
    <div ref={list} role="list" aria-label="Search results" aria-busy={loadingMore}
      style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
      {items.map((item) => (
        <div key={hits[item.index].message_id} role="listitem" data-index={item.index}
          ref={virtualizer.measureElement}
          style={{ position: "absolute", top: 0, left: 0, width: "100%",
            transform: `translateY(${item.start - virtualizer.options.scrollMargin}px)` }}>
          <SearchHitCard hit={hits[item.index]} onOpen={onOpen} />
        </div>
      ))}
    </div>
  );
}
