import type { ApiErrorBody } from "./types";

/** An API refusal with the gateway's code and message, shown where the user acted. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

function isErrorBody(body: unknown): body is ApiErrorBody {
  const error = (body as ApiErrorBody | null)?.error;
  return typeof error?.code === "string" && typeof error?.message === "string";
}

/** Turns whatever came back with a failed status into an ApiError. */
export function toApiError(status: number, body: unknown): ApiError {
  if (isErrorBody(body)) return new ApiError(status, body.error.code, body.error.message);
  return new ApiError(status, "http_" + status, `the server answered ${status}`);
}

/** Reads a fetch Response as an ApiError (JSON body when there is one). */
export async function responseError(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  return toApiError(response.status, body);
}

/** openapi-fetch's `{data, error, response}`: the data, or the error thrown as an ApiError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    throw toApiError(result.response.status, result.error);
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
