import { Alert, List, Text } from "@mantine/core";
import type { Answer } from "../../api/types";

type Grounding = NonNullable<Answer["grounding"]>;

/** Why an answer is a quote rather than the model's words, in the reader's terms. */
export const QUOTED_BECAUSE: Record<Exclude<Grounding["reason"], "supported" | "recited">, string> = {
  unsupported_claims: "The model's answer stated something its sources do not say, so the message that best answers the question is quoted instead.",
  no_information: "The model's answer added nothing the messages say beyond the question, so the message that best answers it is quoted instead.",
  nothing_to_quote: "The model's answer could not be checked: no retrieved message shares a word with the question.",
  echoed_prompt: "The model repeated its instructions instead of answering, so the message that best answers the question is quoted instead (or, when none does, the answer says so).",
};

/**
 * What the gateway's check of an answer against its citations found: shown when the answer is a
 * quote (extractive) with its reason and the claims that were dropped, when the sources disagree,
 * and when the model's answer now cites another message that states it (recited).
 */
export function AnswerGrounding({ answer }: { answer: Answer }) {
  const grounding = answer.grounding;
  if (!grounding) return null;
  const disagreements = grounding.disagreements.length > 0 && (
    <Alert color="orange" title="The sources disagree" data-testid="answer-disagreements">
      <List size="sm">
        {grounding.disagreements.map((line) => <List.Item key={line}><span className="chat-text">{line}</span></List.Item>)}
      </List>
    </Alert>
  );
  if (grounding.extractive || answer.extractive) {
    const reason = grounding.reason === "supported" || grounding.reason === "recited" ? null : QUOTED_BECAUSE[grounding.reason];
    return (
      <>
        <Alert color="yellow" title="Quoted from the messages, not the model's words" data-testid="answer-grounding"
          data-reason={grounding.reason}>
          <Text size="sm">{reason}</Text>
          {grounding.unsupported.length > 0 && (
            <Text size="sm" mt={4}>
              Not stated by its sources: <span className="chat-text">{grounding.unsupported.join("; ")}</span>
            </Text>
          )}
        </Alert>
        {disagreements}
      </>
    );
  }
  return (
    <>
      <Text size="xs" c="dimmed" data-testid="answer-grounding" data-reason={grounding.reason}>
        {grounding.reason === "recited"
          ? "The model's answer: everything it states is in the message it now cites (the model had numbered another)."
          : "The model's answer: every name, number, date and place in it is stated by its citations."}
      </Text>
      {disagreements}
    </>
  );
}
