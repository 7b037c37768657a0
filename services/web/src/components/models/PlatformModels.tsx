import { Alert, Badge, Button, Group, Table, Text } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { errorMessage, unwrap } from "../../api/errors";
import { useServices } from "../../services";
import { Section } from "../account/Section";
import { Loading } from "../Loading";

type Action = { kind: "load" | "unload" | "default"; model: string } | { kind: "reload" };

/** The registry's models for every org: where each is loaded, and load, unload, make default. */
export function PlatformModels() {
  const { api } = useServices();
  const queryClient = useQueryClient();
  const status = useQuery({
    queryKey: ["admin-models"],
    queryFn: async () => unwrap(await api.GET("/api/v1/admin/models")),
  });
  const change = useMutation({
    mutationFn: async (action: Action) => {
      if (action.kind === "reload") return unwrap(await api.POST("/api/v1/admin/models/reload"));
      if (action.kind === "default") return unwrap(await api.PUT("/api/v1/admin/models/default", { body: { model: action.model } }));
      const path = { params: { path: { name: action.model } } };
      return unwrap(action.kind === "load" ? await api.POST("/api/v1/admin/models/{name}/load", path)
        : await api.POST("/api/v1/admin/models/{name}/unload", path));
    },
    onSuccess: (data) => queryClient.setQueryData(["admin-models"], data),
  });
  const busy = (kind: Action["kind"], model?: string) => change.isPending && change.variables.kind === kind
    && (!model || ("model" in change.variables && change.variables.model === model));
  return (
    <Section title="Platform models" description="The model registry every organisation shares. Loading a model takes memory on every LLM worker.">
      {status.isPending && <Loading />}
      {status.isError && <Alert color="red" role="alert">{errorMessage(status.error)}</Alert>}
      {change.isError && <Alert color="red" role="alert">{errorMessage(change.error)}</Alert>}
      {status.data && (
        <>
          <Group justify="space-between">
            <Text size="sm" c="dimmed">Registry: {status.data.registry} · default: <b>{status.data.default}</b></Text>
            <Button size="xs" variant="default" loading={busy("reload")} onClick={() => change.mutate({ kind: "reload" })}>
              Re-read the registry
            </Button>
          </Group>
          <Table.ScrollContainer minWidth={720}>
            <Table striped>
              <Table.Thead>
                <Table.Tr><Table.Th>Model</Table.Th><Table.Th>Kind</Table.Th><Table.Th>Context</Table.Th>
                  <Table.Th>Device</Table.Th><Table.Th>Loaded on</Table.Th><Table.Th><span className="visually-hidden">Actions</span></Table.Th></Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {status.data.models.map((m) => {
                  const loaded = m.workers.filter((w) => w.loaded).length;
                  const errors = m.workers.filter((w) => w.error).map((w) => `${w.worker}: ${w.error}`);
                  return (
                    <Table.Tr key={m.name} data-testid="platform-model-row">
                      <Table.Td title={m.source}>{m.name} {m.default && <Badge size="xs">default</Badge>}</Table.Td>
                      <Table.Td>{m.kind}</Table.Td>
                      <Table.Td>{m.context_length}</Table.Td>
                      <Table.Td>{m.device} · {m.dtype}</Table.Td>
                      <Table.Td>
                        {m.kind === "llm" ? `${loaded} of ${m.workers.length} workers` : "the embedding workers"}
                        {errors.length > 0 && <Text size="xs" c="red">{errors.join("; ")}</Text>}
                      </Table.Td>
                      <Table.Td>
                        {m.kind === "llm" && (
                          <Group gap="xs" wrap="nowrap">
                            <Button size="compact-xs" variant="default" aria-label={`Load ${m.name}`} loading={busy("load", m.name)}
                              onClick={() => change.mutate({ kind: "load", model: m.name })}>Load</Button>
                            <Button size="compact-xs" variant="default" aria-label={`Unload ${m.name}`} loading={busy("unload", m.name)}
                              disabled={loaded === 0} onClick={() => change.mutate({ kind: "unload", model: m.name })}>Unload</Button>
                            {!m.default && (
                              <Button size="compact-xs" variant="default" aria-label={`Make ${m.name} the default`}
                                loading={busy("default", m.name)} onClick={() => change.mutate({ kind: "default", model: m.name })}>
                                Make default
                              </Button>
                            )}
                          </Group>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </>
      )}
    </Section>
  );
}
