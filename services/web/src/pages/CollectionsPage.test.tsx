import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { Session } from "../auth/session";
import { createServices, ServicesProvider } from "../services";
import CollectionsPage from "./CollectionsPage";

const TEAM = { id: "c1", name: "Team chats", description: "the ops group", version: 4,
  created_at: "2025-02-14T11:15:00Z" };

/** The gateway's collection routes, as far as this page uses them. */
function fakeApi() {
  let collections = [TEAM];
  const seen: string[] = [];
  const fetch = vi.fn(async (request: Request) => {
    const { pathname } = new URL(request.url);
    seen.push(`${request.method} ${pathname}`);
    if (request.method === "DELETE" && pathname === "/api/v1/collections/c1") {
      collections = [];
      return new Response(null, { status: 204 });
    }
    return Response.json({ collections });
  });
  return { fetch, seen };
}

function renderPage(fetch: typeof globalThis.fetch) {
  const session = new Session({ fetch, locks: null, channel: null, baseUrl: "http://localhost" });
  render(
    <MantineProvider>
      <ServicesProvider services={createServices(session)}>
        <QueryClientProvider client={new QueryClient()}>
          <MemoryRouter><CollectionsPage /></MemoryRouter>
        </QueryClientProvider>
      </ServicesProvider>
    </MantineProvider>,
  );
}

describe("CollectionsPage", () => {
  it("deletes a collection only after a confirmation that names what is lost", async () => {
    const api = fakeApi();
    renderPage(api.fetch as unknown as typeof fetch);
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
    renderPage(api.fetch as unknown as typeof fetch);
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Delete Team chats" }));
    await user.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Cancel" }));
    expect(api.seen.filter((call) => call.startsWith("DELETE"))).toEqual([]);
    expect(screen.getByRole("link", { name: "Team chats" })).toBeInTheDocument();
  });
});
