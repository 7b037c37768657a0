// One formatter of each kind for the whole page: toLocaleString(…, options) builds a new one per
// call, about a millisecond each on a phone, times every hit and its neighbours.
let timeFormat: Intl.DateTimeFormat | null = null;
let countFormat: Intl.NumberFormat | null = null;
const localTimeFormat = () =>
  (timeFormat ??= new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }));
const localCountFormat = () => (countFormat ??= new Intl.NumberFormat());

/** A message's time as the reader's locale writes it (the API sends UTC ISO strings). */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return localTimeFormat().format(date);
}

/** A count as the reader's locale writes it ("1,234", as Number.toLocaleString() does). */
export function formatCount(count: number): string {
  return localCountFormat().format(count);
}

/**
 * Loads the locale's number and date formats ahead of their first use. The first Intl call of a
 * page loads the locale's data: 20 to 50 ms on this desktop, several times that on a phone, in
 * the middle of the first results' render; the entry calls this while the browser is idle,
 * waiting for the session and the search.
 */
export function warmUpFormats(): void {
  localCountFormat();
  localTimeFormat();
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** A wait as people say it: "3 h 20 min", "12 min", "under a minute". */
export function formatDuration(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  if (minutes < 1) return "under a minute";
  const hours = Math.floor(minutes / 60);
  return hours ? `${hours} h ${minutes % 60} min` : `${minutes} min`;
}
