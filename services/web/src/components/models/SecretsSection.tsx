import { Alert, Button, Table, Text } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage, unwrap } from "../../api/errors";
import { formatTime } from "../../lib/format";
import { useServices } from "../../services";
import { Section } from "../account/Section";
import { ConfirmModal } from "../ConfirmModal";
import { Loading } from "../Loading";

export const SECRETS_KEY = ["provider-secrets"];

/**
 * The org's provider secrets as auth keeps them (encrypted; only the last characters shown),
 * each deleted after a confirmation that names the endpoints that use it.
 */
export function SecretsSection() {
  const { api } = useServices();
  const queryClient = useQueryClient();
  const [doomed, setDoomed] = useState<string | null>(null);
  const secrets = useQuery({
    queryKey: SECRETS_KEY,
    queryFn: async () => unwrap(await api.GET("/api/v1/auth/secrets")).secrets,
  });
  // Shared with the endpoints above: which of them would lose their key.
  const endpoints = useQuery({
    queryKey: ["model-endpoints"],
    queryFn: async () => unwrap(await api.GET("/api/v1/models/endpoints")).endpoints,
  });
  const remove = useMutation({
    mutationFn: async (name: string) => unwrap(await api.DELETE("/api/v1/auth/secrets/{name}", {
      params: { path: { name } },
    })),
    onSuccess: () => {
      setDoomed(null);
      void queryClient.invalidateQueries({ queryKey: SECRETS_KEY });
      void queryClient.invalidateQueries({ queryKey: ["model-endpoints"] });
    },
  });
  const users = (endpoints.data ?? []).filter((e) => e.secret === doomed).map((e) => e.name);
  return (
    <Section title="Provider secrets" description="API keys of model providers, stored encrypted by auth; only their last characters are ever shown.">
      {secrets.isPending && <Loading />}
      {secrets.isError && <Alert color="red" role="alert">{errorMessage(secrets.error)}</Alert>}
      {secrets.data && secrets.data.length === 0 && <Text size="sm" c="dimmed">No provider secrets.</Text>}
      {secrets.data && secrets.data.length > 0 && (
        <Table.ScrollContainer minWidth={520}>
          {/* Not striped: the red Delete on a striped row's grey fails colour contrast (axe). */}
          <Table>
            <Table.Thead>
              <Table.Tr><Table.Th>Name</Table.Th><Table.Th>Provider</Table.Th><Table.Th>Ends with</Table.Th>
                <Table.Th>Changed</Table.Th><Table.Th><span className="visually-hidden">Actions</span></Table.Th></Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {secrets.data.map((secret) => (
                <Table.Tr key={secret.name} data-testid="secret-row">
                  <Table.Td>{secret.name}</Table.Td>
                  <Table.Td>{secret.provider}</Table.Td>
                  <Table.Td><Text span ff="monospace" size="sm">{secret.hint}</Text></Table.Td>
                  <Table.Td>{formatTime(secret.updated_at)}</Table.Td>
                  <Table.Td>
                    <Button size="compact-xs" variant="outline" color="red" aria-label={`Delete secret ${secret.name}`}
                      onClick={() => setDoomed(secret.name)}>Delete</Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <ConfirmModal opened={doomed !== null} title="Delete this secret?" confirmLabel="Delete secret" danger
        busy={remove.isPending} error={remove.isError ? errorMessage(remove.error) : null}
        onCancel={() => { remove.reset(); setDoomed(null); }} onConfirm={() => doomed && remove.mutate(doomed)}>
        The key stored as <b>{doomed}</b> is erased; it cannot be shown or restored.{" "}
        {users.length > 0
          ? <>The endpoint{users.length > 1 ? "s" : ""} <b>{users.join(", ")}</b> will call {users.length > 1 ? "their" : "its"} provider
            without a key, which most providers refuse, until a key is added again.</>
          : "No endpoint uses it."}
      </ConfirmModal>
    </Section>
  );
}
