import type { SearchFilters } from "../api/types";

export const FILTER_FIELDS = {
  sender: "From",
  chat: "In chat",
  platform: "Platform",
  since: "After",
  until: "Before",
} as const;
export type FilterField = keyof typeof FILTER_FIELDS;
export interface FilterChip {
  field: FilterField;
  value: string;
}

/** The chips as the API's filters: several senders/chats/platforms are an OR, dates a range. */
export function toFilters(chips: FilterChip[]): SearchFilters {
  const filters: Record<string, string | string[]> = {};
  for (const { field, value } of chips) {
    if (field === "since" || field === "until") filters[field] = value;
    else filters[field] = [...((filters[field] as string[] | undefined) ?? []), value];
  }
  return filters as SearchFilters;
}

/** Adds a chip unless the same one is there; a date replaces the earlier one of its kind. */
export function addChip(chips: FilterChip[], chip: FilterChip): FilterChip[] {
  const value = chip.value.trim();
  if (!value) return chips;
  if (chip.field === "since" || chip.field === "until") {
    return [...chips.filter((c) => c.field !== chip.field), { field: chip.field, value }];
  }
  if (chips.some((c) => c.field === chip.field && c.value === value)) return chips;
  return [...chips, { field: chip.field, value }];
}

/** The chips a link to the search page carries (a dashboard's drill-down): `?sender=…&since=…`. */
export function chipsFromParams(params: URLSearchParams): FilterChip[] {
  let chips: FilterChip[] = [];
  for (const field of Object.keys(FILTER_FIELDS) as FilterField[]) {
    for (const value of params.getAll(field)) chips = addChip(chips, { field, value });
  }
  return chips;
}
