import { apiUrl, toApiError } from "../api/errors";
import type { Answer } from "../api/types";
import type { Session } from "../auth/session";
import { readEvents } from "./sse";

export interface AskHandlers {
  onToken: (text: string) => void;
  onModel?: (model: string) => void;
}

/** Asks a question with streaming: tokens as they come, then the recorded answer. */
export async function askStreaming(session: Session, collectionId: string, question: string,
  handlers: AskHandlers, signal: AbortSignal): Promise<Answer> {
  const response = await session.authFetch(new Request(
    apiUrl(`/api/v1/collections/${encodeURIComponent(collectionId)}/ask`), {
      method: "POST", signal,
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ question, stream: true }),
    }));
  for await (const event of readEvents(response)) {
    const data = JSON.parse(event.data);
    if (event.event === "token") handlers.onToken(data.text as string);
    else if (event.event === "start") handlers.onModel?.(data.model as string);
    else if (event.event === "answer") return data as Answer;
    else if (event.event === "error") throw toApiError(502, data);
  }
  throw toApiError(502, { error: { code: "stream_ended", message: "the answer stream ended early" } });
}

/** The filters retrieval used, and which words of the question they came from. */
export function describeFilters(answer: Answer): string {
  const counted = answer.filters?.counted as { report?: string; field?: string } | null | undefined;
  const how = counted ? ` · counted exactly (${counted.report} report, ${counted.field})` : "";
  return how + describeApplied(answer);
}

function describeApplied(answer: Answer): string {
  const applied = Object.entries(answer.filters?.applied ?? {})
    .filter(([, value]) => value !== null && value !== undefined && !(Array.isArray(value) && !value.length));
  if (!applied.length) return "";
  const fromQuestion = answer.filters?.from_question ?? {};
  return " · searched with " + applied.map(([name, value]) => {
    const shown = Array.isArray(value) ? value.join(" or ") : String(value);
    const words = fromQuestion[name];
    return words ? `${name} ${shown} (from “${words}”)` : `${name} ${shown}`;
  }).join(", ");
}
