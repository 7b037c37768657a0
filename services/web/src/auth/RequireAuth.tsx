import { useDeferredValue, type ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import { Loading } from "../components/Loading";
import { useSessionState } from "../services";

/** Protected pages: wait for the silent refresh, then either render or go to /login and back. */
export function RequireAuth({ children }: { children: ReactNode }) {
  // Signing in renders the whole page behind the spinner: as a deferred value it renders in
  // slices, between which the browser can paint and handle input (one long task on a phone).
  const state = useDeferredValue(useSessionState());
  const location = useLocation();
  if (state.status === "unknown") return <Loading />;
  if (state.status === "signed-out") {
    const from = location.pathname + location.search;
    return <Navigate to="/login" replace state={{ from, reason: state.reason }} />;
  }
  return <>{children}</>;
}
