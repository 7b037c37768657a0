import { render } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { HighlightedText } from "./HighlightedText";

describe("HighlightedText", () => {
  it("renders chat text as text, never as HTML, with marks from the spans", () => {
    const text = `<img src=x onerror="alert(1)"> <script>alert(2)</script> hello`;
    const { container } = render(<HighlightedText text={text} spans={[[text.indexOf("hello"), text.length]]} />);
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("script")).toBeNull();
    expect(container.textContent).toBe(text);
    expect([...container.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["hello"]);
  });
});
