import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { fakeSession, renderWithServices } from "../test/render";
import AccountPage from "./AccountPage";

const pair = (token: string) => ({ access_token: token, expires_in: 900, token_type: "Bearer" });

/** auth's account routes as the gateway relays them, with the state they change. */
function fakeAuth(linked = false) {
  const calls: { method: string; path: string; bearer: string | null; cookieMode: boolean; body: unknown }[] = [];
  let totp = false;
  let identities = linked
    ? [{ provider: "github", label: "GitHub", email: "me@users.github.test", linked_at: "2025-03-01T10:00:00Z" }]
    : [];
  let keys: Record<string, unknown>[] = [];
  const sessions = [
    { id: "s1", current: true, address: "127.0.0.1", user_agent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0",
      started_at: "2025-03-01T10:00:00Z", last_seen_at: "2025-03-01T11:00:00Z", org_id: "o1" },
    { id: "s2", current: false, address: "10.0.0.9", user_agent: "curl/8.5",
      started_at: "2025-02-01T10:00:00Z", last_seen_at: "2025-02-02T11:00:00Z", org_id: "o1" },
  ];
  const fetch = vi.fn(async (request: Request) => {
    const path = new URL(request.url).pathname;
    const body = request.method === "GET" || request.method === "DELETE" ? null : await request.json().catch(() => null);
    calls.push({ method: request.method, path, body, bearer: request.headers.get("Authorization"),
      cookieMode: request.headers.get("X-Chatlens-Session") === "cookie" });
    const route = `${request.method} ${path}`;
    if (route === "POST /api/v1/auth/refresh") return Response.json(pair("t0"));
    if (route === "POST /api/v1/auth/password") {
      const ok = (body as { current_password: string }).current_password === "old secret words";
      return ok ? Response.json(pair("t1"))
        : Response.json({ error: { code: "invalid_credentials", message: "the password is wrong" } }, { status: 401 });
    }
    if (route === "GET /api/v1/auth/mfa") return Response.json({ totp, recovery_codes_left: totp ? 10 : 0 });
    if (route === "POST /api/v1/auth/mfa/totp") {
      return Response.json({ secret: "JBSWY3DPEHPK3PXP", qr_svg: "<svg/>",
        otpauth_uri: "otpauth://totp/Chatlens:me@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Chatlens" }, { status: 201 });
    }
    if (route === "POST /api/v1/auth/mfa/totp/confirm") {
      totp = true;
      return Response.json({ ...pair("t2"), recovery_codes: ["aaaa-bbbb", "cccc-dddd"] });
    }
    if (route === "GET /api/v1/auth/sessions") return Response.json({ sessions });
    if (route === "GET /api/v1/auth/oauth/providers") {
      return Response.json({ providers: [{ name: "github", label: "GitHub", start_url: "/api/v1/auth/oauth/github/start" }] });
    }
    if (route === "GET /api/v1/auth/oauth/github/start") {
      return Response.json({ authorization_url: "https://provider.example/authorize?state=link-1" });
    }
    if (route === "GET /api/v1/auth/oauth/identities") return Response.json({ identities });
    if (route === "POST /api/v1/auth/oauth/identities/github/unlink") {
      if ((body as { password: string }).password !== "old secret words") {
        return Response.json({ error: { code: "invalid_credentials", message: "wrong email or password" } }, { status: 401 });
      }
      identities = [];
      return new Response(null, { status: 204 });
    }
    if (route === "DELETE /api/v1/auth/sessions/s2") return new Response(null, { status: 204 });
    if (route === "POST /api/v1/auth/logout-all") return new Response(null, { status: 204 });
    if (route === "GET /api/v1/auth/api-keys") return Response.json({ api_keys: keys });
    if (route === "POST /api/v1/auth/api-keys") {
      const { name, scopes } = body as { name: string; scopes: string[] };
      const key = { id: "k1", name, scopes, user_id: "u1", created_at: "2025-03-01T10:00:00Z",
        expires_at: "2025-06-01T10:00:00Z", last_used_at: null, revoked: false };
      keys = [key];
      return Response.json({ ...key, key: "clk_secret_shown_once" }, { status: 201 });
    }
    if (route === "DELETE /api/v1/auth/api-keys/k1") {
      keys = keys.map((k) => ({ ...k, revoked: true }));
      return new Response(null, { status: 204 });
    }
    return Response.json({ error: { code: "not_found", message: route } }, { status: 404 });
  });
  return { fetch, calls };
}

