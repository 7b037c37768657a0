import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, Suspense, useEffect, useState, type ComponentType } from "react";
import { createBrowserRouter, matchRoutes, Navigate, RouterProvider, type RouteObject } from "react-router";
import { ApiError } from "./api/errors";
import { collectionQuery, searchFromParams, searchQuery, versionsQuery } from "./api/queries";
import { RequireAuth } from "./auth/RequireAuth";
import { Loading } from "./components/Loading";
import { Shell } from "./components/Shell";
import { ServicesProvider, type Api, type Services } from "./services";
import { colorSchemeManager, cssVariablesResolver, theme } from "./theme";

// Every page is its own chunk: the first load carries only the shell and the sign-in pages. The
// collection page and its search tab make do with the first load's styles (styles/first-load.css);
// every other page brings all of Mantine's with its chunk.
type PageModule = { default: ComponentType };
const withEveryStyle = (page: Promise<PageModule>): Promise<PageModule> =>
  Promise.all([page, import("./styles/every-component.css")]).then(([module]) => module);
const PAGES = {
  login: () => withEveryStyle(import("./pages/LoginPage")),
  register: () => withEveryStyle(import("./pages/RegisterPage")),
  forgotPassword: () => withEveryStyle(import("./pages/ForgotPasswordPage")),
  resetPassword: () => withEveryStyle(import("./pages/ResetPasswordPage")),
  collections: () => withEveryStyle(import("./pages/CollectionsPage")),
  collection: () => import("./pages/CollectionPage"),
  search: () => import("./pages/SearchPage"),
  ask: () => withEveryStyle(import("./pages/AskPage")),
  upload: () => withEveryStyle(import("./pages/UploadPage")),
  versions: () => withEveryStyle(import("./pages/VersionsPage")),
  // The dashboards carry the chart library: a chunk of their own, loaded when opened.
  dashboard: () => withEveryStyle(import("./pages/DashboardPage")),
  summaries: () => withEveryStyle(import("./pages/SummariesPage")),
  account: () => withEveryStyle(import("./pages/AccountPage")),
  admin: () => withEveryStyle(import("./pages/AdminPage")),
  models: () => withEveryStyle(import("./pages/ModelsPage")),
  platformModels: () => withEveryStyle(import("./pages/PlatformModelsPage")),
  webhooks: () => withEveryStyle(import("./pages/WebhooksPage")),
  notFound: () => withEveryStyle(import("./pages/NotFoundPage")),
} satisfies Record<string, () => Promise<PageModule>>;

/** What a page asks the API for first, sent by the entry before the page's chunk renders. */
type Prefetch = (client: QueryClient, api: Api, params: Record<string, string | undefined>, search: URLSearchParams) => void;

const PREFETCH: Partial<Record<keyof typeof PAGES, Prefetch>> = {
  collection: (client, api, { collectionId = "" }) => {
    void client.prefetchQuery(collectionQuery(api, collectionId));
    void client.prefetchQuery(versionsQuery(api, collectionId));
  },
  search: (client, api, { collectionId = "" }, search) => {
    const submitted = searchFromParams(search);
    if (submitted) void client.prefetchInfiniteQuery(searchQuery(api, collectionId, submitted));
  },
};

interface PageHandle {
  load: () => Promise<PageModule>;
  prefetch?: Prefetch;
}

/** A route's page: its lazy chunk behind a spinner, how to fetch that chunk and its data ahead. */
function page(name: keyof typeof PAGES): Pick<RouteObject, "element" | "handle"> {
  const Page = lazy(PAGES[name]);
  const handle: PageHandle = { load: PAGES[name], prefetch: PREFETCH[name] };
  return { element: <Suspense fallback={<Loading />}><Page /></Suspense>, handle };
}

export const routes: RouteObject[] = [
  { path: "/login", ...page("login") },
  { path: "/register", ...page("register") },
  { path: "/forgot-password", ...page("forgotPassword") },
  { path: "/reset-password", ...page("resetPassword") },
  {
    element: (
      <RequireAuth>
        <Shell />
      </RequireAuth>
    ),
    children: [
      { path: "/", element: <Navigate to="/collections" replace /> },
      { path: "/collections", ...page("collections") },
      { path: "/account", ...page("account") },
      { path: "/organisation", ...page("admin") },
      { path: "/organisation/models", ...page("models") },
      { path: "/organisation/webhooks", ...page("webhooks") },
      { path: "/admin/models", ...page("platformModels") },
      {
        path: "/collections/:collectionId",
        ...page("collection"),
        children: [
          { index: true, element: <Navigate to="search" replace /> },
          { path: "search", ...page("search") },
          { path: "ask", ...page("ask") },
          { path: "summaries", ...page("summaries") },
          { path: "dashboard", ...page("dashboard") },
          { path: "upload", ...page("upload") },
          { path: "versions", ...page("versions") },
        ],
      },
      { path: "*", ...page("notFound") },
    ],
  },
];

/**
 * Starts downloading the chunks of every page `pathname` shows (a collection and its tab: two),
 * all at once and while the session is being restored, rather than one after the other as each
 * renders. React's lazy() then finds the module already there.
 */
export function preloadPages(pathname: string): void {
  for (const match of matchRoutes(routes, pathname) ?? []) {
    const load = (match.route.handle as PageHandle | undefined)?.load;
    void load?.().catch(() => undefined); // a failed download is retried, and reported, on render
  }
}

/**
 * Sends the first requests of every page `location` shows (a collection's header and versions,
 * a linked search) once the session is signed in: beside the pages' chunks, not after they have
 * rendered. The pages' own queries then find the answers in `client` (or on their way).
 */
export function prefetchData(location: Pick<Location, "pathname" | "search">, client: QueryClient, api: Api): void {
  const search = new URLSearchParams(location.search);
  for (const match of matchRoutes(routes, location.pathname) ?? []) {
    (match.route.handle as PageHandle | undefined)?.prefetch?.(client, api, match.params, search);
  }
}

// The toasts' container (and its transitions) is a chunk of its own: a notification shown before
// it arrives waits in Mantine's store and appears with it.
const Notifications = lazy(() => import("./components/lazy/Notifications"));

export function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // A 4xx will not change by asking again; a network error or a 503 may.
        retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
        refetchOnWindowFocus: false,
      },
    },
  });
}

/** The whole app; `queryClient` is the cache the entry may have started filling (prefetchData). */
export function App({ services, queryClient: given }: { services: Services; queryClient?: QueryClient }) {
  const [queryClient] = useState(() => given ?? makeQueryClient());
  const [router] = useState(() => createBrowserRouter(routes));
  useEffect(() => {
    void services.session.restore();
  }, [services]);
  useEffect(
    () =>
      services.session.subscribe(() => {
        if (services.session.getState().status === "signed-out") queryClient.clear();
      }),
    [services, queryClient],
  );
  return (
    <MantineProvider theme={theme} colorSchemeManager={colorSchemeManager} defaultColorScheme="auto"
      cssVariablesResolver={cssVariablesResolver}>
      <Suspense fallback={null}><Notifications /></Suspense>
      <ServicesProvider services={services}>
        <QueryClientProvider client={queryClient}>
          <RouterProvider router={router} />
        </QueryClientProvider>
      </ServicesProvider>
    </MantineProvider>
  );
}
