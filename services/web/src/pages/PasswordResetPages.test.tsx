import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeSession, renderWithServices } from "../test/render";
import ForgotPasswordPage from "./ForgotPasswordPage";
import ResetPasswordPage from "./ResetPasswordPage";

const ACCEPTED = "If an account has this address, a link to reset its password is on its way.";

/** auth's reset routes as the gateway relays them: one live token, spent once. */
function fakeAuth() {
  const calls: { path: string; body: unknown }[] = [];
  let live = true;
  const fetch = vi.fn(async (request: Request) => {
    const path = new URL(request.url).pathname;
    const body = await request.json().catch(() => null);
    calls.push({ path, body });
    if (path === "/api/v1/auth/password-reset") return Response.json({ message: ACCEPTED }, { status: 202 });
    if (path === "/api/v1/auth/password-reset/confirm") {
      const { token, new_password } = body as { token: string; new_password: string };
      if (new_password === "password1234") {
        return Response.json({ error: { code: "weak_password", message: "this password is too common" } }, { status: 422 });
      }
      if (token !== "pr_good" || !live) {
        return Response.json({ error: { code: "invalid_reset_token", message: "this reset link is invalid, used or expired" } }, { status: 400 });
      }
      live = false;
      return new Response(null, { status: 204 });
    }
    return Response.json({ error: { code: "not_found", message: path } }, { status: 404 });
  });
  return { fetch, calls };
}

afterEach(() => window.history.replaceState(null, "", "/"));

describe("ForgotPasswordPage", () => {
  it("asks for a link and shows the answer that never tells whether the address has an account", async () => {
    const { fetch, calls } = fakeAuth();
    renderWithServices(<MemoryRouter><ForgotPasswordPage /></MemoryRouter>, fakeSession(fetch));
    const user = userEvent.setup();
    await user.type(screen.getByLabelText(/^Email/), "ada@example.com");
    await user.click(screen.getByRole("button", { name: "Send the link" }));
    expect(await screen.findByTestId("reset-requested")).toHaveTextContent(ACCEPTED);
    expect(calls).toEqual([{ path: "/api/v1/auth/password-reset", body: { email: "ada@example.com" } }]);
  });
});

describe("ResetPasswordPage", () => {
  it("reads the token from the link's fragment, drops it from the address bar and sets the password once", async () => {
    window.history.replaceState(null, "", "/reset-password#token=pr_good");
    const { fetch, calls } = fakeAuth();
    renderWithServices(<MemoryRouter><ResetPasswordPage /></MemoryRouter>, fakeSession(fetch));
    expect(window.location.hash).toBe("");
    const user = userEvent.setup();
    await user.type(screen.getByLabelText(/^New password(?! again)/), "password1234");
    await user.type(screen.getByLabelText(/^New password again/), "password1234");
    await user.click(screen.getByRole("button", { name: "Set the password" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("this password is too common");
    await user.clear(screen.getByLabelText(/^New password(?! again)/));
    await user.clear(screen.getByLabelText(/^New password again/));
    await user.type(screen.getByLabelText(/^New password(?! again)/), "a brand new and long passphrase");
    await user.type(screen.getByLabelText(/^New password again/), "a brand new and long passphrase");
    await user.click(screen.getByRole("button", { name: "Set the password" }));
    expect(await screen.findByTestId("reset-done")).toHaveTextContent("every session of your account was signed out");
    expect(calls.at(-1)).toEqual({ path: "/api/v1/auth/password-reset/confirm",
      body: { token: "pr_good", new_password: "a brand new and long passphrase" } });
  });

  it("says when the link is used or expired and offers a new one", async () => {
    window.history.replaceState(null, "", "/reset-password#token=pr_spent");
    const { fetch } = fakeAuth();
    renderWithServices(<MemoryRouter><ResetPasswordPage /></MemoryRouter>, fakeSession(fetch));
    const user = userEvent.setup();
    await user.type(screen.getByLabelText(/^New password(?! again)/), "a brand new and long passphrase");
    await user.type(screen.getByLabelText(/^New password again/), "a brand new and long passphrase");
    await user.click(screen.getByRole("button", { name: "Set the password" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("invalid, used or expired");
    expect(screen.getByRole("link", { name: "Ask for a new link" })).toHaveAttribute("href", "/forgot-password");
  });

  it("refuses a link without a token and offers nothing to submit", () => {
    window.history.replaceState(null, "", "/reset-password");
    renderWithServices(<MemoryRouter><ResetPasswordPage /></MemoryRouter>, fakeSession(fakeAuth().fetch));
    expect(screen.getByRole("alert")).toHaveTextContent("This link has no reset token");
    expect(screen.queryByRole("button", { name: "Set the password" })).toBeNull();
  });
});