async function renderPage(entry = "/account", linked = false) {
  const auth = fakeAuth(linked);
  const session = fakeSession(auth.fetch);
  await session.restore();
  renderWithServices(<MemoryRouter initialEntries={[entry]}><AccountPage /></MemoryRouter>, session);
  return { ...auth, session, user: userEvent.setup() };
}

describe("AccountPage", () => {
  it("changes the password in cookie mode and carries on with the new token", async () => {
    const { calls, session, user } = await renderPage();
    const form = screen.getByRole("form", { name: "Change password" });
    await user.type(within(form).getByLabelText("Current password"), "wrong");
    await user.type(within(form).getByLabelText("New password"), "a new and long passphrase 9");
    await user.type(within(form).getByLabelText("New password again"), "a new and long passphrase 9");
    await user.click(within(form).getByRole("button", { name: "Change password" }));
    expect(await within(form).findByRole("alert")).toHaveTextContent("the password is wrong");
    expect(session.accessToken()).toBe("t0");
    await user.clear(within(form).getByLabelText("Current password"));
    await user.type(within(form).getByLabelText("Current password"), "old secret words");
    await user.click(within(form).getByRole("button", { name: "Change password" }));
    expect(await within(form).findByRole("status")).toHaveTextContent("Every other session has been signed out");
    const change = calls.filter((c) => c.path === "/api/v1/auth/password").at(-1)!;
    expect(change).toMatchObject({ bearer: "Bearer t0", cookieMode: true,
      body: { current_password: "old secret words", new_password: "a new and long passphrase 9" } });
    expect(session.accessToken()).toBe("t1");
  });

  it("enrols an authenticator from a QR code drawn here, then shows the recovery codes once", async () => {
    const { calls, session, user } = await renderPage();
    const mfa = screen.getByRole("region", { name: "Two-step sign-in" });
    await user.click(await within(mfa).findByRole("button", { name: "Set up an authenticator app" }));
    const qr = await within(mfa).findByRole("img", { name: "QR code of the authenticator secret" });
    expect(qr.getAttribute("src")).toMatch(/^data:image\/svg\+xml;charset=utf-8,%3Csvg/);
    expect(within(mfa).getByTestId("totp-secret")).toHaveTextContent("JBSWY3DPEHPK3PXP");
    await user.type(within(mfa).getByLabelText("Code from the app"), "123456");
    await user.click(within(mfa).getByRole("button", { name: "Turn on" }));
    expect(await within(mfa).findByTestId("recovery-codes")).toHaveTextContent("aaaa-bbbbcccc-dddd");
    expect(calls.find((c) => c.path.endsWith("/totp/confirm"))).toMatchObject({ cookieMode: true, body: { code: "123456" } });
    expect(session.accessToken()).toBe("t2");
    await user.click(within(mfa).getByRole("button", { name: "I have saved them" }));
    expect(await within(mfa).findByTestId("mfa-status")).toHaveTextContent("On · 10 recovery codes left.");
    expect(within(mfa).queryByTestId("recovery-codes")).toBeNull();
  });

  it("ends another session but offers no end for this one", async () => {
    const { calls, user } = await renderPage();
    const rows = await screen.findAllByTestId("session-row");
    expect(rows[0]).toHaveTextContent("Chrome on Linux");
    expect(within(rows[0]).queryByRole("button")).toBeNull();
    await user.click(within(rows[1]).getByRole("button", { name: /^End the session of A program/ }));
    await vi.waitFor(() => expect(calls.some((c) => c.method === "DELETE" && c.path.endsWith("/sessions/s2"))).toBe(true));
  });

  it("signs out everywhere after a confirmation, and says why on the way out", async () => {
    const { calls, session, user } = await renderPage();
    await user.click(screen.getByRole("button", { name: "Sign out everywhere" }));
    const dialog = await screen.findByRole("dialog");
    expect(dialog).toHaveTextContent("this one included");
    expect(calls.some((c) => c.path.endsWith("/logout-all"))).toBe(false);
    await user.click(within(dialog).getByRole("button", { name: "Sign out everywhere" }));
    await vi.waitFor(() => expect(session.getState().status).toBe("signed-out"));
    expect(calls.find((c) => c.path.endsWith("/logout-all"))).toMatchObject({ method: "POST", bearer: "Bearer t0", cookieMode: true });
    expect(session.getState().reason).toMatch(/signed out everywhere/);
    expect(session.accessToken()).toBeNull();
  });

  it("links a provider to this account through its start with the bearer token, and says so on return", async () => {
    const assign = vi.fn();
    vi.stubGlobal("location", { ...window.location, assign, origin: "http://localhost" });
    try {
      const { calls, user } = await renderPage();
      const section = await screen.findByRole("region", { name: "Sign in with another account" });
      await user.click(within(section).getByRole("button", { name: "Link GitHub" }));
      await vi.waitFor(() => expect(assign).toHaveBeenCalledWith("https://provider.example/authorize?state=link-1"));
      expect(calls.find((c) => c.path === "/api/v1/auth/oauth/github/start"))
        .toMatchObject({ method: "GET", bearer: "Bearer t0", cookieMode: true });
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("says the provider is linked when the gateway sends the browser back", async () => {
    await renderPage("/account?linked=github");
    const section = await screen.findByRole("region", { name: "Sign in with another account" });
    expect(await within(section).findByRole("status")).toHaveTextContent("Your GitHub account is linked: you can sign in with it.");
  });

  it("says why a link was refused when the gateway sends the browser back with the reason", async () => {
    await renderPage("/account?oauth_error=this+provider+account+is+linked+to+another+user");
    const section = await screen.findByRole("region", { name: "Sign in with another account" });
    expect(await within(section).findByRole("alert"))
      .toHaveTextContent("The provider account was not linked: this provider account is linked to another user");
  });

  it("lists the linked provider account and unlinks it once the password confirms", async () => {
    const { calls, user } = await renderPage("/account", true);
    const section = await screen.findByRole("region", { name: "Sign in with another account" });
    const row = (await within(section).findAllByTestId("linked-provider"))[0];
    await within(row).findByText(/me@users\.github\.test/);
    expect(row).toHaveTextContent("linked");
    expect(within(row).queryByRole("button", { name: "Link GitHub" })).toBeNull();
    await user.click(within(row).getByRole("button", { name: "Unlink GitHub" }));
    const dialog = await screen.findByRole("dialog");
    expect(dialog).toHaveTextContent("will no longer sign you in");
    expect(dialog).toHaveTextContent("made through GitHub and you never set a password");
    await user.type(within(dialog).getByLabelText(/Your password/), "not it");
    await user.click(within(dialog).getByRole("button", { name: "Unlink GitHub" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("wrong email or password");
    await user.clear(within(dialog).getByLabelText(/Your password/));
    await user.type(within(dialog).getByLabelText(/Your password/), "old secret words");
    await user.click(within(dialog).getByRole("button", { name: "Unlink GitHub" }));
    expect(await within(section).findByRole("button", { name: "Link GitHub" })).toBeInTheDocument();
    expect(within(section).getByText("Not linked")).toBeInTheDocument();
    expect(calls.filter((c) => c.path.endsWith("/unlink")).map((c) => c.body))
      .toEqual([{ password: "not it" }, { password: "old secret words" }]);
  });

  it("shows a new API key once and revokes it after a confirmation", async () => {
    const { calls, user } = await renderPage();
    const keys = screen.getByRole("region", { name: "API keys" });
    await user.type(within(keys).getByLabelText("Key name"), "nightly export");
    await user.click(within(keys).getByRole("button", { name: "Create key" }));
    expect(await within(keys).findByTestId("new-api-key")).toHaveTextContent("clk_secret_shown_once");
    expect(calls.find((c) => c.method === "POST" && c.path.endsWith("/api-keys"))!.body)
      .toEqual({ name: "nightly export", scopes: ["collections:read", "search:read"], expires_in_days: 90 });
    await user.click(within(keys).getByRole("button", { name: "I have saved it" }));
    expect(within(keys).queryByTestId("new-api-key")).toBeNull();
    await user.click(await within(keys).findByRole("button", { name: "Revoke key nightly export" }));
    const dialog = await screen.findByRole("dialog");
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    await user.click(within(dialog).getByRole("button", { name: "Revoke" }));
    expect(await within(keys).findByText("revoked")).toBeInTheDocument();
  });
});
