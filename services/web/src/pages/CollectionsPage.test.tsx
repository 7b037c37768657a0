import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { fakeSession, fakeToken, renderWithServices } from "../test/render";
import CollectionsPage from "./CollectionsPage";

const TEAM = { id: "c1", name: "Team chats", description: "the ops group", version: 4,
  created_at: "2025-02-14T11:15:00Z" };

/** The gateway's collection routes, as far as this page uses them. */
const ANALYST = ["collections:read", "collections:write", "uploads:create", "search:read"];
const VIEWER = ["collections:read", "search:read", "answers:create"];

function fakeApi(perms = ANALYST) {
  let collections = [TEAM];
  const seen: string[] = [];
  const fetch = vi.fn(async (request: Request) => {
    const { pathname } = new URL(request.url);
    seen.push(`${request.method} ${pathname}`);
    if (pathname === "/api/v1/auth/refresh") {
      return Response.json({ access_token: fakeToken(perms), expires_in: 900, token_type: "Bearer" });
    }
    if (request.method === "DELETE" && pathname === "/api/v1/collections/c1") {
      collections = [];
      return new Response(null, { status: 204 });
    }
    return Response.json({ collections });
  });
  return { fetch, seen };
}

async function renderPage(fetch: (request: Request) => Promise<Response>) {
  const session = fakeSession(fetch);
  await session.restore();
  renderWithServices(<MemoryRouter><CollectionsPage /></MemoryRouter>, session);
}

describe("CollectionsPage", () => {
  it("deletes a collection only after a confirmation that names what is lost", async () => {
    const api = fakeApi();
    await renderPage(api.fetch);
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Delete Team chats" }));
    const dialog = await screen.findByRole("dialog");
    expect(dialog).toHaveTextContent("Team chats");
    expect(dialog).toHaveTextContent("every message indexed in it, its history of 5 versions");
    expect(api.seen).not.toContain("DELETE /api/v1/collections/c1");
    await user.click(within(dialog).getByRole("button", { name: "Delete for good" }));
    expect(await screen.findByText(/No collections yet/)).toBeInTheDocument();
    expect(api.seen).toContain("DELETE /api/v1/collections/c1");
  });

  it("cancelling the confirmation deletes nothing", async () => {
    const api = fakeApi();
    await renderPage(api.fetch);
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Delete Team chats" }));
    await user.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Cancel" }));
    expect(api.seen.filter((call) => call.startsWith("DELETE"))).toEqual([]);
    expect(screen.getByRole("link", { name: "Team chats" })).toBeInTheDocument();
  });

  it("offers a viewer neither a new collection nor a delete", async () => {
    await renderPage(fakeApi(VIEWER).fetch);
    expect(await screen.findByRole("link", { name: "Team chats" })).toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "Create a collection" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Delete Team chats" })).toBeNull();
    expect(screen.queryByRole("link", { name: "Upload" })).toBeNull();
  });
});
