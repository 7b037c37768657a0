import { Alert, Badge, Button, Group, Loader, Modal, SegmentedControl, Stack, Table, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage, unwrap } from "../../api/errors";
import type { components } from "../../api/schema";
import { formatTime } from "../../lib/format";
import { useApi } from "../../services";
import { Loading } from "../Loading";

type Delivery = components["schemas"]["WebhookDeliveryOut"];
type Status = Delivery["status"];
const STATUS_COLOURS: Record<Status, string> = { pending: "blue", delivered: "green", dead: "red" };

/** The key of a webhook's delivery log, for whoever stages a delivery (ping, redeliver). */
export const deliveriesKey = (collectionId: string, webhookId: string) => ["webhook-deliveries", collectionId, webhookId];

/** What the receiver last answered, in words. */
function lastResult(delivery: Delivery): string {
  if (delivery.last_status_code != null) return `HTTP ${delivery.last_status_code}`;
  if (delivery.last_error) return delivery.last_error;
  return delivery.attempts === 0 ? "not tried yet" : "no answer";
}

/**
 * A webhook's delivery log, newest first: status, attempts, what the receiver answered, when the
 * next attempt is; a finished delivery (delivered or dead) can be sent again with the same id.
 * The log refreshes itself while a delivery is still being tried.
 */
