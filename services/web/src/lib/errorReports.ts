// Error reports from the browser to Sentry (or a Sentry-compatible server such as GlitchTip),
// only when the build was given VITE_SENTRY_DSN. The SDK is imported lazily: an app built
// without a DSN never downloads that chunk and sends nothing.
//
// What leaves the browser is what finds a fault, and nothing of the people using it: the user by
// id only, no request bodies or cookies, no Authorization header, and tokens, JWTs, API keys and
// e-mail addresses filtered out of every string (the same rules as the backends'
// chatlens.shared.error_reports).
//
// The Content-Security-Policy allows connections to the page's own origin, and the local stack's
// nginx also to the origin of VITE_SENTRY_DSN; elsewhere set VITE_SENTRY_TUNNEL to a same-origin
// path your ingress forwards to Sentry, or add the Sentry host to connect-src (deploy/README.md).

import type { BrowserOptions, ErrorEvent } from "@sentry/browser";

export interface ErrorReportsConfig {
  dsn?: string;
  environment?: string;
  release?: string;
  tunnel?: string;
}

type Sentry = typeof import("@sentry/browser");

const FILTERED = "[Filtered]";
const SECRET_KEY = /pass|token|secret|auth|cookie|session|key|csrf|credential|otp/i;
const SHAPES: [RegExp, string][] = [
  [/\bbearer\s+[\w\-.~+/=]+/gi, "Bearer " + FILTERED],
  [/\beyJ[\w-]+\.[\w-]+\.[\w-]*/g, FILTERED], // a JWT
  [/\bclk_[\w-]{8,}/g, FILTERED], // a Chatlens API key
  [/[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b/g, "[email]"],
];

let loaded: Sentry | null = null;
let currentUser: string | null = null;

/** The build's settings (Vite replaces these at build time). */
export function configFromBuild(): ErrorReportsConfig {
  const env = import.meta.env;
  return {
    dsn: env.VITE_SENTRY_DSN as string | undefined,
    environment: env.VITE_SENTRY_ENVIRONMENT as string | undefined,
    release: env.VITE_SENTRY_RELEASE as string | undefined,
    tunnel: env.VITE_SENTRY_TUNNEL as string | undefined,
  };
}

/** Loads and starts the SDK when a DSN is configured; resolves to whether reports are on. */
export async function initErrorReports(config: ErrorReportsConfig = configFromBuild()): Promise<boolean> {
  if (!config.dsn) return false;
  const sentry = await import("@sentry/browser");
  const options: BrowserOptions = {
    dsn: config.dsn,
    environment: config.environment || "production",
    release: config.release || undefined,
    tunnel: config.tunnel || undefined,
    // No user details, cookies or bodies from the integrations (our beforeSend filters the rest).
    dataCollection: { userInfo: false, cookies: false, httpBodies: [] },
    tracesSampleRate: 0,
    beforeSend: (event) => scrubEvent(event),
    beforeBreadcrumb: (crumb) => scrubStrings(crumb),
  };
  sentry.init(options);
  sentry.setTag("service", "web");
  if (currentUser) sentry.setUser({ id: currentUser });
  loaded = sentry;
  return true;
}

/** Names the signed-in user in later reports, by id only (null when signed out); kept for an
 * SDK still loading. */
export function identifyUser(userId: string | null): void {
  currentUser = userId;
  loaded?.setUser(userId ? { id: userId } : null);
}

/**
 * Reports a request the API failed (a 5xx), tagged with its correlation id: the gateway's
 * X-Correlation-ID, the id in every backend's log lines and error reports for that request, so a
 * browser report leads to what went wrong behind it. Refusals (4xx) are the user's, not faults;
 * nor is a 503 with Retry-After (the gateway shedding load, e.g. generation_busy: planned, and the
 * page waits and asks again).
 */
export function reportFailedRequest(method: string, url: string, response: Response): void {
  if (!loaded || response.status < 500) return;
  if (response.status === 503 && response.headers.has("Retry-After")) return;
  const sentry = loaded;
  const correlationId = response.headers.get("X-Correlation-ID");
  const path = scrubStrings(pathOf(url));
  sentry.withScope((scope) => {
    if (correlationId) scope.setTag("correlation_id", correlationId);
    scope.setTag("http.status_code", String(response.status));
    scope.setFingerprint(["api-failure", method, path, String(response.status)]);
    sentry.captureMessage(`${method} ${path} answered ${response.status}`, "error");
  });
}

/** A fetch that reports the API's failures (reportFailedRequest); the response is unchanged. */
export function reportingFailures(fetch: (request: Request) => Promise<Response>) {
  return async (request: Request): Promise<Response> => {
    const method = request.method;
    const url = request.url;
    const response = await fetch(request);
    if (response.status >= 500) reportFailedRequest(method, url, response);
    return response;
  };
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname; // the query may hold what the user typed: left out
  } catch {
    return url.split("?")[0];
  }
}

/** Reports an error caught by the app (an error boundary, say), when reports are on. */
export function reportError(error: unknown): void {
  loaded?.captureException(error);
}

/** Sentry's beforeSend: the user by id only, no bodies/cookies/secret headers, no secrets in text. */
export function scrubEvent(event: ErrorEvent): ErrorEvent {
  event.user = event.user?.id ? { id: event.user.id } : undefined;
  const request = event.request;
  if (request) {
    delete request.data;
    delete request.cookies;
    if (request.headers) {
      request.headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [name, SECRET_KEY.test(name) ? FILTERED : value]),
      );
    }
    if (request.url) request.url = scrubUrl(request.url);
  }
  const release = event.release;
  const scrubbed = scrubStrings(event);
  scrubbed.release = release; // chatlens@1.2.3 is not an address
  return scrubbed;
}

function scrubUrl(url: string): string {
  try {
    const parsed = new URL(url);
    for (const key of [...parsed.searchParams.keys()]) {
      if (SECRET_KEY.test(key)) parsed.searchParams.set(key, FILTERED);
    }
    return scrubStrings(parsed.toString());
  } catch {
    return scrubStrings(url);
  }
}

/** ``value`` with bearer tokens, JWTs, API keys and e-mail addresses filtered in every string,
 * and the values of keys that name secrets replaced. */
export function scrubStrings<T>(value: T): T {
  if (typeof value === "string") {
    return SHAPES.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), value as string) as T;
  }
  if (Array.isArray(value)) return value.map((item) => scrubStrings(item)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, SECRET_KEY.test(key) ? FILTERED : scrubStrings(item)]),
    ) as T;
  }
  return value;
}
