import { describe, expect, it } from "vitest";
import { addChip, toFilters } from "./filters";

describe("filter chips", () => {
  it("turn into the API's filters: people and chats as lists, dates as a range", () => {
    let chips = addChip([], { field: "sender", value: "Marta" });
    chips = addChip(chips, { field: "sender", value: " Inês " });
    chips = addChip(chips, { field: "since", value: "2025-01-01" });
    chips = addChip(chips, { field: "since", value: "2025-02-01" });
    chips = addChip(chips, { field: "sender", value: "Marta" });
    expect(toFilters(chips)).toEqual({ sender: ["Marta", "Inês"], since: "2025-02-01" });
  });

  it("ignore an empty value", () => {
    expect(addChip([], { field: "chat", value: "  " })).toEqual([]);
  });
});
