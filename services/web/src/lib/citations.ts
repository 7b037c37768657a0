// An answer's or a summary's text with its [n] references made into parts a page can turn into
// buttons that open the cited message; the text itself stays text.

export type TextPart = { text: string } | { n: number; label: string };

/** Splits text at `[n]` and `[n, m]` references to cited blocks that exist (others stay text). */
export function splitCitations(text: string, cited: Set<number>): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of text.matchAll(/\[(\d+(?:\s*,\s*\d+)*)\]/g)) {
    const numbers = match[1].split(",").map((n) => Number(n.trim()));
    if (!numbers.every((n) => cited.has(n))) continue;
    if (match.index > last) parts.push({ text: text.slice(last, match.index) });
    for (const n of numbers) parts.push({ n, label: `[${n}]` });
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}
