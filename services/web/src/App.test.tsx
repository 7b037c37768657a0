import { MantineProvider } from "@mantine/core";
import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { makeQueryClient, prefetchData } from "./App";
import SearchPage from "./pages/SearchPage";
import { createServices, ServicesProvider } from "./services";
import { fakeSession } from "./test/render";

const HIT = {
  message_id: "m1", platform: "whatsapp", chat: "Team Lisbon", sender: "Marta",
  sent_at: "2025-02-14T11:15:00Z", text: "Booked the venue in Lisbon", score: 0.5, semantic_score: 0.4,
  keyword_score: 1.2, highlights: [[20, 26]], highlighted: "", context: [], collection_id: null, found_in: null,
};

function fakeGateway() {
  const asked: string[] = [];
  const fetch = vi.fn(async (request: Request) => {
    const { pathname } = new URL(request.url);
    asked.push(`${request.method} ${pathname}`);
    if (pathname.endsWith("/versions")) return Response.json({ versions: [] });
    if (pathname.endsWith("/search")) return Response.json({ results: [HIT], version: 2, next_cursor: null, interpreted: {} });
    return Response.json({ id: "c1", name: "Trips", version: 2 });
  });
  return { fetch, asked };
}

describe("prefetchData", () => {
  it("sends a linked search's requests before its page renders, and the page does not send them again", async () => {
    const gateway = fakeGateway();
    const services = createServices(fakeSession(gateway.fetch));
    const client = makeQueryClient();
    prefetchData({ pathname: "/collections/c1/search", search: "?q=Lisbon&mode=keyword" }, client, services.api);
    await vi.waitFor(() => expect(gateway.asked).toHaveLength(3));
    expect(gateway.asked.sort()).toEqual([
      "GET /api/v1/collections/c1", "GET /api/v1/collections/c1/versions", "POST /api/v1/collections/c1/search",
    ]);
    await vi.waitFor(() => expect(client.isFetching()).toBe(0));

    render(
      <MantineProvider>
        <ServicesProvider services={services}>
          <QueryClientProvider client={client}>
            <MemoryRouter initialEntries={["/collections/c1/search?q=Lisbon&mode=keyword"]}>
              <Routes><Route path="/collections/:collectionId/search" element={<SearchPage />} /></Routes>
            </MemoryRouter>
          </QueryClientProvider>
        </ServicesProvider>
      </MantineProvider>,
    );
    expect(await screen.findByText("Lisbon", { selector: "mark" })).toBeInTheDocument();
    expect(gateway.asked).toHaveLength(3);
  });

  it("asks for nothing on a page without a prefetch, nor for a search without words", async () => {
    const gateway = fakeGateway();
    const client = makeQueryClient();
    const { api } = createServices(fakeSession(gateway.fetch));
    prefetchData({ pathname: "/account", search: "" }, client, api);
    prefetchData({ pathname: "/collections/c1/search", search: "?chat=Team" }, client, api);
    await vi.waitFor(() => expect(gateway.asked).toHaveLength(2));
    expect(gateway.asked.sort()).toEqual(["GET /api/v1/collections/c1", "GET /api/v1/collections/c1/versions"]);
  });
});
