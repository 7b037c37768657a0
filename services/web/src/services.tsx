// The app's composition root: one Session and one typed API client, handed to components
// through context so tests can pass their own.
import { useQuery } from "@tanstack/react-query";
import createClient, { type Client } from "openapi-fetch";
import { createContext, useContext, useSyncExternalStore, type ReactNode } from "react";
import { unwrap } from "./api/errors";
import type { paths } from "./api/schema";
import { Session, type SessionState } from "./auth/session";
import { reportingFailures } from "./lib/errorReports";

export type Api = Client<paths>;
export interface Services {
  session: Session;
  api: Api;
}

export function createServices(session = new Session()): Services {
  const base = typeof window === "undefined" ? "http://localhost" : window.location.origin;
  // The API's failures (5xx) are reported with their correlation ids when reports are on.
  const fetch = reportingFailures(session.authFetch);
  return { session, api: createClient<paths>({ baseUrl: base, fetch }) };
}

const ServicesContext = createContext<Services | null>(null);

export function ServicesProvider({ services, children }: { services: Services; children: ReactNode }) {
  return <ServicesContext.Provider value={services}>{children}</ServicesContext.Provider>;
}

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (!services) throw new Error("useServices outside ServicesProvider");
  return services;
}

export function useApi(): Api {
  return useServices().api;
}

/** The session's state, re-rendering on sign-in, refresh failure and sign-out in any tab. */
export function useSessionState(): SessionState {
  const { session } = useServices();
  return useSyncExternalStore(session.subscribe, session.getState);
}

/** The signed-in user, their org and role (one query the Shell and the pages share). */
export function useMe() {
  const api = useApi();
  // Fresh for a minute: a page mounting after the Shell read it would otherwise ask again (every
  // page load asked twice). A new org resets every query and signing out clears them.
  return useQuery({ queryKey: ["me"], queryFn: async () => unwrap(await api.GET("/api/v1/me")), staleTime: 60_000 });
}

/** What the current token allows; re-read whenever the user or their org changes. */
export function usePermissions(): ReadonlySet<string> {
  const { session } = useServices();
  useMe(); // a new org or role refetches "me", which renders the callers again
  return session.permissions();
}
