// Server-sent events over fetch: EventSource cannot send the Authorization header, so the
// stream is read from a fetch Response and framed by eventsource-parser.
import { EventSourceParserStream } from "eventsource-parser/stream";
import { responseError } from "../api/errors";

export interface ServerEvent {
  event: string;
  data: string;
}

/** Every event of a text/event-stream response, until it ends or `signal` aborts. */
export async function* readEvents(response: Response): AsyncGenerator<ServerEvent> {
  if (!response.ok) throw await responseError(response);
  if (!response.body) return;
  const events = response.body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream());
  const reader = events.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield { event: value.event ?? "message", data: value.data };
    }
  } finally {
    reader.releaseLock();
  }
}
