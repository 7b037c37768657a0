import { describe, expect, it } from "vitest";
import { highlightPieces } from "./highlight";

describe("highlightPieces", () => {
  it("marks the spans and keeps the rest as plain text", () => {
    expect(highlightPieces("team trip to Lisbon", [[5, 9], [13, 19]])).toEqual([
      { text: "team ", marked: false },
      { text: "trip", marked: true },
      { text: " to ", marked: false },
      { text: "Lisbon", marked: true },
    ]);
  });

  it("counts code points as the API does, so an emoji does not shift the marks", () => {
    const pieces = highlightPieces("🎉🎉 party at 8", [[3, 8]]);
    expect(pieces.filter((p) => p.marked).map((p) => p.text)).toEqual(["party"]);
  });

  it("merges overlapping spans and ignores ones outside the text", () => {
    const pieces = highlightPieces("abcdef", [[2, 4], [1, 3], [10, 12], [5, 5]]);
    expect(pieces).toEqual([
      { text: "a", marked: false },
      { text: "bcd", marked: true },
      { text: "ef", marked: false },
    ]);
  });
});
