import { Button, Group, Stack, Text, UnstyledButton } from "@mantine/core";
import { formatTime } from "../lib/format";
import { splitCitations } from "../lib/citations";

interface Cited { n: number; sender: string | null; sent_at: string; message_id: string }

interface Props<C extends { n: number; sender: string | null }> {
  text: string;
  citations: C[];
  onOpen: (citation: C) => void;
  testId?: string;
}

/** Text whose [n] references are buttons that open the cited message; the rest rendered as text. */
export function CitedText<C extends { n: number; sender: string | null }>({ text, citations, onOpen, testId }: Props<C>) {
  const byNumber = new Map(citations.map((c) => [c.n, c]));
  return (
    <Text className="chat-text" data-testid={testId}>
      {splitCitations(text, new Set(byNumber.keys())).map((part, i) =>
        "n" in part ? (
          <UnstyledButton key={i} className="cite-ref" onClick={() => onOpen(byNumber.get(part.n)!)}
            aria-label={`Open cited message ${part.n} from ${byNumber.get(part.n)!.sender ?? "the system"}`}>
            {part.label}
          </UnstyledButton>
        ) : (
          part.text
        ))}
    </Text>
  );
}

/** The cited messages as chips under an answer or a summary; a click opens one in its chat. */
export function CitationChips<C extends Cited>({ citations, onOpen, testId }: { citations: C[]; onOpen: (citation: C) => void; testId: string }) {
  if (citations.length === 0) return null;
  return (
    <Stack gap={4}>
      <Text size="xs" c="dimmed">Cited messages (click to open in the chat)</Text>
      <Group gap="xs">
        {citations.map((citation) => (
          <Button key={citation.message_id} size="compact-sm" radius="xl" variant="outline"
            onClick={() => onOpen(citation)} data-testid={testId}>
            [{citation.n}] {citation.sender ?? "(system)"}, {formatTime(citation.sent_at)}
          </Button>
        ))}
      </Group>
    </Stack>
  );
}
