// The API's highlights are [start, end) offsets in Python characters (code points); JavaScript
// strings index UTF-16 units, so an emoji before a match would shift every mark. Splitting by
// code point keeps them aligned. The API's `highlighted` HTML is never used: text stays text.

export interface Piece {
  text: string;
  marked: boolean;
}

/** The text cut into plain and marked pieces, from code-point spans (overlaps merged). */
export function highlightPieces(text: string, spans: ReadonlyArray<readonly [number, number]>): Piece[] {
  const chars = Array.from(text);
  const marked = new Array<boolean>(chars.length).fill(false);
  for (const [start, end] of spans) {
    for (let i = Math.max(0, start); i < Math.min(chars.length, end); i++) marked[i] = true;
  }
  const pieces: Piece[] = [];
  chars.forEach((char, i) => {
    const last = pieces[pieces.length - 1];
    if (last && last.marked === marked[i]) last.text += char;
    else pieces.push({ text: char, marked: marked[i] });
  });
  return pieces;
}
