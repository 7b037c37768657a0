import type { ApiErrorBody } from "./types";

/** An API refusal with the gateway's code and message, shown where the user acted. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds to wait before asking again, from a 429 or 503's `Retry-After` (null: none given). */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** A `Retry-After` header in seconds (a delay or an HTTP date); null when absent or unreadable. */
export function retryAfterSeconds(header: string | null | undefined, now = Date.now()): number | null {
  if (!header) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

function isErrorBody(body: unknown): body is ApiErrorBody {
  const error = (body as ApiErrorBody | null)?.error;
  return typeof error?.code === "string" && typeof error?.message === "string";
}

/** Turns whatever came back with a failed status into an ApiError. */
export function toApiError(status: number, body: unknown, retryAfter: number | null = null): ApiError {
  if (isErrorBody(body)) return new ApiError(status, body.error.code, body.error.message, retryAfter);
  return new ApiError(status, "http_" + status, `the server answered ${status}`, retryAfter);
}

/** Reads a fetch Response as an ApiError (JSON body when there is one). */
export async function responseError(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  return toApiError(response.status, body, retryAfterSeconds(response.headers.get("Retry-After")));
}

/** openapi-fetch's `{data, error, response}`: the data, or the error thrown as an ApiError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    throw toApiError(result.response.status, result.error, retryAfterSeconds(result.response.headers.get("Retry-After")));
  }
  return result.data as T;
}

/** A message for any thrown value, for an alert next to the control that failed. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** An absolute URL on the page's own origin (a Request needs one outside the browser). */
export function apiUrl(path: string): string {
  return new URL(path, globalThis.location?.origin ?? "http://localhost").toString();
}
