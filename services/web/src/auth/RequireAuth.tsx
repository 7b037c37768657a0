import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import { Loading } from "../components/Loading";
import { useSessionState } from "../services";

/** Protected pages: wait for the silent refresh, then either render or go to /login and back. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const state = useSessionState();
  const location = useLocation();
  if (state.status === "unknown") return <Loading />;
  if (state.status === "signed-out") {
    const from = location.pathname + location.search;
    return <Navigate to="/login" replace state={{ from, reason: state.reason }} />;
  }
  return <>{children}</>;
}
