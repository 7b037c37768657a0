import { MantineProvider } from "@mantine/core";
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { SearchHit } from "../api/types";
import { SearchHitCard } from "./SearchHitCard";

const HIT = {
  message_id: "m1", platform: "whatsapp", chat: "Team Lisbon", sender: "Marta",
  sent_at: "2025-02-14T11:15:00Z", text: "Booked the venue in Lisbon", score: 0.0252,
  semantic_score: 0.6891, keyword_score: 7.43, highlights: [], highlighted: "", context: [],
  collection_id: null, found_in: null,
} as unknown as SearchHit;

function show(hit: SearchHit) {
  render(<MantineProvider><SearchHitCard hit={hit} onOpen={() => undefined} /></MantineProvider>);
}

describe("SearchHitCard", () => {
  it("shows the similarity of meaning, not the fused order score", () => {
    show(HIT);
    expect(screen.getByTestId("hit-similarity")).toHaveTextContent("similarity 0.69");
    expect(screen.queryByText(/0\.025/)).toBeNull();
  });

  it("says a hit found by its words alone matches them", () => {
    show({ ...HIT, semantic_score: null } as SearchHit);
    expect(screen.getByTestId("hit-similarity")).toHaveTextContent("matches the words");
    expect(screen.getByTestId("hit-similarity")).toHaveAttribute("title", "Found by its words (BM25 7.4)");
  });
});
