// The dashboard's newer reports: interaction, language, calendar, people across platforms, and
// the drill-downs that list a figure's messages (the heatmap's slot, a calendar day, a pair).
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createMemoryRouter, RouterProvider } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { fakeSession, fakeToken, renderWithServices } from "../test/render";
import DashboardPage from "./DashboardPage";

const heatmap = Array.from({ length: 7 }, (_, day) => Array.from({ length: 24 }, (_, hour) => (day === 0 && hour === 9 ? 12 : 0)));
const REPORTS: Record<string, unknown> = {
  overview: { messages: 0, participants: 0, chats: 0, words: 0, media: 0, links: 0, edited: 0, deleted: 0, system_events: 0,
    first: null, last: null, active_days: 0, span_days: 0, average_per_day: 0, average_per_active_day: 0, busiest_day: null,
    busiest_hour: null, busiest_weekday: null, busiest_month: null, longest_streak: null, longest_silence: null,
    timezone: "Europe/Lisbon", version: 4 },
  activity: { bucket: "week", stack: null, timezone: "Europe/Lisbon", version: 4, heatmap, series: [], lengths: [] },
  people: { total: 0, timezone: "UTC", version: 4, people: [] },
  conversations: { count: 0, gap_minutes: 30, median_messages: null, median_seconds: null, messages: 0, timezone: "UTC",
    version: 4, sizes: [], started_by: [], ended_by: [], longest: null },
  interaction: { timezone: "UTC", version: 4, bucket: "month",
    replies: [{ sender: "Sam", recipient: "Marta", count: 7, median_seconds: 120 }, { sender: "Marta", recipient: "Sam", count: 2, median_seconds: 4000 }],
    responses: [], mentions: [{ sender: "Marta", recipient: "Sam", count: 1 }],
    threads: { count: 1, messages: 4, median_messages: 4, longest: [] },
    reply_trees: { count: 2, messages: 9, deepest: 3, longest: [] },
    over_time: [{ bucket: "2025-02", replies: 9, responses: 3, median_response_seconds: 600 }] },
  language: { timezone: "UTC", version: 4, languages: ["en", "pt"], messages: 1240,
    words: [{ word: "porto", count: 12 }, { word: "=cmd", count: 2 }], phrases: [{ phrase: "team offsite", count: 3 }],
    emoji: [{ emoji: "🎉", count: 5 }], domains: [{ domain: "example.org", count: 4 }],
    words_by_month: [{ word: "porto", month: "2025-01", count: 4 }, { word: "porto", month: "2025-02", count: 8 }],
    sentiment: { model: "vaderSentiment", scored: 40, positive: 0.5, neutral: 0.4, negative: 0.1,
      months: [{ month: "2025-01", messages: 20, mean: 0.2 }, { month: "2025-02", messages: 20, mean: -0.1 }] } },
  calendar: { timezone: "UTC", version: 4, year: 2025, years: [2024, 2025], total: 14, max: 9,
    days: [{ day: "2025-02-14", messages: 9 }, { day: "2025-03-01", messages: 5 }] },
  identities: { timezone: "UTC", version: 4, total: 1, senders: 3, people: { "Sam W": ["Sam", "Wei"] },
    suggestions: [{ evidence: ["same name"], messages: 9, senders: [
      { sender: "Marta", platforms: ["whatsapp"], chats: 1, messages: 7, first_seen: "2025-01-02T09:00:00Z", last_seen: "2025-03-01T09:00:00Z" },
      { sender: "~ Marta", platforms: ["telegram"], chats: 2, messages: 2, first_seen: "2025-02-02T09:00:00Z", last_seen: "2025-02-03T09:00:00Z" }] }] },
  messages: { timezone: "Europe/Lisbon", version: 4, total: 12, messages: [
    { message_id: "m1", platform: "whatsapp", chat: "Team", sender: "Mallory", sent_at: "2025-02-10T09:15:00+00:00", kind: "text",
      text: "<img src=x onerror=alert(1)> see you at 9" }] },
};

function fakeApi(perms: string[]) {
  const queries: Record<string, URLSearchParams[]> = {};
  const posts: unknown[] = [];
  const fetch = vi.fn(async (request: Request) => {
    const url = new URL(request.url);
    if (url.pathname === "/api/v1/auth/refresh") {
      return Response.json({ access_token: fakeToken(perms), expires_in: 900, token_type: "Bearer" });
    }
    if (request.method === "POST" && url.pathname === "/api/v1/collections/c1/people") {
      posts.push(await request.json());
      return Response.json({ version: 5, changed: true, people: {} });
    }
    const report = url.pathname.match(/analytics\/(\w+)$/)?.[1];
    if (report) {
      (queries[report] ??= []).push(url.searchParams);
      return Response.json(REPORTS[report]);
    }
    return Response.json({ versions: [] });
  });
  return { fetch, queries, posts };
}

async function renderAt(url: string, perms = ["search:read", "collections:read"]) {
  const api = fakeApi(perms);
  const router = createMemoryRouter([
    { path: "/collections/:collectionId/dashboard", element: <DashboardPage /> },
    { path: "/collections/:collectionId/search", element: <p>search page</p> },
  ], { initialEntries: [url] });
  const session = fakeSession(api.fetch);
  await session.restore();
  renderWithServices(<RouterProvider router={router} />, session);
  return { api, router };
}

