import { describe, expect, it } from "vitest";
import { splitCitations } from "./citations";

describe("splitCitations", () => {
  it("turns references to cited blocks into parts and leaves the rest as text", () => {
    expect(splitCitations("Budget approved [1]; offsite in May [2, 3]. See [9].", new Set([1, 2, 3]))).toEqual([
      { text: "Budget approved " }, { n: 1, label: "[1]" }, { text: "; offsite in May " },
      { n: 2, label: "[2]" }, { n: 3, label: "[3]" }, { text: ". See [9]." },
    ]);
  });

  it("keeps markup in the text as text", () => {
    expect(splitCitations("<img src=x onerror=alert(1)> [1]", new Set([1]))).toEqual([
      { text: "<img src=x onerror=alert(1)> " }, { n: 1, label: "[1]" },
    ]);
  });
});
