// The analytics reports the dashboard shows, one query each; a filter change keeps the previous
// figures on screen until the new ones arrive, so the charts do not flash empty.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
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

export type Overview = NonNullable<ReturnType<typeof useOverview>["data"]>;
export type Activity = NonNullable<ReturnType<typeof useActivity>["data"]>;
export type People = NonNullable<ReturnType<typeof usePeople>["data"]>;
export type Conversations = NonNullable<ReturnType<typeof useConversations>["data"]>;