export function DeliveriesSection({ collectionId, webhookId, url }: { collectionId: string; webhookId: string; url: string }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<Status | "all">("all");
  const [opened, setOpened] = useState<string | null>(null);
  const path = { collection_id: collectionId, webhook_id: webhookId };
  const deliveries = useQuery({
    queryKey: [...deliveriesKey(collectionId, webhookId), status],
    queryFn: async () => unwrap(await api.GET("/api/v1/collections/{collection_id}/webhooks/{webhook_id}/deliveries", {
      params: { path, query: status === "all" ? {} : { status } },
    })).deliveries,
    refetchInterval: (query) => (query.state.data?.some((d) => d.status === "pending") ? 3000 : false),
  });
  const redeliver = useMutation({
    mutationFn: async (deliveryId: string) => unwrap(await api.POST(
      "/api/v1/collections/{collection_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
      { params: { path: { ...path, delivery_id: deliveryId } } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: deliveriesKey(collectionId, webhookId) }),
  });
  return (
    <Stack gap="xs" component="section" aria-label={`Deliveries to ${url}`}>
      <Group justify="space-between" wrap="wrap">
        <Title order={3} size="h5">Deliveries to <span className="chat-text">{url}</span></Title>
        <Group gap="xs">
          <SegmentedControl size="xs" aria-label="Deliveries to show" value={status}
            onChange={(v) => setStatus(v as Status | "all")}
            data={[{ value: "all", label: "All" }, { value: "pending", label: "Pending" },
              { value: "delivered", label: "Delivered" }, { value: "dead", label: "Dead" }]} />
          {/* The label stays while it fetches (Mantine's loading state would show only a spinner). */}
          <Button size="compact-xs" variant="default" aria-busy={deliveries.isFetching}
            leftSection={deliveries.isFetching ? <Loader size={10} aria-hidden="true" /> : null}
            onClick={() => void deliveries.refetch()}>Refresh</Button>
        </Group>
      </Group>
      {deliveries.isPending && <Loading />}
      {deliveries.isError && <Alert color="red" role="alert">{errorMessage(deliveries.error)}</Alert>}
      {redeliver.isError && <Alert color="red" role="alert">{errorMessage(redeliver.error)}</Alert>}
      {deliveries.data && deliveries.data.length === 0 && (
        <Text size="sm" c="dimmed">No deliveries{status === "all" ? " yet: send a ping to try the receiver" : ` ${status}`}.</Text>
      )}
      {deliveries.data && deliveries.data.length > 0 && (
        <Table.ScrollContainer minWidth={720}>
          <Table striped data-testid="webhook-deliveries">
            <Table.Thead>
              <Table.Tr><Table.Th>Event</Table.Th><Table.Th>Status</Table.Th><Table.Th>Attempts</Table.Th>
                <Table.Th>Last answer</Table.Th><Table.Th>Created</Table.Th><Table.Th>Next attempt or finished</Table.Th>
                <Table.Th><span className="visually-hidden">Actions</span></Table.Th></Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {deliveries.data.map((d) => (
                <Table.Tr key={d.id} data-testid="delivery-row">
                  <Table.Td>{d.event}</Table.Td>
                  <Table.Td><Badge variant="light" color={STATUS_COLOURS[d.status]}>{d.status}</Badge></Table.Td>
                  <Table.Td>{d.attempts}</Table.Td>
                  <Table.Td><Text size="sm" className="chat-text">{lastResult(d)}</Text></Table.Td>
                  <Table.Td>{formatTime(d.created_at)}</Table.Td>
                  <Table.Td>
                    {d.status === "pending" ? (d.next_attempt_at ? `next ${formatTime(d.next_attempt_at)}` : "now")
                      : d.finished_at ? formatTime(d.finished_at) : "–"}
                  </Table.Td>
                  <Table.Td>
                    <Group gap="xs" wrap="nowrap">
                      <Button size="compact-xs" variant="default" aria-label={`Attempts of delivery ${d.id}`}
                        onClick={() => setOpened(d.id)}>Attempts</Button>
                      {d.status !== "pending" && (
                        <Button size="compact-xs" variant="outline" aria-label={`Redeliver ${d.id}`}
                          loading={redeliver.isPending && redeliver.variables === d.id}
                          onClick={() => redeliver.mutate(d.id)}>Redeliver</Button>
                      )}
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <AttemptLog collectionId={collectionId} webhookId={webhookId} deliveryId={opened} onClose={() => setOpened(null)} />
    </Stack>
  );
}

/** One delivery's attempts and the exact body that was signed and sent. */
function AttemptLog({ collectionId, webhookId, deliveryId, onClose }:
  { collectionId: string; webhookId: string; deliveryId: string | null; onClose: () => void }) {
  const api = useApi();
  const detail = useQuery({
    queryKey: ["webhook-delivery", collectionId, webhookId, deliveryId],
    enabled: deliveryId !== null,
    queryFn: async () => unwrap(await api.GET(
      "/api/v1/collections/{collection_id}/webhooks/{webhook_id}/deliveries/{delivery_id}",
      { params: { path: { collection_id: collectionId, webhook_id: webhookId, delivery_id: deliveryId ?? "" } } })),
  });
  return (
    <Modal opened={deliveryId !== null} onClose={onClose} title={`Delivery ${deliveryId ?? ""}`} size="lg"
      closeButtonProps={{ "aria-label": "Close" }}>
      {detail.isPending && <Loading />}
      {detail.isError && <Alert color="red" role="alert">{errorMessage(detail.error)}</Alert>}
      {detail.data && (
        <Stack gap="sm">
          {detail.data.attempt_log.length === 0 ? <Text size="sm" c="dimmed">Not tried yet.</Text> : (
            <Table data-testid="attempt-log">
              <Table.Thead>
                <Table.Tr><Table.Th>#</Table.Th><Table.Th>When</Table.Th><Table.Th>Answer</Table.Th><Table.Th>Took</Table.Th></Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {detail.data.attempt_log.map((a) => (
                  <Table.Tr key={a.number}>
                    <Table.Td>{a.number}</Table.Td>
                    <Table.Td>{formatTime(a.at)}</Table.Td>
                    <Table.Td className="chat-text">{a.status_code != null ? `HTTP ${a.status_code}` : a.error ?? "no answer"}</Table.Td>
                    <Table.Td>{a.duration_ms} ms</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
          <Text size="sm" fw={600}>Body (as signed)</Text>
          <Text component="pre" size="xs" className="chat-text" m={0}>{detail.data.body}</Text>
        </Stack>
      )}
    </Modal>
  );
}
