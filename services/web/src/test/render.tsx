// One way for component tests to render a page: Mantine, the app's services over a fake
// gateway (the real Session and typed client, the fetch underneath replaced) and a fresh cache.
import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { Session } from "../auth/session";
import { createServices, ServicesProvider } from "../services";

/** A Session whose every request goes to `fetch` (no Web Locks, no other tabs). */
export function fakeSession(fetch: (request: Request) => Promise<Response>): Session {
  return new Session({ fetch: fetch as unknown as typeof globalThis.fetch, locks: null, channel: null,
    baseUrl: "http://localhost" });
}

/** Renders `ui` (a router with the page in it) inside the providers the app gives every page. */
export function renderWithServices(ui: ReactNode, session: Session) {
  return render(
    <MantineProvider>
      <ServicesProvider services={createServices(session)}>
        <QueryClientProvider client={new QueryClient()}>{ui}</QueryClientProvider>
      </ServicesProvider>
    </MantineProvider>,
  );
}

/** An access token as auth signs it, as far as the app reads one (its `perms` claim). */
export function fakeToken(perms: string[]): string {
  const part = (value: object) => btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${part({ alg: "RS256" })}.${part({ sub: "u1", perms })}.signature`;
}
