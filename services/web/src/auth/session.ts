// The browser session: the access token in memory only, the refresh token in an HttpOnly cookie
// the gateway sets and rotates (X-Chatlens-Session: cookie), so no script here can read it.
//
// Tabs share one refresh: a Web Lock serialises refreshes across every tab of the origin (two
// tabs spending the same cookie at once would look like token theft and end the session), and a
// BroadcastChannel hands the new access token to the others, which then skip their own refresh.
// A refresh refused as a reused token signs every tab out with the reason.
import createClient, { type Client } from "openapi-fetch";
import { ApiError, toApiError } from "../api/errors";
import type { paths } from "../api/schema";

export type SessionStatus = "unknown" | "signed-in" | "signed-out";
export interface SessionState {
  status: SessionStatus;
  /** Why the session ended, when it was not the user's own doing. */
  reason?: string;
}
interface Tokens {
  accessToken: string;
  expiresAt: number;
}
interface TokenBody {
  access_token: string;
  expires_in: number;
}
type Broadcast = { type: "tokens"; tokens: Tokens } | { type: "signed-out"; reason?: string };

const COOKIE_MODE = { "X-Chatlens-Session": "cookie" };
const LOCK = "chatlens-refresh";
const REFRESH_MARGIN_MS = 30_000;

export const REUSED_MESSAGE =
  "Your session was ended because its refresh token was used twice, which can mean it was " +
  "stolen. Every tab has been signed out; sign in again.";
export const EVERYWHERE_MESSAGE = "You signed out everywhere: every device must sign in again.";
export const EXPIRED_MESSAGE = "Your session has expired. Sign in again.";

export interface SessionOptions {
  /** The API's origin (the page's own); a test passes one. */
  baseUrl?: string;
  fetch?: typeof fetch;
  now?: () => number;
  locks?: LockManager | null;
  channel?: BroadcastChannel | null;
}

export class Session {
  private tokens: Tokens | null = null;
  private state: SessionState = { status: "unknown" };
  private readonly listeners = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inflight: Promise<boolean> | null = null;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly locks: LockManager | null;
  private readonly channel: BroadcastChannel | null;
  /** auth's routes, typed from the document; plain fetch underneath (no bearer, no retry). */
  private readonly auth: Client<paths>;

  constructor(options: SessionOptions = {}) {
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = options.now ?? Date.now;
    this.auth = createClient<paths>({
      baseUrl: options.baseUrl ?? globalThis.location?.origin ?? "http://localhost",
      fetch: (request) => this.fetch(request),
    });
    this.locks = options.locks !== undefined ? options.locks : (globalThis.navigator?.locks ?? null);
    this.channel =
      options.channel !== undefined
        ? options.channel
        : typeof BroadcastChannel === "undefined"
          ? null
          : new BroadcastChannel("chatlens-session");
    this.channel?.addEventListener("message", (event: MessageEvent<Broadcast>) =>
      this.onBroadcast(event.data),
    );
  }

  // --- state for React (useSyncExternalStore) ------------------------------------------------
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
  getState = (): SessionState => this.state;
  accessToken(): string | null {
    return this.tokens?.accessToken ?? null;
  }

  /**
   * What the current token allows (its `perms` claim, as auth signed it), so pages offer only
   * what the caller's role may do; the API checks again whatever is sent.
   */
  permissions(): ReadonlySet<string> {
    const perms = this.claims()?.perms;
    // Not a JWT we can read: offer nothing beyond what every member may do.
    return new Set(Array.isArray(perms) ? perms.filter((p): p is string => typeof p === "string") : []);
  }

  /** The signed-in user's id (the token's `sub`), for error reports; null when signed out. */
  userId(): string | null {
    const sub = this.claims()?.sub;
    return typeof sub === "string" && sub ? sub : null;
  }

