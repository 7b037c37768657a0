import "./styles/first-load.css";
import "./app.css";
import { startTransition, StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App, makeQueryClient, prefetchData, preloadPages } from "./App";
import { identifyUser, initErrorReports, reportError } from "./lib/errorReports";
import { warmUpFormats } from "./lib/format";
import { createServices } from "./services";

// Sentry's SDK is fetched only when the build names a DSN (VITE_SENTRY_DSN); otherwise a no-op.
void initErrorReports();

const services = createServices();
// Reports name the signed-in user by id (the token's sub), never by e-mail; none when signed out.
services.session.subscribe(() => identifyUser(services.session.userId()));
const queryClient = makeQueryClient();
// The first requests go out now, not after React has mounted: the silent refresh (the cookie's
// session) and the chunks of the page in the address bar, side by side; then, signed in, that
// page's own requests (its search, say) without waiting for its chunks to render.
void services.session.restore().then(() => {
  if (services.session.getState().status === "signed-in") prefetchData(window.location, queryClient, services.api);
});
preloadPages(window.location.pathname);
// While those are on their way, the browser is idle: a moment for the locale's formats.
if (typeof requestIdleCallback === "function") requestIdleCallback(warmUpFormats);

const root = createRoot(document.getElementById("root")!, {
  // An error an error boundary caught is reported too (uncaught ones reach Sentry's own handlers).
  onCaughtError: (error, info) => {
    console.error(error, info.componentStack);
    reportError(error);
  },
});
// A transition renders in slices that yield to the browser (the refresh's response, a paint)
// rather than in one long task.
startTransition(() =>
  root.render(
    <StrictMode>
      <App services={services} queryClient={queryClient} />
    </StrictMode>,
  ),
);
