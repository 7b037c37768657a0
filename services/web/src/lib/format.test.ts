import { describe, expect, it } from "vitest";
import { formatCount, formatTime, warmUpFormats } from "./format";

describe("formatTime", () => {
  it("writes a time as the locale does, with one formatter for every call", () => {
    warmUpFormats();
    const iso = "2025-02-14T11:15:00Z";
    const expected = new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    expect(formatTime(iso)).toBe(expected);
    expect(formatTime("2024-12-31T23:59:00Z")).toBe(
      new Date("2024-12-31T23:59:00Z").toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }));
    expect(formatTime("not a date")).toBe("not a date");
  });

  it("writes a count as Number.toLocaleString() does", () => {
    expect(formatCount(1234567)).toBe((1234567).toLocaleString());
    expect(formatCount(0)).toBe("0");
  });
});
