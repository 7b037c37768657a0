import { MantineProvider } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, Suspense, useEffect, useState } from "react";
import { createBrowserRouter, Navigate, RouterProvider } from "react-router";
import { ApiError } from "./api/errors";
import { RequireAuth } from "./auth/RequireAuth";
import { Loading } from "./components/Loading";
import { Shell } from "./components/Shell";
import { ServicesProvider, type Services } from "./services";
import { colorSchemeManager, cssVariablesResolver, theme } from "./theme";

// Every page is its own chunk: the first load carries only the shell and the sign-in pages.
const LoginPage = lazy(() => import("./pages/LoginPage"));
const RegisterPage = lazy(() => import("./pages/RegisterPage"));
const ForgotPasswordPage = lazy(() => import("./pages/ForgotPasswordPage"));
const ResetPasswordPage = lazy(() => import("./pages/ResetPasswordPage"));
const CollectionsPage = lazy(() => import("./pages/CollectionsPage"));
const CollectionPage = lazy(() => import("./pages/CollectionPage"));
const SearchPage = lazy(() => import("./pages/SearchPage"));
const AskPage = lazy(() => import("./pages/AskPage"));
const UploadPage = lazy(() => import("./pages/UploadPage"));
const VersionsPage = lazy(() => import("./pages/VersionsPage"));
// The dashboards carry the chart library: a chunk of their own, loaded when opened.
const DashboardPage = lazy(() => import("./pages/DashboardPage"));
const SummariesPage = lazy(() => import("./pages/SummariesPage"));
const AccountPage = lazy(() => import("./pages/AccountPage"));
const AdminPage = lazy(() => import("./pages/AdminPage"));
const ModelsPage = lazy(() => import("./pages/ModelsPage"));
const PlatformModelsPage = lazy(() => import("./pages/PlatformModelsPage"));
const WebhooksPage = lazy(() => import("./pages/WebhooksPage"));
const NotFoundPage = lazy(() => import("./pages/NotFoundPage"));

function page(element: React.ReactNode) {
  return <Suspense fallback={<Loading />}>{element}</Suspense>;
}

export const routes = [
  { path: "/login", element: page(<LoginPage />) },
  { path: "/register", element: page(<RegisterPage />) },
  { path: "/forgot-password", element: page(<ForgotPasswordPage />) },
  { path: "/reset-password", element: page(<ResetPasswordPage />) },
  {
    element: (
      <RequireAuth>
        <Shell />
      </RequireAuth>
    ),
    children: [
      { path: "/", element: <Navigate to="/collections" replace /> },
      { path: "/collections", element: page(<CollectionsPage />) },
      { path: "/account", element: page(<AccountPage />) },
      { path: "/organisation", element: page(<AdminPage />) },
      { path: "/organisation/models", element: page(<ModelsPage />) },
      { path: "/organisation/webhooks", element: page(<WebhooksPage />) },
      { path: "/admin/models", element: page(<PlatformModelsPage />) },
      {
        path: "/collections/:collectionId",
        element: page(<CollectionPage />),
        children: [
          { index: true, element: <Navigate to="search" replace /> },
          { path: "search", element: page(<SearchPage />) },
          { path: "ask", element: page(<AskPage />) },
          { path: "summaries", element: page(<SummariesPage />) },
          { path: "dashboard", element: page(<DashboardPage />) },
          { path: "upload", element: page(<UploadPage />) },
          { path: "versions", element: page(<VersionsPage />) },
        ],
      },
      { path: "*", element: page(<NotFoundPage />) },
    ],
  },
];

function makeQueryClient() {
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

export function App({ services }: { services: Services }) {
  const [queryClient] = useState(makeQueryClient);
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
      <Notifications />
      <ServicesProvider services={services}>
        <QueryClientProvider client={queryClient}>
          <RouterProvider router={router} />
        </QueryClientProvider>
      </ServicesProvider>
    </MantineProvider>
  );
}
