import { Alert, Anchor, Select, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { errorMessage, unwrap } from "../api/errors";
import { Loading } from "../components/Loading";
import { WebhooksSection } from "../components/webhooks/WebhooksSection";
import { useApi, usePermissions } from "../services";

/**
 * The organisation's webhooks, a collection at a time (a webhook belongs to a collection; the
 * one shown is in the URL). `webhooks:manage` (owners and admins) only: what a role may not do is
 * not offered.
 */
export default function WebhooksPage() {
  const api = useApi();
  const manage = usePermissions().has("webhooks:manage");
  const [params, setParams] = useSearchParams();
  const collections = useQuery({
    queryKey: ["collections"],
    enabled: manage,
    queryFn: async () => unwrap(await api.GET("/api/v1/collections")).collections,
  });
  const chosen = collections.data?.find((c) => c.id === params.get("collection")) ?? collections.data?.[0];
  return (
    <Stack>
      <div>
        {/* Not inside the text below: a link in a block of text must not be told apart by colour alone. */}
        <Anchor component={Link} to="/organisation" size="sm">Back to the organisation</Anchor>
        <Title order={1} size="h2">Webhooks</Title>
        <Text size="sm" c="dimmed">
          Tell another system when an upload is indexed or fails, or a collection gets a new version.
        </Text>
      </div>
      {!manage && (
        <Alert color="gray" role="status">Only the organisation's owners and admins manage webhooks.</Alert>
      )}
      {manage && collections.isPending && <Loading />}
      {collections.isError && <Alert color="red" role="alert">{errorMessage(collections.error)}</Alert>}
      {collections.data?.length === 0 && (
        <Text c="dimmed">No collections yet: a webhook sends a collection's events, so create one first.</Text>
      )}
      {chosen && (
        <>
          <Select label="Collection" w={320} allowDeselect={false} value={chosen.id}
            onChange={(id) => id && setParams({ collection: id }, { replace: true })}
            data={(collections.data ?? []).map((c) => ({ value: c.id, label: c.name }))} />
          <WebhooksSection key={chosen.id} collectionId={chosen.id} collectionName={chosen.name} />
        </>
      )}
    </Stack>
  );
}
