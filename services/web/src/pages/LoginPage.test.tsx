import { MantineProvider } from "@mantine/core";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createMemoryRouter, RouterProvider } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/errors";
import { Session } from "../auth/session";
import { createServices, ServicesProvider } from "../services";
import LoginPage from "./LoginPage";

function renderLogin(session: Session) {
  const router = createMemoryRouter([
    { path: "/login", element: <LoginPage /> },
    { path: "/collections/x", element: <p>the protected page</p> },
  ], { initialEntries: [{ pathname: "/login", state: { from: "/collections/x" } }] });
  render(
    <MantineProvider>
      <ServicesProvider services={createServices(session)}>
        <RouterProvider router={router} />
      </ServicesProvider>
    </MantineProvider>,
  );
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
