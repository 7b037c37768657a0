import { Alert, Button, Group, Table, Text, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage, unwrap } from "../../api/errors";
import { formatTime } from "../../lib/format";
import { useServices } from "../../services";
import { Section } from "../account/Section";
import { Loading } from "../Loading";

const PAGE = 50;

/** The org's audit log, newest first, filtered by event name, a page at a time. */
export function AuditSection() {
  const { api } = useServices();
  const [event, setEvent] = useState("");
  const [filter] = useDebouncedValue(event.trim(), 400);
  const audit = useInfiniteQuery({
    queryKey: ["audit", filter],
    initialPageParam: null as number | null,
    getNextPageParam: (last: { next_before: number | null }) => last.next_before,
    queryFn: async ({ pageParam, signal }) => unwrap(await api.GET("/api/v1/auth/audit", {
      params: { query: { limit: PAGE, ...(filter ? { event: filter } : {}), ...(pageParam ? { before: pageParam } : {}) } },
      signal,
    })),
  });
  const events = audit.data?.pages.flatMap((page) => page.events) ?? [];
  return (
    <Section title="Audit log" description="Who did what in this organisation: sign-ins, roles, keys, deletions. Nothing here can be changed.">
      <TextInput label="Event" placeholder="e.g. role.changed" w={260} value={event}
        onChange={(e) => setEvent(e.currentTarget.value)} />
      {audit.isPending && <Loading />}
      {audit.isError && <Alert color="red" role="alert">{errorMessage(audit.error)}</Alert>}
      {audit.isSuccess && events.length === 0 && <Text size="sm" c="dimmed">No events{filter ? ` named ${filter}` : ""}.</Text>}
      {events.length > 0 && (
        <Table.ScrollContainer minWidth={720}>
          <Table striped data-testid="audit-table">
            <Table.Thead>
              <Table.Tr><Table.Th>When</Table.Th><Table.Th>Event</Table.Th><Table.Th>Target</Table.Th>
                <Table.Th>Details</Table.Th><Table.Th>Address</Table.Th></Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {events.map((e) => (
                <Table.Tr key={e.id} data-testid="audit-row">
                  <Table.Td>{formatTime(e.at)}</Table.Td>
                  <Table.Td>{e.event}</Table.Td>
                  <Table.Td><Text size="xs" className="chat-text">{e.target ?? "–"}</Text></Table.Td>
                  <Table.Td>
                    <Text size="xs" className="chat-text">
                      {Object.entries(e.details).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join(", ") || "–"}
                    </Text>
                  </Table.Td>
                  <Table.Td>{e.address ?? "–"}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {audit.hasNextPage && (
        <Group><Button variant="default" loading={audit.isFetchingNextPage} onClick={() => void audit.fetchNextPage()}>
          Older events</Button></Group>
      )}
    </Section>
  );
}
