import { useQuery } from "@tanstack/react-query";
import { useApi } from "../services";
import { unwrap } from "./errors";

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
