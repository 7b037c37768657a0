// What a chart shows, as a CSV file the reader downloads (RFC 4180: quotes doubled, fields with
// a comma, quote or line break quoted).

export type Cell = string | number | null | undefined;

/**
 * One field. Chat text and names come from the exports, so a name like `=HYPERLINK(...)` would
 * run as a formula when the file is opened in a spreadsheet: such text gets a leading apostrophe
 * (OWASP's advice for CSV injection). Numbers are written as they are.
 */
export function csvField(value: Cell): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A header line and one line per row, CRLF-separated as the RFC has it. */
export function toCsv(header: string[], rows: Cell[][]): string {
  return [header, ...rows].map((row) => row.map(csvField).join(",")).join("\r\n") + "\r\n";
}

/** Hands the browser a CSV file to save. */
export function downloadCsv(filename: string, header: string[], rows: Cell[][]): void {
  const url = URL.createObjectURL(new Blob([toCsv(header, rows)], { type: "text/csv;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.click();
  // The click has started the download; the object URL is no longer needed.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
