import { describe, expect, it } from "vitest";
import {
  bucketEnd, contrast, drillDownUrl, filtersFromParams, filtersToParams, formatDuration, heatCell,
  rangeLabel, toAnalyticsQuery, zonedMidnight, type DashboardFilters,
} from "./analytics";

const NONE: DashboardFilters = { platform: [], chat: [], sender: [], since: null, until: null, timezone: "UTC", version: null };

describe("dashboard filters", () => {
  it("round-trip through the URL, repeating a name for alternatives", () => {
    const filters = { ...NONE, sender: ["Marta", "Sam"], chat: ["Team Lisbon"], since: "2025-02-01",
      timezone: "Europe/Lisbon", version: "3" };
    const params = filtersToParams(filters);
    expect(params.toString()).toBe("chat=Team+Lisbon&sender=Marta&sender=Sam&since=2025-02-01&timezone=Europe%2FLisbon&version=3");
    expect(filtersFromParams(params)).toEqual(filters);
  });

  it("leave empty filters out of the API's query", () => {
    expect(toAnalyticsQuery({ ...NONE, sender: ["Marta"] })).toEqual({ timezone: "UTC", sender: ["Marta"] });
  });
});

describe("drill-down", () => {
  it("ends a bucket where the next one starts", () => {
    expect(bucketEnd("2025-02-28", "day")).toBe("2025-03-01");
    expect(bucketEnd("2025-02-24", "week")).toBe("2025-03-03");
    expect(bucketEnd("2025-12-01", "month")).toBe("2026-01-01");
  });

  it("writes a zone's midnight with its offset (search reads a bare date as UTC)", () => {
    expect(zonedMidnight("2025-02-14", "UTC")).toBe("2025-02-14");
    expect(zonedMidnight("2025-02-14", "Europe/Berlin")).toBe("2025-02-14T00:00:00+01:00");
    expect(zonedMidnight("2025-07-14", "Europe/Berlin")).toBe("2025-07-14T00:00:00+02:00");
    expect(zonedMidnight("2025-02-14", "America/New_York")).toBe("2025-02-14T00:00:00-05:00");
  });

  it("narrows the dashboard's filters to the bar's period and sender", () => {
    const url = drillDownUrl("c 1", { ...NONE, chat: ["general"], since: "2025-02-10", version: "2" },
      { sender: "Marta", bucket: { start: "2025-02-03", size: "week" } });
    const [path, query] = url.split("?");
    expect(path).toBe("/collections/c%201/search");
    const params = new URLSearchParams(query);
    expect(params.getAll("chat")).toEqual(["general"]);
    expect(params.getAll("sender")).toEqual(["Marta"]);
    // The dashboard starts later than the bar's week: the later start wins.
    expect(params.get("since")).toBe("2025-02-10");
    expect(params.get("until")).toBe("2025-02-10");
    expect(params.get("version")).toBe("2");
  });

  it("keeps the dashboard's senders when the bar is not one person's", () => {
    const url = drillDownUrl("c1", { ...NONE, sender: ["Sam", "Ana"] }, { bucket: { start: "2025-03-01", size: "month" } });
    const params = new URLSearchParams(url.split("?")[1]);
    expect(params.getAll("sender")).toEqual(["Sam", "Ana"]);
    expect([params.get("since"), params.get("until")]).toEqual(["2025-03-01", "2025-04-01"]);
  });
});

describe("figures", () => {
  it("say durations as people do", () => {
    expect(formatDuration(null)).toBe("–");
    expect(formatDuration(42)).toBe("42 s");
    expect(formatDuration(720)).toBe("12 min");
    expect(formatDuration(3 * 3600 + 300)).toBe("3 h 5 min");
    expect(formatDuration(52 * 3600)).toBe("2 d 4 h");
  });

  it("label buckets with both ends included, and the open last one", () => {
    expect(rangeLabel(0, 0)).toBe("0");
    expect(rangeLabel(1, 10)).toBe("1–10");
    expect(rangeLabel(500, null)).toBe("500+");
  });

  it("give every heatmap cell text at AA contrast, light and dark", () => {
    expect(heatCell(0, 20, "#1971c2", "#fff").background).toBe("#ffffff");
    for (const background of ["#ffffff", "#2e2e2e"]) {
      for (let value = 0; value <= 20; value++) {
        const cell = heatCell(value, 20, "#1971c2", background);
        expect(contrast(cell.background, cell.color)).toBeGreaterThanOrEqual(4.5);
      }
    }
    expect(heatCell(0, 20, "#1971c2", "#ffffff").background).toBe("#ffffff");
    expect(heatCell(20, 20, "#1971c2", "#ffffff").background).toBe("#1971c2");
  });
});
