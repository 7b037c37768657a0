import { describe, expect, it } from "vitest";
import type { Answer } from "../api/types";
import { describeFilters } from "./ask";

const answer = (filters: Answer["filters"]) => ({ filters } as Answer);

describe("describeFilters", () => {
  it("says which filters the answer used and the words they were read from", () => {
    expect(describeFilters(answer({
      applied: { sender: ["Alice"], since: "2025-03-01", chat: null },
      from_question: { sender: "Alice" }, from_request: ["since"], counted: null,
    }))).toBe(" · searched with sender Alice (from “Alice”), since 2025-03-01");
  });

  it("says nothing when none applied", () => {
    expect(describeFilters(answer(null))).toBe("");
    expect(describeFilters(answer({
      applied: { sender: [] }, from_question: {}, from_request: [], counted: null,
    }))).toBe("");
  });

  it("says when a figure was counted by the analytics engine, not written by the model", () => {
    expect(describeFilters(answer({
      applied: {}, from_question: {}, from_request: [],
      counted: { kind: "most", report: "people", field: "messages" },
    }))).toBe(" · counted exactly (people report, messages)");
  });
});
