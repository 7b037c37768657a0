import { MantineProvider } from "@mantine/core";
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Answer } from "../../api/types";
import { AnswerGrounding } from "./AnswerGrounding";

function answer(grounding: Answer["grounding"], extractive = grounding?.extractive ?? false): Answer {
  return { id: "a1", question: "Where is the offsite?", answer: "Ann wrote on 3 Mar: 'Offsite in Porto'",
    citations: [], model: "smollm2", version: 3, collection_id: "c1", created_at: "2026-03-04T10:00:00Z",
    extractive, grounding, filters: null };
}

function show(value: Answer) {
  return render(<MantineProvider><AnswerGrounding answer={value} /></MantineProvider>);
}

describe("AnswerGrounding", () => {
  it("says a quoted answer is not the model's words, why, and what was dropped", () => {
    show(answer({ extractive: true, reason: "unsupported_claims", unsupported: ["Lisbon", "<b>May</b>"], disagreements: [] }));
    const box = screen.getByTestId("answer-grounding");
    expect(box).toHaveAttribute("data-reason", "unsupported_claims");
    expect(box).toHaveTextContent("Quoted from the messages, not the model's words");
    expect(box).toHaveTextContent("stated something its sources do not say");
    expect(box).toHaveTextContent("Not stated by its sources: Lisbon; <b>May</b>"); // as text, never markup
    expect(screen.queryByTestId("answer-disagreements")).toBeNull();
  });

  it("lists the disagreeing sources beside the quote", () => {
    show(answer({ extractive: true, reason: "unsupported_claims", unsupported: ["Moscow"],
      disagreements: ["Ann says Porto; another message (Ivan, 3 Mar) mentions Moscow"] }));
    expect(screen.getByTestId("answer-disagreements")).toHaveTextContent("The sources disagree");
    expect(screen.getByTestId("answer-disagreements")).toHaveTextContent("another message (Ivan, 3 Mar) mentions Moscow");
  });

  it("explains each reason a message was quoted", () => {
    const { unmount } = show(answer({ extractive: true, reason: "no_information", unsupported: [], disagreements: [] }));
    expect(screen.getByTestId("answer-grounding")).toHaveTextContent("added nothing the messages say");
    expect(screen.getByTestId("answer-grounding")).not.toHaveTextContent("Not stated by its sources");
    unmount();
    show(answer({ extractive: true, reason: "nothing_to_quote", unsupported: [], disagreements: [] }));
    expect(screen.getByTestId("answer-grounding")).toHaveTextContent("could not be checked");
  });

  it("marks a supported or recited answer as the model's own, quietly", () => {
    const { unmount } = show(answer({ extractive: false, reason: "supported", unsupported: [], disagreements: [] }));
    expect(screen.getByTestId("answer-grounding")).toHaveTextContent("every name, number, date and place in it is stated by its citations");
    expect(screen.queryByRole("alert")).toBeNull();
    unmount();
    show(answer({ extractive: false, reason: "recited", unsupported: [], disagreements: [] }));
    expect(screen.getByTestId("answer-grounding")).toHaveTextContent("the message it now cites");
  });

  it("shows nothing for an answer no model wrote", () => {
    show(answer(null));
    expect(screen.queryByTestId("answer-grounding")).toBeNull();
  });
});