describe("the dashboard's newer reports", () => {
  it("a heatmap cell lists the messages of its slot, in the zone, as text", async () => {
    const { api } = await renderAt("/collections/c1/dashboard?sender=Marta&timezone=Europe%2FLisbon");
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Show the 12 messages of Monday 09:00–10:00" }));
    const drawer = await screen.findByTestId("drill-messages");
    expect(within(drawer).getByText("The first 1 of 12 messages, in Europe/Lisbon")).toBeInTheDocument();
    expect(within(drawer).getByText("<img src=x onerror=alert(1)> see you at 9")).toBeInTheDocument();
    expect(document.querySelector("img[src=x]")).toBeNull();
    const asked = api.queries.messages.at(-1)!;
    expect([asked.getAll("hour"), asked.getAll("weekday"), asked.getAll("sender"), asked.get("timezone")])
      .toEqual([["9"], ["0"], ["Marta"], "Europe/Lisbon"]);
  });

  it("the interaction matrix shows who replies to whom, how fast, and drills to the replier", async () => {
    const { api } = await renderAt("/collections/c1/dashboard?tab=interaction&timezone=UTC");
    const user = userEvent.setup();
    const matrix = await screen.findByTestId("interaction-matrix");
    // The visible text first ("7 · 2 min"), then the rest in words.
    const cell = within(matrix).getByRole("button", { name: "7 · 2 min (Sam replied to Marta 7 times, median wait 2 min; show Sam's messages)" });
    expect(within(matrix).getByRole("button", { name: /^2 · 1 h 7 min \(Marta replied to Sam 2 times, median wait 1 h 7 min/ })).toBeInTheDocument();
    await user.click(cell);
    await screen.findByTestId("drill-messages");
    expect(api.queries.messages.at(-1)!.getAll("sender")).toEqual(["Sam"]);
    await user.click(screen.getByRole("radio", { name: "@mentions" }));
    expect(within(screen.getByTestId("interaction-matrix")).getByRole("button", { name: /Marta mentioned Sam 1 times/ })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Download Who replies to whom as PNG" })).toBeEnabled();
  });

  it("a word of the language report searches for it with the dashboard's filters", async () => {
    const { router } = await renderAt("/collections/c1/dashboard?tab=language&chat=Team&timezone=UTC");
    const user = userEvent.setup();
    expect(await screen.findByText("Positive")).toBeInTheDocument();
    expect(screen.getByText(/^Counted over all 1,240 messages with text, leaving out the stop words of en, pt\./)).toBeInTheDocument();
    await user.click(await screen.findByRole("link", { name: "Search for porto" }));
    expect(router.state.location.pathname).toBe("/collections/c1/search");
    expect(new URLSearchParams(router.state.location.search).get("q")).toBe("porto");
    expect(new URLSearchParams(router.state.location.search).get("mode")).toBe("keyword");
    expect(new URLSearchParams(router.state.location.search).getAll("chat")).toEqual(["Team"]);
  });

  it("a calendar day lists its messages, the day read in the zone", async () => {
    const { api } = await renderAt("/collections/c1/dashboard?tab=calendar&timezone=Asia%2FTokyo");
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Friday 2025-02-14: 9 messages: show them" }));
    await screen.findByTestId("drill-messages");
    const asked = api.queries.messages.at(-1)!;
    expect([asked.get("since"), asked.get("until"), asked.get("timezone")]).toEqual(["2025-02-14", "2025-02-15", "Asia/Tokyo"]);
    expect(screen.queryByRole("button", { name: /2025-02-15: 0 messages/ })).toBeNull();
  });

  it("a viewer sees the suggested people with their evidence and no merge or split", async () => {
    await renderAt("/collections/c1/dashboard?tab=identities&timezone=UTC");
    const suggestion = await screen.findByTestId("identity-suggestion");
    expect(within(suggestion).getByText("same name")).toBeInTheDocument();
    expect(screen.getByTestId("merged-person")).toHaveTextContent("Sam W: Sam, Wei");
    expect(screen.queryByRole("button", { name: /Merge/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /Split/ })).toBeNull();
  });

  it("an analyst merges a suggestion under a name after a confirmation, and splits a person", async () => {
    const { api } = await renderAt("/collections/c1/dashboard?tab=identities&timezone=UTC",
      ["search:read", "collections:read", "collections:write"]);
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Merge Marta + ~ Marta" }));
    const name = await screen.findByRole("textbox", { name: "The person's name" });
    await user.clear(name);
    await user.type(name, "Marta Silva");
    await user.click(screen.getByRole("button", { name: "Merge" }));
    await vi.waitFor(() => expect(api.posts).toEqual([{ action: "merge", person: "Marta Silva", senders: ["Marta", "~ Marta"] }]));
    await user.click(screen.getByRole("button", { name: "Split Sam W" }));
    await user.click(await screen.findByRole("button", { name: "Split" }));
    await vi.waitFor(() => expect(api.posts.at(-1)).toEqual({ action: "split", person: "Sam W", senders: [] }));
  });
});
