import { Alert, Button, Group, Select, Stack, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage, unwrap } from "../../api/errors";
import type { Version } from "../../api/types";
import { formatTime } from "../../lib/format";
import { useApi } from "../../services";
import { Section } from "../account/Section";
import { Loading } from "../Loading";

const SHOWN = 10;

/** Two versions side by side: how many messages one has that the other lacks, and which. */
export function CompareVersions({ collectionId, versions }: { collectionId: string; versions: Version[] }) {
  const api = useApi();
  const numbers = versions.map((v) => String(v.version)).reverse();
  // Until one is picked, each side is one of the two latest versions, whatever the list says now
  // (a restore adds one): the form keeps what was picked and asked across the list's refetches.
  const [picked, setPicked] = useState<{ base?: string; other?: string }>({});
  const base = picked.base ?? numbers[1] ?? null;
  const other = picked.other ?? numbers[0] ?? null;
  const setBase = (value: string | null) => value && setPicked((p) => ({ ...p, base: value }));
  const setOther = (value: string | null) => value && setPicked((p) => ({ ...p, other: value }));
  const [asked, setAsked] = useState<{ base: string; other: string } | null>(null);
  const comparison = useQuery({
    queryKey: ["compare", collectionId, asked],
    enabled: asked !== null,
    queryFn: async () => unwrap(await api.GET("/api/v1/collections/{collection_id}/versions/compare", {
      params: { path: { collection_id: collectionId }, query: { base: asked!.base, other: asked!.other, limit: SHOWN } },
    })),
  });
  const data = comparison.data;
  return (
    <Section title="Compare two versions">
      <Group align="flex-end" gap="sm" wrap="wrap">
        <Select label="From version" w={150} data={numbers} value={base} onChange={setBase} allowDeselect={false} />
        <Select label="To version" w={150} data={numbers} value={other} onChange={setOther} allowDeselect={false} />
        <Button variant="default" disabled={!base || !other || base === other}
          onClick={() => base && other && setAsked({ base, other })}>Compare</Button>
      </Group>
      {comparison.isFetching && <Loading />}
      {comparison.isError && <Alert color="red" role="alert">{errorMessage(comparison.error)}</Alert>}
      {data && (
        <Stack gap="xs" data-testid="comparison">
          <Text fw={600}>
            Version {data.other} has {data.added} messages that version {data.base} lacks, and lacks {data.removed} that it has.
          </Text>
          <ChangedMessages collectionId={collectionId} title={`In version ${data.other} only`} version={data.other}
            ids={data.added_ids ?? []} total={data.added} />
          <ChangedMessages collectionId={collectionId} title={`In version ${data.base} only`} version={data.base}
            ids={data.removed_ids ?? []} total={data.removed} />
        </Stack>
      )}
    </Section>
  );
}

interface ChangedProps { collectionId: string; title: string; version: number; ids: string[]; total: number }

function ChangedMessages({ collectionId, title, version, ids, total }: ChangedProps) {
  if (total === 0) return null;
  return (
    <Stack gap={4}>
      <Text size="sm" fw={500}>{title}{total > ids.length ? ` (the first ${ids.length} of ${total})` : ""}</Text>
      {ids.map((id) => <ChangedMessage key={id} collectionId={collectionId} id={id} version={version} />)}
    </Stack>
  );
}

function ChangedMessage({ collectionId, id, version }: { collectionId: string; id: string; version: number }) {
  const api = useApi();
  const message = useQuery({
    queryKey: ["message", collectionId, id, version, 0],
    queryFn: async () => unwrap(await api.GET("/api/v1/collections/{collection_id}/messages/{message_id}", {
      params: { path: { collection_id: collectionId, message_id: id }, query: { context: 0, version: String(version) } },
    })).message,
  });
  if (!message.data) return <Text size="sm" c="dimmed">{message.isError ? errorMessage(message.error) : "…"}</Text>;
  const m = message.data;
  return (
    <Text size="sm" className="chat-text" data-testid="changed-message">
      <b>{m.sender ?? "(system)"}</b> in {m.chat}, {formatTime(m.sent_at)}: {m.text}
    </Text>
  );
}
