// The analytics reports the dashboard shows, one query each; a filter change keeps the previous
// figures on screen until the new ones arrive, so the charts do not flash empty.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { toAnalyticsQuery, type Bucket, type DashboardFilters } from "../lib/analytics";
import { useApi } from "../services";
import { unwrap } from "./errors";

const path = (collectionId: string) => ({ collection_id: collectionId });

export function useOverview(collectionId: string, filters: DashboardFilters) {
  const api = useApi();
  return useQuery({
    queryKey: ["analytics", "overview", collectionId, filters],
    placeholderData: keepPreviousData,
    queryFn: async ({ signal }) =>
      unwrap(await api.GET("/api/v1/collections/{collection_id}/analytics/overview", {
        params: { path: path(collectionId), query: toAnalyticsQuery(filters) }, signal,
      })),
  });
}

export function useActivity(collectionId: string, filters: DashboardFilters, bucket: Bucket,
  stack: "person" | "chat" | null) {
  const api = useApi();
  return useQuery({
    queryKey: ["analytics", "activity", collectionId, filters, bucket, stack],
    placeholderData: keepPreviousData,
    queryFn: async ({ signal }) =>
      unwrap(await api.GET("/api/v1/collections/{collection_id}/analytics/activity", {
        params: {
          path: path(collectionId),
          query: { ...toAnalyticsQuery(filters), bucket, ...(stack ? { stack, top: 8 } : {}) },
        },
        signal,
      })),
  });
}

export function usePeople(collectionId: string, filters: DashboardFilters) {
  const api = useApi();
  return useQuery({
    queryKey: ["analytics", "people", collectionId, filters],
    placeholderData: keepPreviousData,
    queryFn: async ({ signal }) =>
      unwrap(await api.GET("/api/v1/collections/{collection_id}/analytics/people", {
        params: { path: path(collectionId), query: toAnalyticsQuery(filters) }, signal,
      })),
  });
}

export function useConversations(collectionId: string, filters: DashboardFilters, gapMinutes: number) {
  const api = useApi();
  return useQuery({
    queryKey: ["analytics", "conversations", collectionId, filters, gapMinutes],
    placeholderData: keepPreviousData,
    queryFn: async ({ signal }) =>
      unwrap(await api.GET("/api/v1/collections/{collection_id}/analytics/conversations", {
        params: { path: path(collectionId), query: { ...toAnalyticsQuery(filters), gap_minutes: gapMinutes } },
        signal,
      })),
  });
}

export function useInteraction(collectionId: string, filters: DashboardFilters, bucket: Bucket) {
  const api = useApi();
  return useQuery({
    queryKey: ["analytics", "interaction", collectionId, filters, bucket],
    placeholderData: keepPreviousData,
    queryFn: async ({ signal }) =>
      unwrap(await api.GET("/api/v1/collections/{collection_id}/analytics/interaction", {
        params: { path: path(collectionId), query: { ...toAnalyticsQuery(filters), bucket } }, signal,
      })),
  });
}

export function useLanguage(collectionId: string, filters: DashboardFilters) {
  const api = useApi();
  return useQuery({
    queryKey: ["analytics", "language", collectionId, filters],
    placeholderData: keepPreviousData,
    queryFn: async ({ signal }) =>
      unwrap(await api.GET("/api/v1/collections/{collection_id}/analytics/language", {
        params: { path: path(collectionId), query: toAnalyticsQuery(filters) }, signal,
      })),
  });
}

export function useCalendar(collectionId: string, filters: DashboardFilters, year: number | null) {
  const api = useApi();
  return useQuery({
    queryKey: ["analytics", "calendar", collectionId, filters, year],
    placeholderData: keepPreviousData,
    queryFn: async ({ signal }) =>
      unwrap(await api.GET("/api/v1/collections/{collection_id}/analytics/calendar", {
        params: { path: path(collectionId), query: { ...toAnalyticsQuery(filters), ...(year ? { year } : {}) } },
        signal,
      })),
  });
}

