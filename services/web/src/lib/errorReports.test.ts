// Error reports from the browser, sent to a local envelope endpoint this test starts: an error
// arrives tagged with service, release and environment, the user by id only, and no token,
// password or e-mail address in any byte; without a DSN nothing is loaded or sent.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, expect, test } from "vitest";
import { identifyUser, initErrorReports, reportError, reportingFailures, scrubEvent } from "./errorReports";

const PASSWORD = "correct horse battery staple 42";
const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl";
const EMAIL = "ada.lovelace@example.com";

let server: Server;
const bodies: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      bodies.push((request.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body).toString());
      response.writeHead(200, { "Access-Control-Allow-Origin": "*" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function events(): Record<string, unknown>[] {
  // An envelope: a header line, then per item a header line and its payload.
  return bodies.flatMap((body) => {
    const lines = body.split("\n").filter(Boolean);
    const found: Record<string, unknown>[] = [];
    for (let i = 1; i + 1 < lines.length; i += 2) {
      if (JSON.parse(lines[i]).type === "event") found.push(JSON.parse(lines[i + 1]));
    }
    return found;
  });
}

async function waitForEvents(count: number, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (events().length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return events();
}

test("without a DSN the SDK is not loaded and nothing is sent", async () => {
  expect(await initErrorReports({})).toBe(false);
  reportError(new Error("nobody hears this"));
  await new Promise((r) => setTimeout(r, 300));
  expect(bodies).toEqual([]);
});

test("an error is reported with release, environment and the user id, and no secrets", async () => {
  const port = (server.address() as AddressInfo).port;
  const on = await initErrorReports({
    dsn: `http://public@127.0.0.1:${port}/1`, environment: "staging", release: "chatlens@9.9.9",
  });
  expect(on).toBe(true);
  identifyUser("user-123");
  reportError(new Error(`sign-in failed for ${EMAIL} with Bearer ${JWT} (password ${PASSWORD})`));
  const [event] = await waitForEvents(1);
  expect(event).toBeDefined();
  expect(event.release).toBe("chatlens@9.9.9");
  expect(event.environment).toBe("staging");
  expect(event.user).toEqual({ id: "user-123" });
  expect((event.tags as Record<string, string>).service).toBe("web");
  const raw = bodies.join("\n");
  expect(raw).toContain("[email]");
  for (const secret of [EMAIL, JWT]) expect(raw).not.toContain(secret);
});

test("a failed API request is reported with its correlation id and the user id; a refusal or shed load is not", async () => {
  // Reports are on (the test above started them) and name user-123.
  const before = events().length;
  const answers: Record<string, Response> = {
    "/api/v1/collections/c1/search": new Response('{"error":{"code":"internal","message":"x"}}', {
      status: 502, headers: { "X-Correlation-ID": "corr-web-502" },
    }),
    "/api/v1/collections/c1/ask": new Response('{"error":{"code":"validation_error","message":"x"}}', {
      status: 422, headers: { "X-Correlation-ID": "corr-web-422" },
    }),
    "/api/v1/collections/c1/summaries": new Response('{"error":{"code":"generation_busy","message":"x"}}', {
      status: 503, headers: { "X-Correlation-ID": "corr-web-503", "Retry-After": "5" },
    }),
  };
  const fetch = reportingFailures(async (request) => answers[new URL(request.url).pathname]);
  const failed = await fetch(new Request(`http://localhost/api/v1/collections/c1/search?q=${EMAIL}`, { method: "POST" }));
  const refused = await fetch(new Request("http://localhost/api/v1/collections/c1/ask", { method: "POST" }));
  const shed = await fetch(new Request("http://localhost/api/v1/collections/c1/summaries", { method: "POST" }));
  expect([failed.status, refused.status, shed.status]).toEqual([502, 422, 503]); // untouched

  const reported = (await waitForEvents(before + 1)).slice(before);
  expect(reported).toHaveLength(1);
  const [event] = reported;
  expect(event.message).toBe("POST /api/v1/collections/c1/search answered 502");
  expect((event.tags as Record<string, string>).correlation_id).toBe("corr-web-502");
  expect(event.user).toEqual({ id: "user-123" });
  await new Promise((r) => setTimeout(r, 300));
  expect(events().length).toBe(before + 1); // neither the 422 nor the busy 503 was reported
  expect(bodies.join("\n")).not.toContain(EMAIL); // the query is left out
});

test("scrubEvent keeps the user id only and drops bodies, cookies and secret headers", () => {
  const event = scrubEvent({
    type: undefined,
    user: { id: "u1", email: EMAIL, ip_address: "10.0.0.1", username: "ada" },
    request: {
      url: `https://chat.example/app?access_token=${JWT}&q=lisbon`,
      data: { password: PASSWORD }, cookies: { refresh: "c" },
      headers: { Authorization: `Bearer ${JWT}`, Accept: "application/json" },
    },
    extra: { form: { password: PASSWORD, page: 2 } },
  });
  expect(event.user).toEqual({ id: "u1" });
  expect(event.request?.data).toBeUndefined();
  expect(event.request?.cookies).toBeUndefined();
  expect(event.request?.headers).toEqual({ Authorization: "[Filtered]", Accept: "application/json" });
  expect(event.request?.url).not.toContain(JWT);
  expect(event.request?.url).toContain("q=lisbon");
  expect(event.extra).toEqual({ form: { password: "[Filtered]", page: 2 } });
});
