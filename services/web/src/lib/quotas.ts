import type { components } from "../api/schema";

export type Quota = components["schemas"]["QuotaOut"];

/** Under a tenth of the day's quota is left: worth saying before a refusal does. */
export function quotaLow(quota: Quota): boolean {
  return quota.remaining < quota.limit / 10;
}
