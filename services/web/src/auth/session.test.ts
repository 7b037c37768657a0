import { describe, expect, it, vi } from "vitest";
import { REUSED_MESSAGE, Session } from "./session";

/** An auth endpoint that behaves like the gateway's cookie mode: one live token, rotating. */
function fakeGateway() {
  let live = "r1";
  let cookie: string | null = null;
  let issued = 0;
  const calls: string[] = [];
  const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(new URL(String(input), "http://app"), init);
    const path = new URL(request.url, "http://app").pathname;
    calls.push(path);
    if (path === "/api/v1/auth/login") {
      cookie = live;
      issued += 1;
      return json({ access_token: `a${issued}`, token_type: "Bearer", expires_in: 900 });
    }
    if (path === "/api/v1/auth/refresh") {
      if (!cookie) return json({ error: { code: "not_signed_in", message: "no" } }, 401);
      if (cookie !== live) return json({ error: { code: "token_reused", message: "reused" } }, 401);
      live = cookie = `r${Number(live.slice(1)) + 1}`;
      issued += 1;
      return json({ access_token: `a${issued}`, token_type: "Bearer", expires_in: 900 });
    }
    if (path === "/api/v1/auth/oauth/identities/github/unlink") {  // a wrong password: not the token
      return json({ error: { code: "invalid_credentials", message: "wrong email or password" } }, 401);
    }
    const auth = request.headers.get("Authorization");
    // A refused token says so in WWW-Authenticate (RFC 6750), as the gateway and auth do.
    return auth === `Bearer a${issued}` ? json({ ok: true })
      : json({ error: { code: "unauthorized", message: "x" } }, 401, { "WWW-Authenticate": 'Bearer error="invalid_token"' });
  });
  return {
    fetch, calls,
    stealCookie: () => cookie,
    /** The server stops accepting the access tokens it gave so far (as after a restart). */
    expireAccess: () => { issued += 1; },
    setCookie: (value: string | null) => { cookie = value; },
  };
}

const noSharing = { locks: null, channel: null } as const;

