import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { fakeSession, fakeToken, renderWithServices } from "../test/render";
import AskPage from "./AskPage";

const ANSWER = { id: "a1", collection_id: "c1", question: "Where is the offsite?", answer: "In Lisbon.", citations: [],
  model: "smollm2", version: 3, created_at: "2026-12-07T10:00:00Z", filters: null };
const BUSY = () => Response.json({ error: { code: "generation_busy",
  message: "this server is already writing 8 answers, the most it takes at once; try again in a few seconds" } },
{ status: 503, headers: { "Retry-After": "1" } });

function answerStream(): Response {
  const text = `event: start\ndata: {"model":"smollm2"}\n\nevent: token\ndata: {"text":"In Lisbon."}\n\n`
    + `event: answer\ndata: ${JSON.stringify(ANSWER)}\n\n`;
  const body = new ReadableStream<Uint8Array>({
    start(controller) { controller.enqueue(new TextEncoder().encode(text)); controller.close(); },
  });
  return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
}

/** The ask route answering each request with the next reply; the questions it was sent. */
function fakeApi(replies: (() => Response)[]) {
  const asked: unknown[] = [];
  const fetch = vi.fn(async (request: Request) => {
    if (request.method === "POST" && new URL(request.url).pathname === "/api/v1/collections/c1/ask") {
      asked.push(await request.json());
      return (replies.shift() ?? answerStream)();
    }
    return Response.json({ error: { code: "not_found", message: "not in this test" } }, { status: 404 });
  });
  return { fetch, asked };
}

function renderPage(fetch: (request: Request) => Promise<Response>) {
  renderWithServices(
    <MemoryRouter initialEntries={["/collections/c1/ask"]}>
      <Routes><Route path="/collections/:collectionId/ask" element={<AskPage />} /></Routes>
    </MemoryRouter>,
    fakeSession(fetch),
  );
}

describe("AskPage when the model is busy", () => {
  it("says so with the wait, asks again by itself once, and answers", async () => {
    const api = fakeApi([BUSY]);
    renderPage(api.fetch);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Ask a question"), "Where is the offsite?");
    await user.click(screen.getByRole("button", { name: "Ask" }));
    expect(await screen.findByTestId("busy-notice")).toHaveTextContent(/The model is busy.*again by itself in 1 second/);
    expect(await screen.findByText("In Lisbon.", {}, { timeout: 3000 })).toBeInTheDocument();
    expect(screen.queryByTestId("busy-notice")).toBeNull();
    expect(api.asked).toEqual([{ question: "Where is the offsite?", stream: true }, { question: "Where is the offsite?", stream: true }]);
  });

  it("still busy after the retry: says when to try again, and keeps the question", async () => {
    const api = fakeApi([BUSY, BUSY]);
    renderPage(api.fetch);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Ask a question"), "Where is the offsite?");
    await user.click(screen.getByRole("button", { name: "Ask" }));
    expect(await screen.findByRole("alert", {}, { timeout: 3000 }))
      .toHaveTextContent("The model is still busy with other people's questions. Try again in 1 second; what you asked is kept.");
    expect(screen.getByLabelText("Ask a question")).toHaveValue("Where is the offsite?");
    expect(api.asked).toHaveLength(2);
  });
});

describe("AskPage near the end of the daily token quota", () => {
  async function renderWithQuota(remaining: number) {
    const fetch = vi.fn(async (request: Request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/api/v1/auth/refresh") {
        return Response.json({ access_token: fakeToken(["answers:create", "collections:write"]), expires_in: 900, token_type: "Bearer" });
      }
      if (pathname === "/api/v1/quotas") {
        return Response.json({ uploads: { limit: 2000, used: 0, remaining: 2000, resets_in_s: null },
          tokens: { limit: 1000, used: 1000 - remaining, remaining, resets_in_s: 7200 } });
      }
      return Response.json({ error: { code: "not_found", message: "not in this test" } }, { status: 404 });
    });
    const session = fakeSession(fetch);
    await session.restore();
    renderWithServices(
      <MemoryRouter initialEntries={["/collections/c1/ask"]}>
        <Routes><Route path="/collections/:collectionId/ask" element={<AskPage />} /></Routes>
      </MemoryRouter>, session);
    return fetch;
  }

  it("says how many tokens are left and for how long when under a tenth is left", async () => {
    await renderWithQuota(99);
    expect(await screen.findByTestId("token-quota-notice"))
      .toHaveTextContent("Your organisation has 99 of its 1,000 generated tokens a day left, for 2 h 0 min");
  });

  it("says nothing while a tenth or more is left", async () => {
    const fetch = await renderWithQuota(100);
    await vi.waitFor(() => expect(fetch.mock.calls.some(([r]) => new URL(r.url).pathname === "/api/v1/quotas")).toBe(true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(screen.queryByTestId("token-quota-notice")).toBeNull();
  });
});
