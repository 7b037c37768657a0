import { Alert, Badge, Button, Checkbox, Group, Stack, Table, Text, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { errorMessage, unwrap } from "../../api/errors";
import type { components } from "../../api/schema";
import { formatTime } from "../../lib/format";
import { useApi } from "../../services";
import { Section } from "../account/Section";
import { ConfirmModal } from "../ConfirmModal";
import { Loading } from "../Loading";
import { DeliveriesSection, deliveriesKey } from "./DeliveriesSection";
import { SecretOnce } from "./SecretOnce";

type Webhook = components["schemas"]["WebhookOut"];
type Event = components["schemas"]["WebhookCreate"]["events"][number];

export const EVENTS: { value: Event; label: string }[] = [
  { value: "job.succeeded", label: "job.succeeded: an upload was indexed" },
  { value: "job.failed", label: "job.failed: an upload failed" },
  { value: "version.created", label: "version.created: a new version (an upload, a restore, a deletion)" },
];

/**
 * A collection's webhooks (owners and admins: a webhook sends the collection's events out):
 * add one with its URL and events (the signing secret shown once), ping it, rotate its secret
 * (shown once), delete it after a confirmation, and read its deliveries.
 */
export function WebhooksSection({ collectionId, collectionName }: { collectionId: string; collectionName: string }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [events, setEvents] = useState<Event[]>(["job.succeeded", "version.created"]);
  const [secret, setSecret] = useState<{ title: string; value: string } | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [doomed, setDoomed] = useState<Webhook | null>(null);
  const [rotating, setRotating] = useState<Webhook | null>(null);
  const key = ["webhooks", collectionId];
  const collection = { collection_id: collectionId };
  const hooks = useQuery({
    queryKey: key,
    queryFn: async () => unwrap(await api.GET("/api/v1/collections/{collection_id}/webhooks",
      { params: { path: collection } })).webhooks,
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: key });
  const create = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/collections/{collection_id}/webhooks", {
      params: { path: collection },
      // The document marks fields with defaults as required; the gateway does not.
      body: { url: url.trim(), events, ...(description.trim() ? { description: description.trim() } : {}) } as never,
    })),
    onSuccess: (hook) => {
      setSecret({ title: `Webhook to ${hook.url} added: copy its signing secret now`, value: hook.secret });
      setUrl("");
      setDescription("");
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE("/api/v1/collections/{collection_id}/webhooks/{webhook_id}",
      { params: { path: { ...collection, webhook_id: id } } })),
    onSuccess: (_, id) => { setDoomed(null); if (selected === id) setSelected(null); refresh(); },
  });
  const rotate = useMutation({
    mutationFn: async (id: string) => unwrap(await api.POST("/api/v1/collections/{collection_id}/webhooks/{webhook_id}/rotate-secret",
      { params: { path: { ...collection, webhook_id: id } } })),
    onSuccess: (hook) => {
      setRotating(null);
      setSecret({ title: `New signing secret of ${hook.url}: copy it now`, value: hook.secret });
      refresh();
    },
  });
  const ping = useMutation({
    mutationFn: async (id: string) => unwrap(await api.POST("/api/v1/collections/{collection_id}/webhooks/{webhook_id}/ping",
      { params: { path: { ...collection, webhook_id: id } } })),
    onSuccess: (delivery) => {
      setSelected(delivery.webhook_id);
      void queryClient.invalidateQueries({ queryKey: deliveriesKey(collectionId, delivery.webhook_id) });
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    if (url.trim() && events.length) create.mutate();
  }
  const shown = hooks.data?.find((hook) => hook.id === selected);

  return (
    <Section title={`Where the events of ${collectionName} go`} description="Chatlens POSTs them to these URLs, each signed with its webhook's secret.">
      <form onSubmit={submit} aria-label="Add a webhook">
        <Stack gap="xs">
          <Group align="flex-end" gap="sm" wrap="wrap">
            <TextInput label="Payload URL" type="url" required w={360} placeholder="https://example.com/chatlens"
              value={url} onChange={(e) => setUrl(e.currentTarget.value)} />
            <TextInput label="Description" w={240} maxLength={500} value={description}
              onChange={(e) => setDescription(e.currentTarget.value)} />
          </Group>
          <Checkbox.Group label="Events" value={events} onChange={(v) => setEvents(v as Event[])}>
            <Group gap="md" mt={4}>
              {EVENTS.map((e) => <Checkbox key={e.value} value={e.value} label={e.label} />)}
            </Group>
          </Checkbox.Group>
          <Group>
            <Button type="submit" loading={create.isPending} disabled={!url.trim() || !events.length}>Add webhook</Button>
          </Group>
        </Stack>
      </form>
      {create.isError && <Alert color="red" role="alert">{errorMessage(create.error)}</Alert>}
      {secret && <SecretOnce title={secret.title} secret={secret.value} onDone={() => setSecret(null)} />}
      {hooks.isPending && <Loading />}
      {hooks.isError && <Alert color="red" role="alert">{errorMessage(hooks.error)}</Alert>}
      {ping.isError && <Alert color="red" role="alert">{errorMessage(ping.error)}</Alert>}
      {hooks.data && hooks.data.length === 0 && <Text size="sm" c="dimmed">No webhooks on this collection yet.</Text>}
      {hooks.data && hooks.data.length > 0 && (
        <Table.ScrollContainer minWidth={760}>
          <Table striped data-testid="webhooks-table">
            <Table.Thead>
              <Table.Tr><Table.Th>URL</Table.Th><Table.Th>Events</Table.Th><Table.Th>State</Table.Th>
                <Table.Th>Changed</Table.Th><Table.Th><span className="visually-hidden">Actions</span></Table.Th></Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {hooks.data.map((hook) => (
                <Table.Tr key={hook.id} data-testid="webhook-row">
                  <Table.Td>
                    <Text size="sm" className="chat-text">{hook.url}</Text>
                    {hook.description && <Text size="xs" c="dimmed" className="chat-text">{hook.description}</Text>}
                  </Table.Td>
                  <Table.Td><Text size="xs">{hook.events.join(", ")}</Text></Table.Td>
                  <Table.Td>
                    <Badge variant="light" color={hook.active ? "green" : "gray"}>{hook.active ? "active" : "paused"}</Badge>
                  </Table.Td>
                  <Table.Td>{formatTime(hook.updated_at)}</Table.Td>
                  <Table.Td>
                    <Group gap="xs" wrap="nowrap">
                      <Button size="compact-xs" variant={selected === hook.id ? "filled" : "default"}
                        aria-pressed={selected === hook.id} aria-label={`Deliveries to ${hook.url}`}
                        onClick={() => setSelected(selected === hook.id ? null : hook.id)}>Deliveries</Button>
                      <Button size="compact-xs" variant="default" aria-label={`Ping ${hook.url}`}
                        loading={ping.isPending && ping.variables === hook.id} onClick={() => ping.mutate(hook.id)}>Ping</Button>
                      <Button size="compact-xs" variant="default" aria-label={`Rotate secret of ${hook.url}`}
                        onClick={() => setRotating(hook)}>Rotate secret</Button>
                      <Button size="compact-xs" variant="outline" color="red" aria-label={`Delete the webhook to ${hook.url}`}
                        onClick={() => setDoomed(hook)}>Delete</Button>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {shown && <DeliveriesSection key={shown.id} collectionId={collectionId} webhookId={shown.id} url={shown.url} />}
      <ConfirmModal opened={doomed !== null} title="Delete this webhook?" confirmLabel="Delete webhook" danger
        busy={remove.isPending} error={remove.isError ? errorMessage(remove.error) : null}
        onCancel={() => { remove.reset(); setDoomed(null); }} onConfirm={() => doomed && remove.mutate(doomed.id)}>
        <b className="chat-text">{doomed?.url}</b> gets no more events from {collectionName}. Its delivery log goes
        with it, and deliveries still waiting to be sent are dropped. This cannot be undone.
      </ConfirmModal>
      <ConfirmModal opened={rotating !== null} title="Rotate the signing secret?" confirmLabel="Rotate secret"
        busy={rotate.isPending} error={rotate.isError ? errorMessage(rotate.error) : null}
        onCancel={() => { rotate.reset(); setRotating(null); }} onConfirm={() => rotating && rotate.mutate(rotating.id)}>
        Every delivery to <b className="chat-text">{rotating?.url}</b> from now on, retries included, is signed with a
        new secret, shown once. Until the receiver has it, it will reject them as unsigned.
      </ConfirmModal>
    </Section>
  );
}
