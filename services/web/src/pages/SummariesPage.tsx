import { Alert, Button, Card, Group, Select, Stack, TagsInput, Text, TextInput } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { useRef, useState, type FormEvent } from "react";
import { useParams } from "react-router";
import { usePeople } from "../api/analytics";
import { errorMessage, unwrap } from "../api/errors";
import { useVersions } from "../api/queries";
import { BusyNotice } from "../components/BusyNotice";
import { CitationChips, CitedText } from "../components/CitedText";
import { MessageInContext } from "../components/MessageInContext";
import { localTimeZone } from "../lib/analytics";
import { busyMessage, isGenerationBusy, retryOnceWhenBusy } from "../lib/busy";
import { useApi } from "../services";

interface Scope {
  chat: string[];
  sender: string[];
  since: string;
  until: string;
  version: string | null;
}
type Cited = { n: number; message_id: string; sender: string | null; sent_at: string };

/** A summary of a chat, a person or a period by the local model, each claim one click from its message. */
export default function SummariesPage() {
  const api = useApi();
  const { collectionId = "" } = useParams();
  const [scope, setScope] = useState<Scope>({ chat: [], sender: [], since: "", until: "", version: null });
  const [opened, setOpened] = useState<Cited | null>(null);
  const abort = useRef<AbortController | null>(null);
  const [busyUntil, setBusyUntil] = useState<number | null>(null);
  const versions = useVersions(collectionId);
  const people = usePeople(collectionId, { platform: [], chat: [], sender: [], since: null, until: null,
    timezone: localTimeZone(), version: null });
  const summary = useMutation({
    mutationFn: async (asked: Scope) => {
      abort.current = new AbortController();
      const signal = abort.current.signal;
      // A busy model refuses before writing anything: wait as asked, then ask once more.
      return retryOnceWhenBusy(async () => unwrap(await api.POST("/api/v1/collections/{collection_id}/summaries", {
        params: { path: { collection_id: collectionId } },
        signal,
        body: {
          ...(asked.chat.length ? { chat: asked.chat } : {}),
          ...(asked.sender.length ? { sender: asked.sender } : {}),
          ...(asked.since ? { since: asked.since } : {}),
          ...(asked.until ? { until: asked.until } : {}),
          ...(asked.version ? { version: Number(asked.version) } : {}),
          // The document marks fields with defaults as required; the gateway does not.
        } as never,
      })), (seconds) => setBusyUntil(seconds ? Date.now() + seconds * 1000 : null), signal);
    },
  });
  const set = (patch: Partial<Scope>) => setScope((previous) => ({ ...previous, ...patch }));
  function submit(event: FormEvent) {
    event.preventDefault();
    if (!summary.isPending) summary.mutate(scope);
  }
  const data = summary.data;
  const stopped = summary.isError && abort.current?.signal.aborted;

  return (
    <Stack>
      <form onSubmit={submit} aria-label="What to summarise">
        <Stack gap="xs">
          <Text size="sm" c="dimmed">
            Summarise a chat, a person, a period or any mix; with nothing chosen, the whole collection.
            Dates are in UTC, the end not included.
          </Text>
          <Group align="flex-end" gap="sm" wrap="wrap">
            <TagsInput label="Chat" placeholder="Any chat" w={220} value={scope.chat} onChange={(chat) => set({ chat })} />
            <TagsInput label="Sender" placeholder="Anyone" w={220} value={scope.sender} onChange={(sender) => set({ sender })}
              data={(people.data?.people ?? []).map((p) => p.sender)} />
            <TextInput label="From" type="date" w={150} value={scope.since} onChange={(e) => set({ since: e.currentTarget.value })} />
            <TextInput label="Until (not included)" type="date" w={170} value={scope.until}
              onChange={(e) => set({ until: e.currentTarget.value })} />
            <Select label="Version" placeholder="Latest" w={150} clearable value={scope.version}
              onChange={(version) => set({ version })}
              data={(versions.data ?? []).slice().reverse().map((v) => ({ value: String(v.version), label: `Version ${v.version}` }))} />
          </Group>
          <Group>
            <Button type="submit" loading={summary.isPending}>Summarise</Button>
            {summary.isPending && <Button variant="default" onClick={() => abort.current?.abort()}>Stop</Button>}
          </Group>
        </Stack>
      </form>
      {busyUntil !== null && <BusyNotice until={busyUntil} />}
      {summary.isError && (
        <Alert color={stopped ? "gray" : "red"} role="alert">
          {stopped ? "Stopped." : isGenerationBusy(summary.error) ? busyMessage(summary.error) : errorMessage(summary.error)}
        </Alert>
      )}
      {data && (
        <Card withBorder aria-live="polite">
          <Stack gap="sm">
            {data.messages === 0 ? (
              <Text data-testid="summary-text">No messages in this selection: nothing to summarise.</Text>
            ) : (
              <CitedText text={data.summary} citations={data.citations} onOpen={setOpened} testId="summary-text" />
            )}
            <CitationChips citations={data.citations} onOpen={setOpened} testId="summary-citation" />
            <Text size="xs" c="dimmed" data-testid="summary-scope">
              {data.messages} messages summarised{data.chunks > 1 ? ` in ${data.chunks} parts` : ""}
              {data.model ? ` by ${data.model}` : ""} · version {data.version}
            </Text>
          </Stack>
        </Card>
      )}
      <MessageInContext collectionId={collectionId} messageId={opened?.message_id ?? null}
        version={data?.version} onClose={() => setOpened(null)} />
    </Stack>
  );
}
