import { useQuery, type QueryClient } from "@tanstack/react-query";
import { useApi } from "../services";
import { unwrap } from "./errors";

/** One collection: its name and current version (the collection page's header). */
export function useCollection(collectionId: string) {
  const api = useApi();
  return useQuery({
    queryKey: ["collection", collectionId],
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/collections/{collection_id}", { params: { path: { collection_id: collectionId } } })),
  });
}

/** A collection's versions, oldest first (shared by the search page's picker and Versions). */
export function useVersions(collectionId: string) {
  const api = useApi();
  return useQuery({
    queryKey: ["versions", collectionId],
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/collections/{collection_id}/versions", {
        params: { path: { collection_id: collectionId } },
      })).versions,
  });
}

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
