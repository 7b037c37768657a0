import "./styles/first-load.css";
import "./app.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App, preloadPages } from "./App";
import { identifyUser, initErrorReports, reportError } from "./lib/errorReports";
import { createServices } from "./services";

// Sentry's SDK is fetched only when the build names a DSN (VITE_SENTRY_DSN); otherwise a no-op.
void initErrorReports();

const services = createServices();
// Reports name the signed-in user by id (the token's sub), never by e-mail; none when signed out.
services.session.subscribe(() => identifyUser(services.session.userId()));
// The first requests go out now, not after React has mounted: the silent refresh (the cookie's
// session) and the chunks of the page in the address bar, side by side.
void services.session.restore();
preloadPages(window.location.pathname);

createRoot(document.getElementById("root")!, {
  // An error an error boundary caught is reported too (uncaught ones reach Sentry's own handlers).
  onCaughtError: (error, info) => {
    console.error(error, info.componentStack);
    reportError(error);
  },
}).render(
  <StrictMode>
    <App services={services} />
  </StrictMode>,
);
