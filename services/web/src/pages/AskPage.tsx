import { Alert, Button, Card, Group, Stack, Text, Textarea } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useParams } from "react-router";
import { ApiError, errorMessage } from "../api/errors";
import type { Answer, Citation } from "../api/types";
import { AnswerGrounding } from "../components/answers/AnswerGrounding";
import { BusyNotice } from "../components/BusyNotice";
import { CitationChips, CitedText } from "../components/CitedText";
import { MessageInContext } from "../components/MessageInContext";
import { TokenQuotaNotice } from "../components/TokenQuotaNotice";
import { askStreaming, describeFilters } from "../lib/ask";
import { busyMessage, isGenerationBusy, retryOnceWhenBusy } from "../lib/busy";
import { useServices } from "../services";

/** A question answered by the local model, streamed, with the messages it cites one click away. */
export default function AskPage() {
  const { session } = useServices();
  const queryClient = useQueryClient();
  const { collectionId = "" } = useParams();
  const [question, setQuestion] = useState("");
  const [streamed, setStreamed] = useState("");
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busyUntil, setBusyUntil] = useState<number | null>(null);
  const [running, setRunning] = useState(false);
  const [opened, setOpened] = useState<Citation | null>(null);
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), []);

  async function ask(event: FormEvent) {
    event.preventDefault();
    if (!question.trim() || running) return;
    abort.current = new AbortController();
    setRunning(true);
    setStreamed("");
    setAnswer(null);
    setError(null);
    try {
      const signal = abort.current.signal;
      // A busy model refuses before writing anything: wait as asked, then ask once more.
      const final = await retryOnceWhenBusy(() => askStreaming(session, collectionId, question.trim(),
        { onToken: (text) => setStreamed((so) => so + text) }, signal),
      (seconds) => setBusyUntil(seconds ? Date.now() + seconds * 1000 : null), signal);
      setAnswer(final);
    } catch (caught) {
      if (abort.current.signal.aborted) setError("Stopped.");
      else if (isGenerationBusy(caught)) setError(busyMessage(caught));
      else setError(caught instanceof ApiError ? caught.message : errorMessage(caught));
    } finally {
      setRunning(false);
      void queryClient.invalidateQueries({ queryKey: ["quotas"] }); // the answer spent tokens
    }
  }

  return (
    <Stack>
      <TokenQuotaNotice />
      <form onSubmit={ask}>
        <Stack gap="xs">
          <Textarea label="Ask a question" autosize minRows={2} placeholder="When is the offsite in Lisbon?"
            value={question} onChange={(e) => setQuestion(e.currentTarget.value)}
            onKeyDown={(e) => { if (e.key === "Enter" && !e.shiftKey) ask(e); }} />
          <Group>
            <Button type="submit" loading={running} disabled={!question.trim()}>Ask</Button>
            {running && <Button variant="default" color="red" onClick={() => abort.current?.abort()}>Stop</Button>}
          </Group>
        </Stack>
      </form>
      {busyUntil !== null && <BusyNotice until={busyUntil} />}
      {((running && busyUntil === null) || streamed || answer) && (
        <Card withBorder aria-live="polite" aria-busy={running}>
          <Stack gap="sm">
            {answer ? (
              <CitedText text={answer.answer} citations={answer.citations} onOpen={setOpened} testId="answer-text" />
            ) : (
              <Text className="chat-text" data-testid="answer-text">{streamed}</Text>
            )}
            {answer && <AnswerGrounding answer={answer} />}
            {answer && <CitationChips citations={answer.citations} onOpen={setOpened} testId="citation" />}
            {answer && (
              <Text size="xs" c="dimmed" data-testid="answer-scope">
                {answer.model ? `Answered by ${answer.model}` : "No answer from the model"} · version {answer.version}
                {describeFilters(answer)}
              </Text>
            )}
          </Stack>
        </Card>
      )}
      {error && <Alert color={error === "Stopped." ? "gray" : "red"} role="alert">{error}</Alert>}
      <MessageInContext collectionId={collectionId} messageId={opened?.message_id ?? null}
        version={answer?.version} onClose={() => setOpened(null)} />
    </Stack>
  );
}
