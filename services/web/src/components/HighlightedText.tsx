import { highlightPieces } from "../lib/highlight";

/** Chat text as React text nodes, with <mark> around the matched words. */
export function HighlightedText({ text, spans }: { text: string; spans: ReadonlyArray<readonly [number, number]> }) {
  return (
    <span className="chat-text">
      {highlightPieces(text, spans).map((piece, index) =>
        piece.marked ? (
          <mark key={index} className="hit">
            {piece.text}
          </mark>
        ) : (
          <span key={index}>{piece.text}</span>
        ),
      )}
    </span>
  );
}
