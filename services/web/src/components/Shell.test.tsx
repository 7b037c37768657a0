import { screen } from "@testing-library/react";
import { useState } from "react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { useMe } from "../services";
import { fakeSession, renderWithServices } from "../test/render";
import { Shell } from "./Shell";

describe("Shell", () => {
  it("lists the keyboard shortcuts on ? and from its button; the account is one click away", async () => {
    const fetch = vi.fn(async (request: Request) => new URL(request.url).pathname === "/api/v1/auth/orgs"
      ? Response.json({ active: "o1", orgs: [{ id: "o1", name: "Mine", role: "owner" }] })
      : Response.json({ email: "me@example.com" }));
    renderWithServices(<MemoryRouter><Shell /></MemoryRouter>, fakeSession(fetch));
    const user = userEvent.setup();
    expect(await screen.findByRole("link", { name: "Account of me@example.com" })).toHaveAttribute("href", "/account");
    await user.keyboard("?");
    expect(await screen.findByRole("dialog", { name: "Keyboard shortcuts" })).toHaveTextContent("Jump to the search box");
    await user.keyboard("{Escape}");
    await vi.waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    await user.click(screen.getByRole("button", { name: "Keyboard shortcuts" }));
    expect(await screen.findByTestId("shortcuts")).toBeInTheDocument();
  });

  it("asks for the signed-in user once, however many parts of the page read it", async () => {
    const fetch = vi.fn(async (request: Request) => new URL(request.url).pathname === "/api/v1/auth/orgs"
      ? Response.json({ active: "o1", orgs: [{ id: "o1", name: "Mine", role: "owner" }] })
      : Response.json({ email: "me@example.com" }));
    function Reader() {
      const me = useMe();
      return <p>page for {me.data?.email}</p>;
    }
    function LaterPage() {  // a page that mounts after the Shell has read "me"
      const [shown, setShown] = useState(false);
      return shown ? <Reader /> : <button onClick={() => setShown(true)}>open the page</button>;
    }
    renderWithServices(<MemoryRouter><Shell /><LaterPage /></MemoryRouter>, fakeSession(fetch));
    await screen.findByRole("link", { name: "Account of me@example.com" });
    await userEvent.setup().click(screen.getByRole("button", { name: "open the page" }));
    expect(await screen.findByText("page for me@example.com")).toBeInTheDocument();
    const asked = fetch.mock.calls.filter(([request]) => new URL(request.url).pathname === "/api/v1/me");
    expect(asked).toHaveLength(1);
  });
});
