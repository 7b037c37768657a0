import { Button, Card, Group, Stack, Text } from "@mantine/core";
import type { SearchHit } from "../api/types";
import { formatTime } from "../lib/format";
import { HighlightedText } from "./HighlightedText";

/** One hit: who, where, when, the text with its matches marked, and its neighbours dimmed. */
export function SearchHitCard({ hit, onOpen }: { hit: SearchHit; onOpen: (hit: SearchHit) => void }) {
  const spans = hit.highlights as unknown as [number, number][];
  const before = hit.context.filter((m) => m.sent_at <= hit.sent_at);
  const after = hit.context.filter((m) => m.sent_at > hit.sent_at);
  return (
    <Card withBorder padding="sm" data-testid="search-hit">
      <Stack gap={4}>
        <Group justify="space-between" wrap="nowrap">
          <Group gap="xs" wrap="nowrap" style={{ minWidth: 0 }}>
            <Text fw={600} size="sm" data-testid="hit-sender" style={{ flexShrink: 0 }}>{hit.sender ?? "(system)"}</Text>
            <Text size="xs" c="dimmed" truncate>in {hit.chat} · {formatTime(hit.sent_at)}</Text>
          </Group>
          <Text size="xs" c="dimmed" title="relevance score">{hit.score.toFixed(3)}</Text>
        </Group>
        <Neighbours messages={before} />
        <Text size="sm" component="div"><HighlightedText text={hit.text} spans={spans} /></Text>
        <Neighbours messages={after} />
        <Group justify="flex-end">
          <Button size="compact-xs" variant="subtle" onClick={() => onOpen(hit)}>
            Open in chat
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}

function Neighbours({ messages }: { messages: SearchHit["context"] }) {
  if (messages.length === 0) return null;
  return (
    <Stack gap={2}>
      {messages.map((m) => (
        <Text key={m.message_id} size="xs" c="dimmed" className="chat-text" lineClamp={2}>
          {m.sender ?? "(system)"}: {m.text}
        </Text>
      ))}
    </Stack>
  );
}
