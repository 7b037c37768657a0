import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createMemoryRouter, RouterProvider } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { fakeSession, renderWithServices } from "../test/render";
import DashboardPage from "./DashboardPage";

const heatmap = Array.from({ length: 7 }, (_, day) => Array.from({ length: 24 }, (_, hour) => (day === 0 && hour === 9 ? 12 : 0)));
const REPORTS: Record<string, unknown> = {
  overview: { messages: 120, participants: 3, chats: 2, words: 900, media: 4, links: 2, edited: 0, deleted: 1,
    system_events: 5, first: "2025-01-02T09:00:00Z", last: "2025-03-01T18:00:00Z", active_days: 20, span_days: 58,
    average_per_day: 2.1, average_per_active_day: 6, busiest_day: { day: "2025-02-14", messages: 30 },
    busiest_hour: { hour: 9, messages: 12 }, busiest_weekday: { weekday: 1, messages: 40 },
    busiest_month: { month: "2025-02", messages: 80 }, longest_streak: { days: 5, first: "2025-02-10", last: "2025-02-14" },
    longest_silence: { seconds: 7200, after: "2025-01-02T10:00:00Z", until: "2025-01-02T12:00:00Z" },
    timezone: "UTC", version: 4 },
  activity: { bucket: "week", stack: null, timezone: "UTC", version: 4, heatmap,
    series: [{ bucket: "2025-02-10", key: null, messages: 30 }], lengths: [{ min: 0, max: 10, messages: 50 }] },
  people: { total: 2, timezone: "UTC", version: 4, people: [
    { sender: "Marta", messages: 80, share: 0.667, words: 600, average_length: 40, active_days: 15, media: 2, links: 1,
      emoji: 3, conversations_started: 5, conversations_ended: 4, replies_given: 10, replies_received: 8,
      median_response_seconds: 300, first_seen: "2025-01-02T09:00:00Z", last_seen: "2025-03-01T18:00:00Z" },
    { sender: "=cmd|' /C calc'!A0", messages: 40, share: 0.333, words: 300, average_length: 30, active_days: 9, media: 2,
      links: 1, emoji: 0, conversations_started: 2, conversations_ended: 3, replies_given: 8, replies_received: 10,
      median_response_seconds: null, first_seen: "2025-01-03T09:00:00Z", last_seen: "2025-02-20T18:00:00Z" }] },
  conversations: { count: 7, gap_minutes: 30, median_messages: 6, median_seconds: 900, messages: 120, timezone: "UTC",
    version: 4, sizes: [{ min: 1, max: 2, conversations: 2 }], started_by: [{ sender: "Marta", conversations: 5 }],
    ended_by: [{ sender: null, conversations: 1 }], longest: null },
};

/** The gateway's analytics routes (and the version list), recording each report's query. */
function fakeApi() {
  const queries: Record<string, URLSearchParams[]> = {};
  const fetch = vi.fn(async (request: Request) => {
    const url = new URL(request.url);
    const report = url.pathname.match(/analytics\/(\w+)$/)?.[1];
    if (report) {
      (queries[report] ??= []).push(url.searchParams);
      return Response.json(REPORTS[report]);
    }
    return Response.json({ versions: [] });
  });
  return { fetch, queries };
}

function renderAt(url: string, fetch: (request: Request) => Promise<Response>) {
  const router = createMemoryRouter([
    { path: "/collections/:collectionId/dashboard", element: <DashboardPage /> },
    { path: "/collections/:collectionId/search", element: <p>search page</p> },
  ], { initialEntries: [url] });
  renderWithServices(<RouterProvider router={router} />, fakeSession(fetch));
  return router;
}

describe("DashboardPage", () => {
  it("shows every report under the URL's filters", async () => {
    const api = fakeApi();
    renderAt("/collections/c1/dashboard?sender=Marta&since=2025-02-01&timezone=Europe%2FLisbon",
      api.fetch);
    const overview = await screen.findByRole("region", { name: "Overview" });
    expect(await within(overview).findByText("Busiest weekday")).toBeInTheDocument();
    expect(within(overview).getByText("Monday (40)")).toBeInTheDocument();
    expect(within(overview).getByText("2025-02-14 (30)")).toBeInTheDocument();
    expect(await screen.findByTitle("Monday 09:00–10:00: 12 messages")).toHaveTextContent("12");
    expect(await screen.findByText("Median duration")).toBeInTheDocument();
    for (const report of ["overview", "activity", "people", "conversations"]) {
      // (people is also asked without the sender, for the sender box's suggestions)
      const query = api.queries[report].find((q) => q.getAll("sender").length > 0)!;
      expect(query.getAll("sender")).toEqual(["Marta"]);
      expect([query.get("since"), query.get("timezone")]).toEqual(["2025-02-01", "Europe/Lisbon"]);
    }
    expect(api.queries.people.some((q) => q.getAll("sender").length === 0)).toBe(true);
  });

  it("drills down from a person to the search with the dashboard's filters", async () => {
    const api = fakeApi();
    const router = renderAt("/collections/c1/dashboard?chat=general&timezone=UTC", api.fetch);
    const user = userEvent.setup();
    await user.click(await screen.findByRole("link", { name: "Search the messages of Marta" }));
    expect(router.state.location.pathname).toBe("/collections/c1/search");
    expect(router.state.location.search).toBe("?chat=general&sender=Marta");
  });

  it("offers the activity as a table whose counts open their messages", async () => {
    const api = fakeApi();
    const router = renderAt("/collections/c1/dashboard?timezone=UTC", api.fetch);
    const user = userEvent.setup();
    const card = await screen.findByRole("region", { name: "Messages over time" });
    await user.click(within(card).getByText("Table"));
    await user.click(await within(card).findByRole("link", { name: "Search the 30 messages of 2025-02-10" }));
    expect(router.state.location.search).toBe("?since=2025-02-10&until=2025-02-17");
  });

  it("changing a filter asks every report again with it", async () => {
    const api = fakeApi();
    renderAt("/collections/c1/dashboard?timezone=UTC", api.fetch);
    const user = userEvent.setup();
    await screen.findByText("Busiest weekday");
    await user.type(screen.getByRole("textbox", { name: "Chat" }), "general{Enter}");
    await vi.waitFor(() => expect(api.queries.overview.at(-1)!.getAll("chat")).toEqual(["general"]));
    expect(api.queries.people.at(-1)!.getAll("chat")).toEqual(["general"]);
  });
});
