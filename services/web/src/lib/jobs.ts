import { apiUrl } from "../api/errors";
import type { Job } from "../api/types";
import type { Session } from "../auth/session";
import { readEvents } from "./sse";

/** Follows a job over SSE, calling `onJob` with every state until it is done (or aborted). */
export async function watchJob(session: Session, jobId: string, onJob: (job: Job) => void,
  signal: AbortSignal): Promise<Job | null> {
  const response = await session.authFetch(
    new Request(apiUrl(`/api/v1/jobs/${encodeURIComponent(jobId)}/events`), { signal, headers: { Accept: "text/event-stream" } }),
  );
  let last: Job | null = null;
  for await (const event of readEvents(response)) {
    if (event.event !== "progress" && event.event !== "done") continue;
    last = JSON.parse(event.data) as Job;
    onJob(last);
    if (event.event === "done") break;
  }
  return last;
}

/** "N new, M already there" from a finished job's stats, as the CLI says it. */
export function jobOutcome(job: Job): string {
  const stats = (job.stats ?? {}) as Record<string, unknown>;
  if (job.status === "failed") {
    const error = (job.error ?? {}) as Record<string, unknown>;
    return `failed: ${String(error.message ?? error.code ?? "unknown error")}`;
  }
  if (typeof stats.added === "number") {
    return `${stats.added} new, ${Number(stats.duplicates ?? 0)} already there`;
  }
  if (typeof stats.messages === "number") return `${stats.messages} messages`;
  return job.status;
}

export const STAGE_LABELS: Record<string, string> = {
  queued: "Queued",
  running: "Starting",
  parsing: "Parsing",
  embedding: "Embedding",
  indexing: "Indexing",
};