describe("Session", () => {
  it("keeps the access token in memory and never sees a refresh token", async () => {
    const gateway = fakeGateway();
    const session = new Session({ fetch: gateway.fetch as typeof fetch, ...noSharing });
    await session.login("a@example.com", "pw");
    expect(session.getState().status).toBe("signed-in");
    expect(session.accessToken()).toBe("a1");
    const loginRequest = gateway.fetch.mock.calls[0][0] as Request;
    expect(loginRequest.headers.get("X-Chatlens-Session")).toBe("cookie");
    expect(await loginRequest.clone().json()).toEqual({ email: "a@example.com", password: "pw", totp: null });
  });

  it("names the user by the token's sub for error reports, and nobody once signed out", async () => {
    const claims = btoa(JSON.stringify({ sub: "user-42", email: "a@example.com", perms: ["x"] }))
      .replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const token = `eyJhbGciOiJSUzI1NiJ9.${claims}.c2ln`;
    const fetch = vi.fn(async () => new Response(
      JSON.stringify({ access_token: token, token_type: "Bearer", expires_in: 900 }),
      { headers: { "Content-Type": "application/json" } }));
    const session = new Session({ fetch: fetch as typeof globalThis.fetch, ...noSharing });
    expect(session.userId()).toBeNull();
    await session.login("a@example.com", "pw");
    expect(session.userId()).toBe("user-42");
    expect(session.permissions()).toEqual(new Set(["x"]));
  });

  it("refreshes once and retries a request that got a 401", async () => {
    const gateway = fakeGateway();
    const session = new Session({ fetch: gateway.fetch as typeof fetch, ...noSharing });
    await session.login("a@example.com", "pw");
    gateway.expireAccess();
    const response = await session.authFetch(new Request("http://app/api/v1/collections"));
    expect(response.status).toBe(200);
    expect(gateway.calls.filter((p) => p === "/api/v1/auth/refresh")).toHaveLength(1);
    expect(session.accessToken()).toBe("a3");
  });

  it("sends a 401 that is not about the token (a wrong password) back as it is, once", async () => {
    const gateway = fakeGateway();
    const session = new Session({ fetch: gateway.fetch as typeof fetch, ...noSharing });
    await session.login("a@example.com", "pw");
    const response = await session.authFetch(new Request("http://app/api/v1/auth/oauth/identities/github/unlink",
      { method: "POST", body: JSON.stringify({ password: "wrong" }) }));
    expect(response.status).toBe(401);
    expect(gateway.calls.filter((p) => p.endsWith("/unlink"))).toHaveLength(1);
    expect(gateway.calls.filter((p) => p === "/api/v1/auth/refresh")).toHaveLength(0);
    expect(session.getState().status).toBe("signed-in");
  });

  it("shares one refresh between concurrent callers", async () => {
    const gateway = fakeGateway();
    const session = new Session({ fetch: gateway.fetch as typeof fetch, ...noSharing });
    await session.login("a@example.com", "pw");
    const stale = session.accessToken();
    const results = await Promise.all([session.refresh(stale), session.refresh(stale), session.refresh(stale)]);
    expect(results).toEqual([true, true, true]);
    expect(gateway.calls.filter((p) => p === "/api/v1/auth/refresh")).toHaveLength(1);
  });

  it("skips its own refresh when another tab already broadcast a new token", async () => {
    const gateway = fakeGateway();
    const a = new BroadcastChannel("test-tabs");
    const b = new BroadcastChannel("test-tabs");
    const tab1 = new Session({ fetch: gateway.fetch as typeof fetch, locks: null, channel: a });
    const tab2 = new Session({ fetch: gateway.fetch as typeof fetch, locks: null, channel: b });
    await tab1.login("a@example.com", "pw");
    await vi.waitFor(() => expect(tab2.accessToken()).toBe("a1"));
    const before = gateway.calls.length;
    expect(await tab2.refresh("a0")).toBe(true); // its stale token was already replaced
    expect(gateway.calls.length).toBe(before);
    a.close();
    b.close();
  });

  it("signs out with a clear message when the refresh token was reused", async () => {
    const gateway = fakeGateway();
    const session = new Session({ fetch: gateway.fetch as typeof fetch, ...noSharing });
    await session.login("a@example.com", "pw");
    const stolen = gateway.stealCookie();
    await session.refresh(session.accessToken()); // rotates: the stolen one is spent
    gateway.setCookie(stolen);
    expect(await session.refresh(session.accessToken())).toBe(false);
    expect(session.getState()).toEqual({ status: "signed-out", reason: REUSED_MESSAGE });
    expect(session.accessToken()).toBeNull();
  });

  it("refreshes silently a minute before the access token expires", async () => {
    vi.useFakeTimers();
    try {
      const gateway = fakeGateway();
      const session = new Session({ fetch: gateway.fetch as typeof fetch, ...noSharing });
      await session.login("a@example.com", "pw"); // expires in 900 s
      await vi.advanceTimersByTimeAsync(838_000);
      expect(gateway.calls).not.toContain("/api/v1/auth/refresh");
      await vi.advanceTimersByTimeAsync(3_000);
      expect(gateway.calls.filter((p) => p === "/api/v1/auth/refresh")).toHaveLength(1);
      expect(session.accessToken()).toBe("a2");
    } finally {
      vi.useRealTimers();
    }
  });

  it("restores a session from the cookie on load, or settles as signed out", async () => {
    const gateway = fakeGateway();
    const fresh = new Session({ fetch: gateway.fetch as typeof fetch, ...noSharing });
    await fresh.restore();
    expect(fresh.getState()).toEqual({ status: "signed-out", reason: undefined });
    gateway.setCookie("r1");
    const reloaded = new Session({ fetch: gateway.fetch as typeof fetch, ...noSharing });
    await reloaded.restore();
    expect(reloaded.getState().status).toBe("signed-in");
  });
});
