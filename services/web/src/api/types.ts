// Names for the shapes the app uses, read from the generated schema by route, so a change in
// the gateway's document shows up here as a type error.
import type { paths } from "./schema";

type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;
type Ok<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: infer R;
}
  ? R extends { 200: infer A }
    ? Json<A>
    : R extends { 201: infer A }
      ? Json<A>
      : R extends { 202: infer A }
        ? Json<A>
        : never
  : never;
type Body<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: infer B;
}
  ? Json<NonNullable<B>>
  : never;

export type Collection = Ok<"/api/v1/collections/{collection_id}", "get">;
export type SearchRequest = Body<"/api/v1/collections/{collection_id}/search", "post">;
export type SearchResponse = Ok<"/api/v1/collections/{collection_id}/search", "post">;
export type SearchHit = SearchResponse["results"][number];
export type SearchFilters = NonNullable<SearchRequest["filters"]>;
export type Job = Ok<"/api/v1/jobs/{job_id}", "get">;
export type Version = Ok<"/api/v1/collections/{collection_id}/versions", "get">["versions"][number];
export type OpenedMessage = Ok<"/api/v1/collections/{collection_id}/messages/{message_id}", "get">;
export type Answer = Ok<"/api/v1/answers/{answer_id}", "get">;
export type Citation = Answer["citations"][number];
export type SearchMode = "hybrid" | "semantic" | "keyword";

/** The body of every API error: `{"error": {"code", "message"}}`. */
export interface ApiErrorBody {
  error: { code: string; message: string };
}
