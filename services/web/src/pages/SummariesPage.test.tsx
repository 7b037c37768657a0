import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { fakeSession, renderWithServices } from "../test/render";
import SummariesPage from "./SummariesPage";

const CITED = { n: 1, message_id: "m1", chat: "Team Lisbon", sender: "Marta", sent_at: "2025-02-03T09:08:00Z",
  text: "Budget got approved on Friday" };
const SUMMARY = { id: "s1", collection_id: "c1", summary: "The budget was approved [1]. <b>bold</b> stays text.",
  citations: [CITED], chunks: 1, messages: 12, filters: {}, model: "smollm2", version: 3, created_at: "2025-03-01T00:00:00Z" };
const MESSAGE = { version: 3, message: { message_id: "m1", platform: "whatsapp", chat: "Team Lisbon", sender: "Marta",
  sent_at: CITED.sent_at, text: CITED.text }, before: [], after: [] };

/** The gateway's summary route (and the routes the form reads), recording the body sent. */
function fakeApi(reply: () => Response = () => Response.json(SUMMARY, { status: 201 })) {
  const bodies: unknown[] = [];
  const fetch = vi.fn(async (request: Request) => {
    const { pathname } = new URL(request.url);
    if (request.method === "POST" && pathname.endsWith("/summaries")) {
      bodies.push(await request.json());
      return reply();
    }
    if (pathname.includes("/messages/")) return Response.json(MESSAGE);
    if (pathname.endsWith("/analytics/people")) return Response.json({ people: [], total: 0, timezone: "UTC", version: 3 });
    return Response.json({ versions: [] });
  });
  return { fetch, bodies };
}

function renderPage(fetch: (request: Request) => Promise<Response>) {
  renderWithServices(
    <MemoryRouter initialEntries={["/collections/c1/summaries"]}>
      <Routes><Route path="/collections/:collectionId/summaries" element={<SummariesPage />} /></Routes>
    </MemoryRouter>,
    fakeSession(fetch),
  );
}

describe("SummariesPage", () => {
  it("summarises the chosen chat and period, and a reference opens the cited message", async () => {
    const api = fakeApi();
    renderPage(api.fetch);
    const user = userEvent.setup();
    await user.type(screen.getByRole("textbox", { name: "Chat" }), "Team Lisbon{Enter}");
    await user.type(screen.getByLabelText("From"), "2025-02-01");
    await user.click(screen.getByRole("button", { name: "Summarise" }));
    const text = await screen.findByTestId("summary-text");
    expect(text).toHaveTextContent("The budget was approved [1]. <b>bold</b> stays text.");
    expect(text.querySelector("b")).toBeNull();
    expect(api.bodies).toEqual([{ chat: ["Team Lisbon"], since: "2025-02-01" }]);
    expect(screen.getByTestId("summary-scope")).toHaveTextContent("12 messages summarised by smollm2 · version 3");
    await user.click(within(text).getByRole("button", { name: "Open cited message 1 from Marta" }));
    expect(await screen.findByTestId("opened-message")).toHaveTextContent("Budget got approved on Friday");
  });

  it("when the model is busy, says so with the wait, asks once more by itself, and keeps the scope", async () => {
    const busy = () => Response.json({ error: { code: "generation_busy", message: "already writing 8 answers" } },
      { status: 503, headers: { "Retry-After": "1" } });
    const replies = [busy, () => Response.json(SUMMARY, { status: 201 }), busy, busy];
    const api = fakeApi(() => replies.shift()!());
    renderPage(api.fetch);
    const user = userEvent.setup();
    await user.type(screen.getByRole("textbox", { name: "Chat" }), "Team Lisbon{Enter}");
    await user.click(screen.getByRole("button", { name: "Summarise" }));
    expect(await screen.findByTestId("busy-notice")).toHaveTextContent("Asking again by itself in 1 second");
    expect(await screen.findByTestId("summary-text", {}, { timeout: 3000 })).toHaveTextContent("The budget was approved");
    expect(screen.queryByTestId("busy-notice")).toBeNull();
    expect(api.bodies).toEqual([{ chat: ["Team Lisbon"] }, { chat: ["Team Lisbon"] }]);

    await user.click(screen.getByRole("button", { name: "Summarise" }));
    expect(await screen.findByRole("alert", {}, { timeout: 3000 })).toHaveTextContent(
      "The model is still busy with other people's questions. Try again in 1 second; what you asked is kept.");
    expect(api.bodies).toHaveLength(4);
    expect(screen.getByText("Team Lisbon")).toBeInTheDocument(); // the chosen chat is still there
  });

  it("shows a refusal's message where the user asked", async () => {
    const api = fakeApi(() => Response.json({ error: { code: "invalid_date", message: "since: 'x' is not a date" } },
      { status: 422 }));
    renderPage(api.fetch);
    await userEvent.setup().click(screen.getByRole("button", { name: "Summarise" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("since: 'x' is not a date");
  });
});
