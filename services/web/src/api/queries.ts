import { infiniteQueryOptions, queryOptions, useQuery, type QueryClient } from "@tanstack/react-query";
import { chipsFromParams, toFilters, type FilterChip } from "../lib/filters";
import { useApi, type Api } from "../services";
import { unwrap } from "./errors";
import type { SearchMode, SearchRequest, SearchResponse } from "./types";

// The entry asks for the data of the page in the address bar as soon as the session is restored
// (App.tsx, prefetchData), before the page's chunk has rendered: a page mounting this soon after
// an answer uses it rather than asking again. Only mounting: a search or collection picked again
// is asked again as before, and an upload's new version refreshes them (collectionChanged).
const JUST_FETCHED_MS = 10_000;
const unlessJustFetched = (query: { state: { dataUpdatedAt: number } }) =>
  Date.now() - query.state.dataUpdatedAt > JUST_FETCHED_MS;

/** One collection: its name and current version (the collection page's header). */
export const collectionQuery = (api: Api, collectionId: string) => queryOptions({
  queryKey: ["collection", collectionId],
  queryFn: async () =>
    unwrap(await api.GET("/api/v1/collections/{collection_id}", { params: { path: { collection_id: collectionId } } })),
  refetchOnMount: unlessJustFetched,
});

export function useCollection(collectionId: string) {
  return useQuery(collectionQuery(useApi(), collectionId));
}

/** A collection's versions, oldest first (shared by the search page's picker and Versions). */
export const versionsQuery = (api: Api, collectionId: string) => queryOptions({
  queryKey: ["versions", collectionId],
  queryFn: async () =>
    unwrap(await api.GET("/api/v1/collections/{collection_id}/versions", {
      params: { path: { collection_id: collectionId } },
    })).versions,
  refetchOnMount: unlessJustFetched,
});

export function useVersions(collectionId: string) {
  return useQuery(versionsQuery(useApi(), collectionId));
}

/** A search as sent: the words, the mode, the filters' chips and the version (null: latest). */
export interface SubmittedSearch {
  query: string;
  mode: SearchMode;
  chips: FilterChip[];
  version: string | null;
}

const MODES: SearchMode[] = ["hybrid", "semantic", "keyword"];
export const linkedMode = (mode: string | null): SearchMode => MODES.find((m) => m === mode) ?? "hybrid";

/** The search a link asks for (`?q=` with its mode, filters and version), or null without words. */
export function searchFromParams(params: URLSearchParams): SubmittedSearch | null {
  const query = params.get("q")?.trim();
  if (!query) return null;
  return { query, mode: linkedMode(params.get("mode")), chips: chipsFromParams(params), version: params.get("version") };
}

export const SEARCH_PAGE = 20;

/** A search's pages of hits, 20 at a time, each with its neighbours (the search page's list). */
export const searchQuery = (api: Api, collectionId: string, submitted: SubmittedSearch | null) => infiniteQueryOptions({
  queryKey: ["search", collectionId, submitted],
  enabled: submitted !== null,
  initialPageParam: null as string | null,
  getNextPageParam: (last: SearchResponse) => last.next_cursor ?? null,
  queryFn: async ({ pageParam, signal }): Promise<SearchResponse> =>
    unwrap(await api.POST("/api/v1/collections/{collection_id}/search", {
      params: { path: { collection_id: collectionId } },
      signal,
      body: {
        query: submitted!.query, mode: submitted!.mode, k: SEARCH_PAGE, context: 1,
        filters: toFilters(submitted!.chips),
        ...(submitted!.version ? { version: submitted!.version } : {}),
        ...(pageParam ? { cursor: pageParam } : {}),
        // The document marks fields with defaults as required; the gateway does not.
      } as SearchRequest,
    })) as SearchResponse,
  refetchOnMount: unlessJustFetched,
});

/**
 * What is left of the org's daily quotas (uploads, generated tokens); only those who may read
 * them ask (`collections:write`: owners, admins, analysts), the API refuses the others.
 */
export function useQuotas(enabled: boolean) {
  const api = useApi();
  return useQuery({
    queryKey: ["quotas"],
    enabled,
    queryFn: async () => unwrap(await api.GET("/api/v1/quotas")),
  });
}

/**
 * A collection has a new version (an upload's job finished): everything read from the old one is
 * asked again when shown: the header (name, messages, version), the list of collections, the
 * versions, the results of its searches and its dashboards.
 */
export function collectionChanged(client: QueryClient, collectionId: string): Promise<unknown> {
  return Promise.all([
    client.invalidateQueries({ queryKey: ["collection", collectionId] }),
    client.invalidateQueries({ queryKey: ["collections"] }),
    client.invalidateQueries({ queryKey: ["versions", collectionId] }),
    client.invalidateQueries({ queryKey: ["search", collectionId] }),
    client.invalidateQueries({ predicate: (query) => query.queryKey[0] === "analytics" && query.queryKey[2] === collectionId }),
  ]);
}
