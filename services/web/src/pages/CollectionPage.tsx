import { Alert, Anchor, Stack, Tabs, Text, Title } from "@mantine/core";
import { Link, Outlet, useLocation, useNavigate, useParams } from "react-router";
import { errorMessage } from "../api/errors";
import { useCollection, useVersions } from "../api/queries";
import { formatCount } from "../lib/format";
import { usePermissions } from "../services";

const TABS = [
  ["search", "Search"],
  ["ask", "Ask"],
  ["summaries", "Summaries"],
  ["dashboard", "Dashboard"],
  ["upload", "Upload"],
  ["versions", "Versions"],
] as const;

/**
 * One collection: its name, message count and version (asked again whenever an upload's job
 * makes a new version: `collectionChanged`), and a tab per surface.
 */
export default function CollectionPage() {
  const { collectionId = "" } = useParams();
  const navigate = useNavigate();
  const location = useLocation();
  const tab = location.pathname.split("/").pop() ?? "search";
  // A role that may not upload is not offered the tab (the API refuses uploads anyway).
  const canUpload = usePermissions().has("uploads:create");
  const tabs = TABS.filter(([value]) => value !== "upload" || canUpload);
  const collection = useCollection(collectionId);
  const versions = useVersions(collectionId);
  const current = versions.data?.find((v) => v.version === collection.data?.version);
  if (collection.isError) {
    return (
      <Stack>
        <Alert color="red" role="alert">{errorMessage(collection.error)}</Alert>
        <Anchor component={Link} to="/collections">Back to your collections</Anchor>
      </Stack>
    );
  }
  // The tab's page renders at once, beside the header's request: a search in the address bar is
  // sent without waiting for the collection's name.
  return (
    <Stack>
      {/* One line each, whatever has arrived: nothing below moves when it does (no layout shift). */}
      <div>
        <Title order={1} size="h2">{collection.data?.name ?? <Text span inherit c="dimmed">Loading…</Text>}</Title>
        <Text size="sm" c="dimmed">
          {current && <span data-testid="collection-messages">{formatCount(current.messages)} messages · </span>}
          {collection.data ? <span data-testid="collection-version">Version {collection.data.version}</span> : "\u00a0"}
        </Text>
      </div>
      <Tabs value={tab} onChange={(value) => value && navigate(value)}>
        <Tabs.List>
          {tabs.map(([value, label]) => <Tabs.Tab key={value} value={value}>{label}</Tabs.Tab>)}
        </Tabs.List>
        {tabs.map(([value]) => (
          <Tabs.Panel key={value} value={value} pt="md">
            {value === tab && <Outlet />}
          </Tabs.Panel>
        ))}
      </Tabs>
    </Stack>
  );
}