  private claims(): Record<string, unknown> | null {
    const token = this.accessToken();
    if (!token) return null;
    try {
      const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, "="))) as Record<string, unknown>;
    } catch {
      return null;
    }
  }

  // --- sign-in flows -------------------------------------------------------------------------
  /** Signs in; throws ApiError (code `mfa_required` asks for a TOTP or recovery code). */
  async login(email: string, password: string, totp?: string): Promise<void> {
    const { data, error, response } = await this.auth.POST("/api/v1/auth/login", {
      body: { email, password, totp: totp ?? null }, headers: COOKIE_MODE,
    });
    if (!response.ok || !data) throw toApiError(response.status, error);
    this.adopt(data, true);
  }

  /** Asks for a password-reset link; the answer's message is the same for any address. */
  async requestPasswordReset(email: string): Promise<string> {
    const { data, error, response } = await this.auth.POST("/api/v1/auth/password-reset", { body: { email } });
    if (!response.ok || !data) throw toApiError(response.status, error);
    return data.message;
  }

  /** Sets a new password with a reset link's token; every session of the account ends. */
  async confirmPasswordReset(token: string, newPassword: string): Promise<void> {
    const { error, response } = await this.auth.POST("/api/v1/auth/password-reset/confirm", {
      body: { token, new_password: newPassword },
    });
    if (!response.ok) throw toApiError(response.status, error);
  }

  /** The OAuth providers auth has configured (what the sign-in page offers). */
  async oauthProviders(): Promise<{ name: string; label: string; start_url: string }[]> {
    const { data, error, response } = await this.auth.GET("/api/v1/auth/oauth/providers");
    if (!response.ok || !data) throw toApiError(response.status, error);
    return data.providers;
  }

  /**
   * Starts an OAuth sign-in in cookie mode (the gateway binds its state to this browser) and
   * answers the provider's URL to send the browser to; it comes back signed in, through the
   * gateway's callback, to /collections (or to /login with the reason).
   */
  async oauthStart(name: string): Promise<string> {
    return this.startOAuth(name, COOKIE_MODE);
  }

  /**
   * Starts linking provider `name` to the signed-in account (auth's start with the bearer token):
   * the provider's URL to send the browser to; it comes back to /account?linked=<name> (or to
   * /login with the reason, still signed in). Throws the refusal.
   */
  async oauthLink(name: string): Promise<string> {
    if (!this.fresh()) await this.refresh(this.accessToken());
    return this.startOAuth(name, { ...COOKIE_MODE, Authorization: `Bearer ${this.accessToken() ?? ""}` });
  }

  private async startOAuth(name: string, headers: Record<string, string>): Promise<string> {
    const { data, error, response } = await this.auth.GET("/api/v1/auth/oauth/{name}/start", {
      params: { path: { name } }, headers,
    });
    if (!response.ok || !data) throw toApiError(response.status, error);
    return data.authorization_url;
  }

  /** Creates the account and its personal org, then signs in. */
  async register(email: string, password: string, name: string): Promise<void> {
    const { error, response } = await this.auth.POST("/api/v1/auth/register", {
      body: { email, password, name: name || null },
    });
    if (!response.ok) throw toApiError(response.status, error);
    await this.login(email, password);
  }

  /** Ends the session on the server (which clears the cookie) and in every tab. */
  async logout(): Promise<void> {
    const token = this.accessToken();
    if (token) {
      await this.auth.POST("/api/v1/auth/logout", {
        headers: { ...COOKIE_MODE, Authorization: `Bearer ${token}` },
      }).catch(() => undefined); // signed out here whatever the network says
    }
    this.signOut(undefined, true);
  }

  /**
   * Ends every session of the user, on every device (auth's logout-all, which also clears this
   * browser's cookie), then signs every tab out with the reason. Throws the refusal, signed in.
   */
  async logoutEverywhere(): Promise<void> {
    if (!this.fresh()) await this.refresh(this.accessToken());
    const { error, response } = await this.auth.POST("/api/v1/auth/logout-all", {
      headers: { ...COOKIE_MODE, Authorization: `Bearer ${this.accessToken() ?? ""}` },
    });
    if (!response.ok) throw toApiError(response.status, error);
    this.signOut(EVERYWHERE_MESSAGE, true);
  }

  /**
   * An account change that ends every session and answers with a new token pair for this device
   * (a password change, turning TOTP on or off): the pair replaces the old one here and in every
   * tab, its refresh token in the cookie. Throws the refusal as an ApiError.
   */
  async renew<B extends TokenBody>(call: (auth: Client<paths>, headers: Record<string, string>) =>
    Promise<{ data?: B; error?: unknown; response: Response }>): Promise<B> {
    if (!this.fresh()) await this.refresh(this.accessToken());
    const { data, error, response } = await call(this.auth,
      { ...COOKIE_MODE, Authorization: `Bearer ${this.accessToken() ?? ""}` });
    if (!response.ok || !data) throw toApiError(response.status, error);
    this.adopt(data, true);
    return data;
  }

  /**
   * Moves the session (every tab) into another org of the user: a refresh naming the org, which
   * the gateway relays as auth's switch with the cookie's token. Throws the refusal.
   */
  async switchOrg(orgId: string): Promise<void> {
    const { data, error, response } = await this.exclusive(() => this.auth.POST("/api/v1/auth/refresh", {
      // The cookie carries the token; the gateway reads org_id from this body (browser_session).
      body: { org_id: orgId } as unknown as { refresh_token: string }, headers: COOKIE_MODE,
    }));
    if (!response.ok || !data) throw toApiError(response.status, error);
    this.adopt(data, true);
  }

  /** On page load: the cookie may still hold a session (a reload, a new tab). */
  async restore(): Promise<void> {
    if (this.state.status !== "unknown") return;
    const ok = await this.refresh(null);
    if (!ok && this.state.status === "unknown") this.setState({ status: "signed-out" });
  }

  /**
   * A new access token from the cookie, shared by every tab. `stale` is the token the caller
   * found wanting: if another tab already replaced it, there is nothing to do.
   */
  refresh(stale: string | null): Promise<boolean> {
    if (!this.inflight) {
      this.inflight = this.exclusive(() => this.refreshNow(stale)).finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  /** fetch with the bearer token, refreshed ahead of expiry, and one retry after a refused token. */
  authFetch = async (request: Request): Promise<Response> => {
    if (this.tokens && this.tokens.expiresAt - this.now() < REFRESH_MARGIN_MS) {
      await this.refresh(this.tokens.accessToken);
    }
    const retry = request.clone();
    const used = this.accessToken();
    const first = await this.fetch(withBearer(request, used));
    // Only a refused token is worth a refresh (RFC 6750: it comes with WWW-Authenticate); a
    // wrong password on a confirming route is a 401 too, and sending it again would count twice
    // against the sign-in throttle.
    if (first.status !== 401 || !first.headers.has("WWW-Authenticate")) return first;
    if (this.state.status !== "signed-in") return first;
    if (!(await this.refresh(used))) return first;
    return this.fetch(withBearer(retry, this.accessToken()));
  };

  // --- internals -----------------------------------------------------------------------------
  private async refreshNow(stale: string | null): Promise<boolean> {
    if (this.tokens && this.tokens.accessToken !== stale && this.fresh()) return true;
    let result;
    try {
      // The body's token comes from the cookie: the gateway fills it in (cookie mode).
      result = await this.auth.POST("/api/v1/auth/refresh", {
        body: {} as { refresh_token: string }, headers: COOKIE_MODE,
      });
    } catch {
      return false; // offline or the gateway restarting: keep what we have, try again later
    }
    const { data, response } = result;
    if (response.ok && data) {
      this.adopt(data, true);
      return true;
    }
    const error = toApiError(response.status, result.error);
    if (response.status === 401 || response.status === 403) {
      const signedIn = this.state.status === "signed-in";
      this.signOut(reasonFor(error, signedIn), true);
    }
    return false;
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (!this.locks) return work();
    return this.locks.request(LOCK, work) as Promise<T>;
  }

  private fresh(): boolean {
    return !!this.tokens && this.tokens.expiresAt - this.now() > REFRESH_MARGIN_MS;
  }

  private adopt(body: TokenBody, announce: boolean): void {
    const tokens = { accessToken: body.access_token, expiresAt: this.now() + body.expires_in * 1000 };
    this.setTokens(tokens);
    if (announce) this.post({ type: "tokens", tokens });
  }

  private setTokens(tokens: Tokens): void {
    this.tokens = tokens;
    clearTimeout(this.timer);
    const lifetime = tokens.expiresAt - this.now();
    // Refresh well before expiry: a minute early, or at 80 % of a short lifetime.
    const delay = Math.max(1_000, lifetime - Math.min(60_000, lifetime * 0.2));
    this.timer = setTimeout(() => void this.refresh(tokens.accessToken), delay);
    this.setState({ status: "signed-in" });
  }

  private signOut(reason: string | undefined, announce: boolean): void {
    clearTimeout(this.timer);
    this.tokens = null;
    this.setState({ status: "signed-out", reason });
    if (announce) this.post({ type: "signed-out", reason });
  }

  private onBroadcast(message: Broadcast): void {
    if (message.type === "tokens") this.setTokens(message.tokens);
    else this.signOut(message.reason, false);
  }

  private post(message: Broadcast): void {
    this.channel?.postMessage(message);
  }

  private setState(state: SessionState): void {
    if (state.status === this.state.status && state.reason === this.state.reason) return;
    this.state = state;
    this.listeners.forEach((listener) => listener());
  }
}

function withBearer(request: Request, token: string | null): Request {
  if (token) request.headers.set("Authorization", `Bearer ${token}`);
  return request;
}

function reasonFor(error: ApiError, wasSignedIn: boolean): string | undefined {
  if (error.code === "token_reused") return REUSED_MESSAGE;
  return wasSignedIn ? EXPIRED_MESSAGE : undefined;
}
