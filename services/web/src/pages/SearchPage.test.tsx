import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { Session } from "../auth/session";
import { createServices, ServicesProvider } from "../services";
import SearchPage from "./SearchPage";

const HIT = {
  message_id: "m1", platform: "whatsapp", chat: "Team Lisbon", sender: "Marta",
  sent_at: "2025-02-14T11:15:00Z", text: "Booked the venue in Lisbon <b>now</b>",
  score: 0.5, semantic_score: 0.4, keyword_score: 1.2, highlights: [[20, 26]],
  highlighted: "IGNORED <script>", context: [], collection_id: null, found_in: null,
};

function fakeApi(versions: { version: number; messages: number }[] = []) {
  const searches: Record<string, unknown>[] = [];
  const fetch = vi.fn(async (request: Request) => {
    const { pathname } = new URL(request.url);
    if (pathname.endsWith("/versions")) return Response.json({ versions });
    searches.push(await request.json());
    return Response.json({ results: [HIT], version: 2, next_cursor: null, interpreted: {} });
  });
  return { fetch, searches };
}

/** The search page at `url`, over the fake gateway, in the providers the app gives it. */
function renderSearchPage(api: ReturnType<typeof fakeApi>, url: string) {
  const session = new Session({ fetch: api.fetch as unknown as typeof fetch, locks: null, channel: null });
  render(
    <MantineProvider>
      <ServicesProvider services={createServices(session)}>
        <QueryClientProvider client={new QueryClient()}>
          <MemoryRouter initialEntries={[url]}>
            <Routes><Route path="/collections/:collectionId/search" element={<SearchPage />} /></Routes>
          </MemoryRouter>
        </QueryClientProvider>
      </ServicesProvider>
    </MantineProvider>,
  );
}

describe("SearchPage", () => {
  it("searches, marks the matched words as text, and sends filter chips as the API's filters", async () => {
    const api = fakeApi();
    renderSearchPage(api, "/collections/c1/search");
    const user = userEvent.setup();
    await user.type(screen.getByRole("textbox", { name: "Search" }), "venue from:Marta{Enter}");
    const mark = await screen.findByText("Lisbon", { selector: "mark" });
    expect(mark.closest("[data-testid=search-hit]")).toHaveTextContent("Booked the venue in Lisbon <b>now</b>");
    expect(document.querySelector("[data-testid=search-hit] b, [data-testid=search-hit] script")).toBeNull();
    expect(api.searches[0]).toMatchObject({ query: "venue from:Marta", mode: "hybrid", filters: {} });

    await user.type(screen.getByRole("textbox", { name: "Filter value" }), "Inês{Enter}");
    await waitFor(() => expect(api.searches).toHaveLength(2));
    expect(api.searches[1]).toMatchObject({ filters: { sender: ["Inês"] } });
    expect(screen.getByText("From: Inês")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Remove filter From Inês" }));
    await waitFor(() => expect(api.searches).toHaveLength(3));
    expect(api.searches[2]).toMatchObject({ filters: {} });
  });

  it("searches at once for the words a dashboard link carries, in its mode, with its filters", async () => {
    const api = fakeApi();
    renderSearchPage(api, "/collections/c1/search?chat=Team&q=porto&mode=keyword");
    await screen.findByText("Lisbon", { selector: "mark" });
    expect(api.searches[0]).toMatchObject({ query: "porto", mode: "keyword", filters: { chat: ["Team"] } });
    expect(screen.getByRole("textbox", { name: "Search" })).toHaveValue("porto");
  });

  it("names each version short enough to read in the picker, the whole wording in its title", async () => {
    const api = fakeApi([{ version: 3, messages: 120 }, { version: 4, messages: 1207 }]);
    renderSearchPage(api, "/collections/c1/search?q=venue");
    const user = userEvent.setup();
    const picker = screen.getByRole("textbox", { name: "Version" });
    await user.click(picker);
    const listbox = await vi.waitFor(() => document.getElementById(picker.getAttribute("aria-controls") ?? "")!);
    // (jsdom runs no transitions: the dropdown stays "hidden" to the accessibility tree there)
    await within(listbox).findByRole("option", { name: /^v4/, hidden: true });
    const options = within(listbox).getAllByRole("option", { hidden: true });
    expect(options.map((option) => option.textContent)).toEqual([
      `v4 · ${(1207).toLocaleString()} messages`, "v3 · 120 messages",
    ]);
    await user.click(options[0]);
    expect(picker).toHaveValue(`v4 · ${(1207).toLocaleString()} messages`);
    expect(picker).toHaveAttribute("title", `Version 4, ${(1207).toLocaleString()} messages`);
    await waitFor(() => expect(api.searches.at(-1)).toMatchObject({ query: "venue", version: "4" }));
  });
});
