import {
  Alert, Button, Group, Pill, Select, SegmentedControl, Stack, Text, TextInput,
} from "@mantine/core";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useWindowVirtualizer } from "@tanstack/react-virtual";
import { memo, useCallback, useDeferredValue, useEffect, useLayoutEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { useParams, useSearchParams } from "react-router";
import { errorMessage } from "../api/errors";
import { linkedMode, searchFromParams, searchQuery, useVersions, type SubmittedSearch } from "../api/queries";
import type { SearchHit, SearchMode, Version } from "../api/types";
import { MessageInContext } from "../components/MessageInContext";
import { SearchHitCard } from "../components/SearchHitCard";
import { SEARCH_BOX_ID } from "../components/Shell";
import { formatCount } from "../lib/format";
import { addChip, chipsFromParams, FILTER_FIELDS, type FilterChip, type FilterField } from "../lib/filters";
import { useApi } from "../services";

const NO_HITS: SearchHit[] = [];

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
  const [submitted, setSubmitted] = useState<SubmittedSearch | null>(() => searchFromParams(params));
  const [opened, setOpened] = useState<SearchHit | null>(null);

  const versions = useVersions(collectionId);

  const results = useInfiniteQuery(searchQuery(api, collectionId, submitted));

  // A chip or the mode changed after a search: search again at once.
  useEffect(() => {
    setSubmitted((previous) => (previous ? { ...previous, mode, chips, version } : previous));
  }, [mode, chips, version]);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (query.trim()) setSubmitted({ query: query.trim(), mode, chips, version });
  }

  const hits = useMemo(() => results.data?.pages.flatMap((page) => page.results) ?? [], [results.data]);
  // The hits render after the rest, in slices that let the phone's main thread breathe between
  // them (a deferred value renders as a transition), and commit apart from the page around them
  // even when they are there at its first render (the entry may have fetched them).
  const shownHits = useDeferredValue(hits, NO_HITS);
  const { fetchNextPage } = results;
  const loadMore = useCallback(() => void fetchNextPage(), [fetchNextPage]);
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
          <SearchOptions mode={mode} onMode={setMode} version={version} onVersion={setVersion}
            versions={versions.data} />
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
      {/* More is fetched near the end of the hits shown, not of the hits still to render. */}
      <HitList hits={shownHits} hasMore={shownHits === hits && !!results.hasNextPage} loadingMore={results.isFetchingNextPage}
        loadMore={loadMore} onOpen={setOpened} />
      <MessageInContext collectionId={collectionId} messageId={opened?.message_id ?? null}
        version={submitted?.version} onClose={() => setOpened(null)} />
    </Stack>
  );
}

const versionLabel = (v: Version) => `v${v.version} · ${formatCount(v.messages)} messages`;
const versionTitle = (v: Version) => `Version ${v.version}, ${formatCount(v.messages)} messages`;

interface SearchOptionsProps {
  mode: SearchMode;
  onMode: (mode: SearchMode) => void;
  version: string | null;
  onVersion: (version: string | null) => void;
  versions: Version[] | undefined;
}

// Memoised, like the filters and the hits: a search's answer re-renders the page, and these
// (with their dropdowns' positioning) need not render again for it.
const SearchOptions = memo(function SearchOptions({ mode, onMode, version, onVersion, versions }: SearchOptionsProps) {
  const picked = versions?.find((v) => String(v.version) === version);
  return (
    <Group wrap="wrap" gap="md">
      <SegmentedControl aria-label="Search mode" value={mode} onChange={(v) => onMode(v as SearchMode)}
        data={[{ value: "hybrid", label: "Hybrid" }, { value: "semantic", label: "Meaning" }, { value: "keyword", label: "Keywords" }]} />
      {/* "v4 · 207 messages" fits the box ("Version 4 (207 messages)" was cut off); the whole
          wording is the box's title. */}
      <Select aria-label="Version" placeholder="Latest version" clearable w={200}
        value={version} onChange={onVersion} title={picked ? versionTitle(picked) : undefined}
        data={(versions ?? []).slice().reverse().map((v) => ({ value: String(v.version), label: versionLabel(v) }))} />
    </Group>
  );
});

const FilterChips = memo(function FilterChips({ chips, onChange }: { chips: FilterChip[]; onChange: (chips: FilterChip[]) => void }) {
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
});

interface HitListProps {
  hits: SearchHit[];
  hasMore: boolean;
  loadingMore: boolean;
  loadMore: () => void;
  onOpen: (hit: SearchHit) => void;
}

/** Only the hits near the viewport are in the DOM; nearing the end fetches the next page. */
const HitList = memo(function HitList({ hits, hasMore, loadingMore, loadMore, onOpen }: HitListProps) {
  const list = useRef<HTMLDivElement>(null);
  // Where the list starts on the page, read after each commit (the summary or a chip above may
  // have moved it): read while rendering, it forced the browser to lay out the old page first.
  const [scrollMargin, setScrollMargin] = useState(0);
  useLayoutEffect(() => {
    const top = list.current?.offsetTop ?? 0;
    if (top !== scrollMargin) setScrollMargin(top);
  });
  const virtualizer = useWindowVirtualizer({
    count: hits.length,
    estimateSize: () => 140,
    // Three cards beyond the viewport each way (six rendered twice as many as a phone shows in
    // the first results' render); scrolling renders the next ones as they come near.
    overscan: 3,
    gap: 8,
    scrollMargin,
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
});
