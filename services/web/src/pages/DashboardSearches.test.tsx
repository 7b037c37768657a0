// The dashboard's search analytics: what members searched and asked, for those who may see it.
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createMemoryRouter, RouterProvider } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { fakeSession, fakeToken, renderWithServices } from "../test/render";
import DashboardPage from "./DashboardPage";

const downloads = vi.hoisted(() => [] as { filename: string; header: string[]; rows: unknown[][] }[]);
vi.mock("../lib/csv", async (original) => ({
  ...(await original<typeof import("../lib/csv")>()),
  downloadCsv: (filename: string, header: string[], rows: unknown[][]) => downloads.push({ filename, header, rows }),
}));

const SEARCHES = {
  since: "2026-11-01", until: "2026-11-04", queries: 9, zero_results: 3, zero_result_rate: 1 / 3,
  days: [{ day: "2026-11-01", queries: 6, zero_results: 1 }, { day: "2026-11-03", queries: 3, zero_results: 2 }],
  top_queries: [
    { query: "lisbon offsite", count: 4, zero_results: 0, average_results: 12.5 },
    { query: "=cmd|' /C calc'!A0", count: 2, zero_results: 2, average_results: 0 },
    { query: "budget q3", count: 2, zero_results: 1, average_results: 3 },
  ],
  latency: [{ mode: "hybrid", queries: 7, p50_ms: 41.2, p90_ms: 88, p99_ms: 120.4 }],
};

function fakeApi(perms: string[]) {
  const asked: URLSearchParams[] = [];
  const fetch = vi.fn(async (request: Request) => {
    const url = new URL(request.url);
    if (url.pathname === "/api/v1/auth/refresh") {
      return Response.json({ access_token: fakeToken(perms), expires_in: 900, token_type: "Bearer" });
    }
    if (url.pathname === "/api/v1/collections/c1/analytics/search") {
      asked.push(url.searchParams);
      return Response.json(SEARCHES);
    }
    if (url.pathname.includes("/analytics/")) return Response.json({ error: { code: "x", message: "not in this test" } }, { status: 404 });
    return Response.json({ versions: [] });
  });
  return { fetch, asked };
}

async function renderAt(url: string, perms: string[]) {
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

describe("the dashboard's search analytics", () => {
  it("shows the volume per day, the top queries and those with no hits, for the dashboard's dates", async () => {
    const { api, router } = await renderAt(
      "/collections/c1/dashboard?tab=queries&since=2026-11-01&until=2026-11-05&timezone=UTC",
      ["search:read", "collections:read", "collections:write"]);
    const volume = await screen.findByRole("region", { name: "Searches over time" });
    await vi.waitFor(() => expect(volume).toHaveTextContent("9 searches and questions from 2026-11-01 to 2026-11-04 (UTC days); 3 found nothing (33.3%)."));
    // The dashboard's "until" is not included, the report's is.
    expect([api.asked[0].get("since"), api.asked[0].get("until")]).toEqual(["2026-11-01", "2026-11-04"]);
    expect(within(volume).getByTestId("search-latency")).toHaveTextContent("hybrid741 ms88 ms120 ms");

    const top = screen.getByRole("region", { name: "Top queries" });
    expect(within(top).getAllByRole("row").map((r) => r.textContent)).toEqual([
      "QueryTimesFound nothingAverage hits", "lisbon offsite4012.5", "=cmd|' /C calc'!A0220.0", "budget q3213.0"]);
    const none = screen.getByRole("region", { name: "Queries with no hits" });
    expect(within(none).getAllByRole("row").slice(1).map((r) => r.textContent)).toEqual(["=cmd|' /C calc'!A022", "budget q312"]);

    // Every day of the range in the CSV, the days nobody searched included.
    const user = userEvent.setup();
    await user.click(within(volume).getByRole("button", { name: "Download Searches over time as CSV" }));
    expect(downloads.at(-1)).toEqual({ filename: "searches-by-day.csv", header: ["day", "queries", "zero_results"],
      rows: [["2026-11-01", 6, 1], ["2026-11-02", 0, 0], ["2026-11-03", 3, 2], ["2026-11-04", 0, 0]] });
    await user.click(within(none).getByRole("button", { name: "Download Queries with no hits as CSV" }));
    expect(downloads.at(-1)?.rows).toEqual([["=cmd|' /C calc'!A0", 2, 2], ["budget q3", 1, 2]]);

    await user.click(within(top).getByRole("link", { name: "Search for lisbon offsite" }));
    expect(router.state.location.pathname).toBe("/collections/c1/search");
    expect(new URLSearchParams(router.state.location.search).get("q")).toBe("lisbon offsite");
  });

  it("is not offered to a viewer, and not asked for", async () => {
    const { api } = await renderAt("/collections/c1/dashboard?tab=queries&timezone=UTC", ["search:read", "collections:read"]);
    expect(await screen.findByRole("tab", { name: "Activity", selected: true })).toBeInTheDocument();
    expect(screen.queryByRole("tab", { name: "Queries" })).toBeNull();
    expect(api.asked).toEqual([]);
  });
});
