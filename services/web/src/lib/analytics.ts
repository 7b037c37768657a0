// The dashboard's filters as URL parameters (so a filtered dashboard is a link, and the back
// button returns to it from a drill-down) and as the analytics API's query; the search a chart's
// bar drills down to.

export type Bucket = "day" | "week" | "month";
export const LIST_FIELDS = ["platform", "chat", "sender"] as const;
export type ListField = (typeof LIST_FIELDS)[number];

export interface DashboardFilters {
  platform: string[];
  chat: string[];
  sender: string[];
  since: string | null;
  until: string | null;
  timezone: string;
  version: string | null;
}

/** The browser's own time zone: days and hours as the reader lives them. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** The filters a dashboard URL carries; an absent time zone is the reader's. */
export function filtersFromParams(params: URLSearchParams): DashboardFilters {
  return {
    platform: params.getAll("platform"),
    chat: params.getAll("chat"),
    sender: params.getAll("sender"),
    since: params.get("since") || null,
    until: params.get("until") || null,
    timezone: params.get("timezone") || localTimeZone(),
    version: params.get("version") || null,
  };
}

/** The filters as URL parameters (a name repeats for alternatives, as the API reads them). */
export function filtersToParams(filters: DashboardFilters): URLSearchParams {
  const params = new URLSearchParams();
  for (const field of LIST_FIELDS) for (const value of filters[field]) params.append(field, value);
  if (filters.since) params.set("since", filters.since);
  if (filters.until) params.set("until", filters.until);
  params.set("timezone", filters.timezone);
  if (filters.version) params.set("version", filters.version);
  return params;
}

/** The analytics API's query: empty filters left out, dates read in the chosen time zone. */
export function toAnalyticsQuery(filters: DashboardFilters) {
  return {
    timezone: filters.timezone,
    ...(filters.platform.length ? { platform: filters.platform } : {}),
    ...(filters.chat.length ? { chat: filters.chat } : {}),
    ...(filters.sender.length ? { sender: filters.sender } : {}),
    ...(filters.since ? { since: filters.since } : {}),
    ...(filters.until ? { until: filters.until } : {}),
    ...(filters.version ? { version: filters.version } : {}),
  };
}

/** The day after a bucket that starts on `start` (YYYY-MM-DD): [start, end) as dates. */
export function bucketEnd(start: string, bucket: Bucket): string {
  const [year, month, day] = start.split("-").map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  if (bucket === "day") date.setUTCDate(date.getUTCDate() + 1);
  else if (bucket === "week") date.setUTCDate(date.getUTCDate() + 7);
  else date.setUTCMonth(date.getUTCMonth() + 1);
  return date.toISOString().slice(0, 10);
}

/** "+01:00" for a zone at a moment (search reads a date without an offset as UTC). */
export function zoneOffset(timeZone: string, at: Date): string {
  const name = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "longOffset" })
    .formatToParts(at).find((part) => part.type === "timeZoneName")?.value ?? "GMT";
  const offset = name.replace("GMT", "");
  return offset === "" ? "+00:00" : offset;
}

/** Midnight of a date in a time zone, as search's filters take it. */
export function zonedMidnight(date: string, timeZone: string): string {
  const offset = zoneOffset(timeZone, new Date(`${date}T12:00:00Z`));
  return offset === "+00:00" ? date : `${date}T00:00:00${offset}`;
}

export interface Drill {
  sender?: string;
  chat?: string;
  bucket?: { start: string; size: Bucket };
  /** Words to search for at once (a word, phrase, emoji or domain of the language report). */
  query?: string;
  mode?: "keyword" | "hybrid";
}

/**
 * The search page's URL for the messages behind a bar: the dashboard's filters, narrowed to the
 * bar's sender, chat or period (the period's days in the dashboard's time zone).
 */
export function drillDownUrl(collectionId: string, filters: DashboardFilters, drill: Drill): string {
  const params = new URLSearchParams();
  const senders = drill.sender ? [drill.sender] : filters.sender;
  const chats = drill.chat ? [drill.chat] : filters.chat;
  for (const value of filters.platform) params.append("platform", value);
  for (const value of chats) params.append("chat", value);
  for (const value of senders) params.append("sender", value);
  let since = filters.since;
  let until = filters.until;
  if (drill.bucket) {
    // The bar's period within the dashboard's range: whichever bound is narrower wins.
    const end = bucketEnd(drill.bucket.start, drill.bucket.size);
    since = since && since > drill.bucket.start ? since : drill.bucket.start;
    until = until && until < end ? until : end;
  }
  if (since) params.set("since", zonedMidnight(since, filters.timezone));
  if (until) params.set("until", zonedMidnight(until, filters.timezone));
  if (filters.version) params.set("version", filters.version);
  if (drill.query) params.set("q", drill.query);
  if (drill.mode) params.set("mode", drill.mode);
  return `/collections/${encodeURIComponent(collectionId)}/search?${params}`;
}

export const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/** A duration in seconds as people say it: 45 s, 12 min, 3 h 5 min, 2 d 4 h. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null) return "–";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

/** "0", "1–10", "1001+": a bucket from min to max, both included, as a label (max null: open). */
export function rangeLabel(min: number, max: number | null): string {
  if (max === null) return `${min}+`;
  return max === min ? String(min) : `${min}–${max}`;
}

function rgb(hex: string): [number, number, number] {
  // Mantine's theme writes white as "#fff".
  const digits = hex.length === 4 ? [...hex.slice(1)].map((d) => d + d).join("") : hex.slice(1);
  const n = parseInt(digits, 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** WCAG relative luminance of a #rrggbb colour. */
export function luminance(hex: string): number {
  const [r, g, b] = rgb(hex).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * A heatmap cell's colours: `base` mixed into the card's background by the cell's share of the
 * busiest cell, and black or white text, whichever reads better on it.
 */
export function heatCell(value: number, max: number, base: string, background: string) {
  const share = max > 0 ? value / max : 0;
  const [a, b] = [rgb(base), rgb(background)];
  const mixed = "#" + a.map((c, i) => Math.round(b[i] + (c - b[i]) * share).toString(16).padStart(2, "0")).join("");
  const color = contrast(mixed, "#000000") >= contrast(mixed, "#ffffff") ? "#000000" : "#ffffff";
  return { background: mixed, color };
}
