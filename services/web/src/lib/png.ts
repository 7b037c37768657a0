// A card's chart as a PNG file: the element drawn onto a canvas by html-to-image (SVG charts and
// HTML tables alike, styles inlined; nothing is fetched from elsewhere). Loaded on first use, so
// the dashboard's chunk does not carry it.

/** Hands the browser a PNG of `node` to save, on `background` (the card's colour). */
export async function downloadPng(node: HTMLElement, filename: string, background: string): Promise<void> {
  const { toPng } = await import("html-to-image");
  const url = await toPng(node, { backgroundColor: background, pixelRatio: 2, cacheBust: false });
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.click();
}
