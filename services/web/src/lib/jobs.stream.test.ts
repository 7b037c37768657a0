import { describe, expect, it, vi } from "vitest";
import type { Job } from "../api/types";
import type { Session } from "../auth/session";
import { watchJob } from "./jobs";

function eventStream(chunks: string[]): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const encoder = new TextEncoder();
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
}

const view = (stage: string, done: number, status = "running") => JSON.stringify({
  id: "j1", status, progress: { stage, done, total: 10 }, stats: status === "succeeded" ? { added: 10, duplicates: 0 } : null,
});

describe("watchJob", () => {
  it("follows progress events split anywhere, keepalives included, until done", async () => {
    const text = `event: progress\ndata: ${view("parsing", 0)}\n\n: keepalive\n\n`
      + `event: progress\ndata: ${view("embedding", 5)}\n\nevent: done\ndata: ${view("indexing", 10, "succeeded")}\n\n`;
    const chunks = [text.slice(0, 17), text.slice(17, 90), text.slice(90)];
    const session = { authFetch: vi.fn(async () => eventStream(chunks)) } as unknown as Session;
    const seen: Job[] = [];
    const final = await watchJob(session, "j1", (job) => seen.push(job), new AbortController().signal);
    expect(seen.map((job) => job.progress.stage)).toEqual(["parsing", "embedding", "indexing"]);
    expect(final?.status).toBe("succeeded");
    const request = (session.authFetch as ReturnType<typeof vi.fn>).mock.calls[0][0] as Request;
    expect(new URL(request.url).pathname).toBe("/api/v1/jobs/j1/events");
  });

  it("turns a refused stream into the API's error", async () => {
    const refused = new Response(JSON.stringify({ error: { code: "not_found", message: "no such job" } }),
      { status: 404, headers: { "Content-Type": "application/json" } });
    const session = { authFetch: vi.fn(async () => refused) } as unknown as Session;
    await expect(watchJob(session, "nope", () => {}, new AbortController().signal))
      .rejects.toMatchObject({ status: 404, code: "not_found", message: "no such job" });
  });
});