export function useIdentities(collectionId: string, filters: DashboardFilters) {
  const api = useApi();
  return useQuery({
    queryKey: ["analytics", "identities", collectionId, filters],
    placeholderData: keepPreviousData,
    queryFn: async ({ signal }) =>
      unwrap(await api.GET("/api/v1/collections/{collection_id}/analytics/identities", {
        params: { path: path(collectionId), query: toAnalyticsQuery(filters) }, signal,
      })),
  });
}

/**
 * What people searched and asked in the collection, per UTC day: a range of days, both included
 * (the last 30 days to today when absent). Owners, admins and analysts only.
 */
export function useSearchAnalytics(collectionId: string, range: { since: string | null; until: string | null }) {
  const api = useApi();
  return useQuery({
    queryKey: ["analytics", "search", collectionId, range],
    placeholderData: keepPreviousData,
    queryFn: async ({ signal }) =>
      unwrap(await api.GET("/api/v1/collections/{collection_id}/analytics/search", {
        params: {
          path: path(collectionId),
          query: { top: 50, ...(range.since ? { since: range.since } : {}), ...(range.until ? { until: range.until } : {}) },
        },
        signal,
      })),
  });
}

/** Merges sender names into one person or splits them out (a new version: every report changes). */
export function useRegroupPeople(collectionId: string) {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: { action: "merge" | "split"; person: string; senders: string[] }) =>
      unwrap(await api.POST("/api/v1/collections/{collection_id}/people", {
        params: { path: path(collectionId) }, body,
      })),
    onSuccess: () => Promise.all([
      client.invalidateQueries({ queryKey: ["analytics"] }),
      client.invalidateQueries({ queryKey: ["versions", collectionId] }),
    ]),
  });
}

/** The messages behind a figure (a slot of the week, a day, a pair), oldest first. */
export interface Slice {
  sender?: string;
  chat?: string;
  since?: string;
  until?: string;
  hour?: number;
  weekday?: number;
}

export function useDrillMessages(collectionId: string, filters: DashboardFilters, slice: Slice | null) {
  const api = useApi();
  return useQuery({
    queryKey: ["analytics", "messages", collectionId, filters, slice],
    enabled: slice !== null,
    queryFn: async ({ signal }) => {
      const base = toAnalyticsQuery(filters);
      const narrowed = {
        ...base,
        ...(slice?.sender ? { sender: [slice.sender] } : {}),
        ...(slice?.chat ? { chat: [slice.chat] } : {}),
        // A day's slice within the dashboard's range: the narrower bound wins.
        ...(slice?.since && !(base.since && base.since > slice.since) ? { since: slice.since } : {}),
        ...(slice?.until && !(base.until && base.until < slice.until) ? { until: slice.until } : {}),
        ...(slice?.hour !== undefined ? { hour: [slice.hour] } : {}),
        ...(slice?.weekday !== undefined ? { weekday: [slice.weekday] } : {}),
        limit: 200,
      };
      return unwrap(await api.GET("/api/v1/collections/{collection_id}/analytics/messages", {
        params: { path: path(collectionId), query: narrowed }, signal,
      }));
    },
  });
}

export type Overview = NonNullable<ReturnType<typeof useOverview>["data"]>;
export type Activity = NonNullable<ReturnType<typeof useActivity>["data"]>;
export type People = NonNullable<ReturnType<typeof usePeople>["data"]>;
export type Conversations = NonNullable<ReturnType<typeof useConversations>["data"]>;
export type Interaction = NonNullable<ReturnType<typeof useInteraction>["data"]>;
export type Language = NonNullable<ReturnType<typeof useLanguage>["data"]>;
export type Calendar = NonNullable<ReturnType<typeof useCalendar>["data"]>;
export type Identities = NonNullable<ReturnType<typeof useIdentities>["data"]>;
export type SearchAnalytics = NonNullable<ReturnType<typeof useSearchAnalytics>["data"]>;
