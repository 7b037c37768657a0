import { Alert, Badge, Button, Group, Table, Text } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage, unwrap } from "../../api/errors";
import { formatTime } from "../../lib/format";
import { useServices } from "../../services";
import { ConfirmModal } from "../ConfirmModal";
import { Loading } from "../Loading";
import { Section } from "./Section";

/** "Chrome on Linux" from a user agent, roughly; the full string stays in the title. */
export function describeAgent(agent: string | null): string {
  if (!agent) return "Unknown device";
  const browser = /Edg\//.test(agent) ? "Edge" : /Firefox\//.test(agent) ? "Firefox"
    : /Chrom(e|ium)\//.test(agent) ? "Chrome" : /Safari\//.test(agent) ? "Safari"
      : /curl|python|httpx|node/i.test(agent) ? "A program" : "A browser";
  const system = /Android/.test(agent) ? "Android" : /iPhone|iPad/.test(agent) ? "iOS"
    : /Windows/.test(agent) ? "Windows" : /Mac OS/.test(agent) ? "macOS" : /Linux/.test(agent) ? "Linux" : "";
  return system ? `${browser} on ${system}` : browser;
}

/**
 * Where you are signed in; end any other session (its device must sign in again), or every
 * session at once, this one included (a lost device, a shared computer).
 */
export function SessionsSection() {
  const { api, session } = useServices();
  const [confirming, setConfirming] = useState(false);
  const everywhere = useMutation({ mutationFn: () => session.logoutEverywhere() });
  const queryClient = useQueryClient();
  const sessions = useQuery({
    queryKey: ["sessions"],
    queryFn: async () => unwrap(await api.GET("/api/v1/auth/sessions")).sessions,
  });
  const end = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE("/api/v1/auth/sessions/{session_id}", {
        params: { path: { session_id: id } },
      })),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ["sessions"] }),
  });
  return (
    <Section title="Sessions" description="Every device signed in to your account.">
      {sessions.isPending && <Loading />}
      {sessions.isError && <Alert color="red" role="alert">{errorMessage(sessions.error)}</Alert>}
      {end.isError && <Alert color="red" role="alert">{errorMessage(end.error)}</Alert>}
      {sessions.data && (
        <Table.ScrollContainer minWidth={560}>
          <Table striped>
            <Table.Thead>
              <Table.Tr><Table.Th>Device</Table.Th><Table.Th>Address</Table.Th><Table.Th>Signed in</Table.Th>
                <Table.Th>Last seen</Table.Th><Table.Th><span className="visually-hidden">Actions</span></Table.Th></Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {sessions.data.map((s) => (
                <Table.Tr key={s.id} data-testid="session-row">
                  <Table.Td title={s.user_agent ?? undefined}>
                    {describeAgent(s.user_agent)} {s.current && <Badge size="xs" variant="dot">this device</Badge>}
                  </Table.Td>
                  <Table.Td>{s.address ?? "–"}</Table.Td>
                  <Table.Td>{formatTime(s.started_at)}</Table.Td>
                  <Table.Td>{formatTime(s.last_seen_at)}</Table.Td>
                  <Table.Td>
                    {s.current ? <Text size="xs" c="dimmed">Sign out to end it</Text> : (
                      <Button size="compact-xs" variant="outline" color="red" loading={end.isPending && end.variables === s.id}
                        aria-label={`End the session of ${describeAgent(s.user_agent)} from ${formatTime(s.started_at)}`}
                        onClick={() => end.mutate(s.id)}>End</Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Group>
        <Button variant="outline" color="red" onClick={() => setConfirming(true)}>Sign out everywhere</Button>
      </Group>
      <ConfirmModal opened={confirming} title="Sign out everywhere?" confirmLabel="Sign out everywhere" danger
        busy={everywhere.isPending} error={everywhere.isError ? errorMessage(everywhere.error) : null}
        onCancel={() => { everywhere.reset(); setConfirming(false); }} onConfirm={() => everywhere.mutate()}>
        Every session of your account ends now, on every device, this one included: each must sign in
        again. API keys keep working; revoke them below if they are at risk too.
      </ConfirmModal>
    </Section>
  );
}
