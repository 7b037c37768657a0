import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createMemoryRouter, RouterProvider } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/errors";
import { Session } from "../auth/session";
import { createServices, ServicesProvider } from "../services";
import LoginPage from "./LoginPage";

function renderLogin(session: Session, search = "") {
  const router = createMemoryRouter([
    { path: "/login", element: <LoginPage /> },
    { path: "/collections/x", element: <p>the protected page</p> },
  ], { initialEntries: [{ pathname: "/login", search, state: { from: "/collections/x" } }] });
  render(
    <MantineProvider>
      <ServicesProvider services={createServices(session)}>
        <QueryClientProvider client={new QueryClient()}>
          <RouterProvider router={router} />
        </QueryClientProvider>
      </ServicesProvider>
    </MantineProvider>,
  );
}

/** auth's OAuth routes as the gateway relays them, with `names` configured. */
function oauthGateway(names: { name: string; label: string }[]) {
  const requests: Request[] = [];
  const fetch = vi.fn(async (request: Request) => {
    requests.push(request);
    const { pathname } = new URL(request.url);
    if (pathname === "/api/v1/auth/oauth/providers") {
      return Response.json({ providers: names.map((p) => ({ ...p, start_url: `/api/v1/auth/oauth/${p.name}/start` })) });
    }
    const started = /^\/api\/v1\/auth\/oauth\/(\w+)\/start$/.exec(pathname);
    if (started) return Response.json({ authorization_url: `https://provider.example/authorize?state=s-${started[1]}` });
    return Response.json({ error: { code: "not_found", message: pathname } }, { status: 404 });
  });
  return { session: new Session({ locks: null, channel: null, fetch: fetch as unknown as typeof globalThis.fetch,
    baseUrl: "http://localhost" }), requests };
}

describe("LoginPage", () => {
  it("asks for the authentication code when the account has MFA, then goes back where it was", async () => {
    const session = new Session({ locks: null, channel: null, fetch: vi.fn() });
    const login = vi.spyOn(session, "login")
      .mockRejectedValueOnce(new ApiError(401, "mfa_required", "a code is needed"))
      .mockImplementationOnce(async () => {
        (session as unknown as { setState: (s: object) => void }).setState({ status: "signed-in" });
      });
    renderLogin(session);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText(/email/i), "a@example.com");
    await user.type(screen.getByLabelText(/^password/i), "secret passphrase");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    await user.type(await screen.findByLabelText(/authentication code/i), "123456");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("the protected page")).toBeInTheDocument();
    expect(login).toHaveBeenLastCalledWith("a@example.com", "secret passphrase", "123456");
  });

  it("offers a button per configured provider that starts its sign-in in cookie mode and leaves for it", async () => {
    const { session, requests } = oauthGateway([{ name: "github", label: "GitHub" }, { name: "google", label: "Google" }]);
    const assign = vi.fn();
    vi.stubGlobal("location", { ...window.location, assign, origin: "http://localhost" });
    try {
      renderLogin(session);
      const github = await screen.findByRole("button", { name: "Continue with GitHub" });
      expect(github).toHaveAttribute("data-start-url", "/api/v1/auth/oauth/github/start");
      expect(screen.getByRole("button", { name: "Continue with Google" }))
        .toHaveAttribute("data-start-url", "/api/v1/auth/oauth/google/start");
      await userEvent.setup().click(github);
      await vi.waitFor(() => expect(assign).toHaveBeenCalledWith("https://provider.example/authorize?state=s-github"));
      const start = requests.find((r) => r.url.endsWith("/oauth/github/start"))!;
      expect(start.headers.get("X-Chatlens-Session")).toBe("cookie");
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("offers no provider button when none is configured", async () => {
    const { session, requests } = oauthGateway([]);
    renderLogin(session);
    await vi.waitFor(() => expect(requests.some((r) => r.url.endsWith("/oauth/providers"))).toBe(true));
    expect(screen.queryByRole("button", { name: /Continue with/ })).toBeNull();
  });

  it("says why a provider's sign-in came back refused", async () => {
    const { session } = oauthGateway([{ name: "github", label: "GitHub" }]);
    renderLogin(session, "?oauth_error=the+sign-in+was+cancelled+at+the+provider");
    expect(await screen.findByTestId("oauth-error")).toHaveTextContent("the sign-in was cancelled at the provider");
  });

  it("shows the API's refusal next to the form", async () => {
    const session = new Session({ locks: null, channel: null, fetch: vi.fn() });
    vi.spyOn(session, "login").mockRejectedValue(new ApiError(401, "invalid_credentials", "wrong email or password"));
    renderLogin(session);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText(/email/i), "a@example.com");
    await user.type(screen.getByLabelText(/^password/i), "nope");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("wrong email or password");
  });
});
