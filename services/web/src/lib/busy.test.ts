import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, responseError, retryAfterSeconds } from "../api/errors";
import { busyMessage, retryOnceWhenBusy } from "./busy";

const busy = (retryAfter: number | null = 5) =>
  new ApiError(503, "generation_busy", "this server is already writing 8 answers", retryAfter);

afterEach(() => vi.useRealTimers());

describe("Retry-After", () => {
  it("reads a delay in seconds or an HTTP date, and nothing else", () => {
    const now = Date.parse("2026-12-07T10:00:00Z");
    expect(retryAfterSeconds("7", now)).toBe(7);
    expect(retryAfterSeconds("Mon, 07 Dec 2026 10:00:30 GMT", now)).toBe(30);
    expect(retryAfterSeconds("soon", now)).toBeNull();
    expect(retryAfterSeconds(null, now)).toBeNull();
  });

  it("comes with the refusal read from a response", async () => {
    const error = await responseError(Response.json({ error: { code: "generation_busy", message: "busy" } },
      { status: 503, headers: { "Retry-After": "3" } }));
    expect([error.status, error.code, error.retryAfter]).toEqual([503, "generation_busy", 3]);
  });
});

describe("retryOnceWhenBusy", () => {
  it("waits as long as the refusal asks, then asks once more", async () => {
    vi.useFakeTimers();
    const attempt = vi.fn().mockRejectedValueOnce(busy(3)).mockResolvedValueOnce("answer");
    const waits: number[] = [];
    const done = retryOnceWhenBusy(attempt, (s) => waits.push(s), new AbortController().signal);
    await vi.advanceTimersByTimeAsync(2900);
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(waits).toEqual([3]);
    await vi.advanceTimersByTimeAsync(100);
    await expect(done).resolves.toBe("answer");
    expect(attempt).toHaveBeenCalledTimes(2);
    expect(waits).toEqual([3, 0]);
  });

  it("gives up after the second busy refusal, with the wait it asks for", async () => {
    vi.useFakeTimers();
    const attempt = vi.fn().mockRejectedValueOnce(busy(null)).mockRejectedValueOnce(busy(9));
    const done = retryOnceWhenBusy(attempt, () => {}, new AbortController().signal);
    const caught = done.catch((error: ApiError) => error);
    await vi.advanceTimersByTimeAsync(5000); // no Retry-After: the gateway's 5 s
    const error = await caught;
    expect(attempt).toHaveBeenCalledTimes(2);
    expect(busyMessage(error as ApiError)).toMatch(/still busy.*Try again in 9 seconds; what you asked is kept/);
  });

  it("does not retry other refusals, and stops waiting when aborted", async () => {
    const refused = vi.fn().mockRejectedValue(new ApiError(503, "inference_unavailable", "down"));
    await expect(retryOnceWhenBusy(refused, () => {}, new AbortController().signal)).rejects.toMatchObject({ code: "inference_unavailable" });
    expect(refused).toHaveBeenCalledTimes(1);

    const abort = new AbortController();
    const attempt = vi.fn().mockRejectedValue(busy(60));
    const done = retryOnceWhenBusy(attempt, () => abort.abort(), abort.signal);
    await expect(done).rejects.toBeDefined();
    expect(attempt).toHaveBeenCalledTimes(1);
  });
});
