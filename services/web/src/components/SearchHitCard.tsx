import { Button, Card, Group, Stack, Text } from "@mantine/core";
import { memo } from "react";
import type { SearchHit } from "../api/types";
import { formatTime } from "../lib/format";
import { HighlightedText } from "./HighlightedText";

/** One hit: who, where, when, the text with its matches marked, and its neighbours dimmed. */
// Memoised: the list renders again whenever the virtualiser measures a card or scrolls, and the
// cards themselves only change with their hit.
export const SearchHitCard = memo(function SearchHitCard({ hit, onOpen }: { hit: SearchHit; onOpen: (hit: SearchHit) => void }) {
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
          <MatchLabel hit={hit} />
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
});

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

/**
 * Why the hit is here, in numbers a reader can use: its similarity of meaning (the cosine, as the
 * CLI and the answers' relevance floor read it) or, found by its words alone, that it matches
 * them. The fused order score of hybrid search is a rank-fusion sum with no meaning of its own.
 */
export function MatchLabel({ hit }: { hit: SearchHit }) {
  if (hit.semantic_score != null) {
    return (
      <Text size="xs" c="dimmed" style={{ flexShrink: 0 }} data-testid="hit-similarity"
        title="How close the message's meaning is to the search: the cosine of their embeddings, from -1 to 1">
        similarity {hit.semantic_score.toFixed(2)}
      </Text>
    );
  }
  if (hit.keyword_score != null) {
    return (
      <Text size="xs" c="dimmed" style={{ flexShrink: 0 }} data-testid="hit-similarity"
        title={`Found by its words (BM25 ${hit.keyword_score.toFixed(1)})`}>
        matches the words
      </Text>
    );
  }
  return null;
}
