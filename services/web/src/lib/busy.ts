// The gateway admits only so many generations (answers, summaries) at once and refuses the next
// with 503 `generation_busy` and a Retry-After, having started and counted nothing. The app says
// so, waits that long and asks once more; the question stays where the user typed it.
import { ApiError } from "../api/errors";

/** The wait when a refusal gives no Retry-After (the gateway's own is 5 s). */
export const DEFAULT_WAIT_S = 5;

/** A refusal because the model is writing as many answers as it takes at once. */
export function isGenerationBusy(error: unknown): error is ApiError {
  return error instanceof ApiError && error.status === 503 && error.code === "generation_busy";
}

/** How long a busy refusal asks us to wait, in seconds. */
export function busyWait(error: ApiError): number {
  return error.retryAfter ?? DEFAULT_WAIT_S;
}

/** What to tell the user when the model is still busy after the retry. */
export function busyMessage(error: ApiError): string {
  const wait = busyWait(error);
  return `The model is still busy with other people's questions. Try again in ${wait} second${wait === 1 ? "" : "s"}; `
    + "what you asked is kept.";
}

/** Resolves after `seconds`, or rejects at once when `signal` aborts. */
export function sleep(seconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => { signal.removeEventListener("abort", stop); resolve(); }, seconds * 1000);
    const stop = () => { clearTimeout(timer); reject(signal.reason); };
    signal.addEventListener("abort", stop, { once: true });
  });
}

/**
 * `attempt()`, and when the model is busy, `onWait(seconds)`, the wait, and one more attempt
 * (its refusal, busy again or not, is thrown). `onWait(0)` says the wait is over. Aborting
 * `signal` ends the wait at once.
 */
export async function retryOnceWhenBusy<T>(attempt: () => Promise<T>, onWait: (seconds: number) => void,
  signal: AbortSignal): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (!isGenerationBusy(error)) throw error;
    const seconds = busyWait(error);
    onWait(seconds);
    try {
      await sleep(seconds, signal);
    } finally {
      onWait(0);
    }
    return attempt();
  }
}
