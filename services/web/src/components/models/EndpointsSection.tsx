import { Alert, Badge, Button, Group, NumberInput, PasswordInput, Table, Text, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { errorMessage, unwrap } from "../../api/errors";
import { formatTime } from "../../lib/format";
import { useServices } from "../../services";
import { Section } from "../account/Section";
import { ConfirmModal } from "../ConfirmModal";
import { Loading } from "../Loading";

/** The provider secret that holds an endpoint's key: auth's names are lower-case and shorter. */
export function secretNameFor(endpoint: string): string {
  return ("endpoint-" + endpoint.toLowerCase().replace(/[^a-z0-9_.-]/g, "-")).slice(0, 64);
}

/**
 * The org's OpenAI-compatible endpoints: add (the key goes to auth's encrypted provider secrets
 * and is never shown again), test with one cheap call, delete after a confirmation.
 */
export function EndpointsSection() {
  const { api } = useServices();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [baseUrl, setBaseUrl] = useState("");
  const [model, setModel] = useState("");
  const [key, setKey] = useState("");
  const [contextLength, setContextLength] = useState<number | string>(8192);
  const [removing, setRemoving] = useState<string | null>(null);
  const endpoints = useQuery({
    queryKey: ["model-endpoints"],
    queryFn: async () => unwrap(await api.GET("/api/v1/models/endpoints")).endpoints,
  });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ["model-endpoints"] });
    void queryClient.invalidateQueries({ queryKey: ["model-choices"] });
    void queryClient.invalidateQueries({ queryKey: ["provider-secrets"] }); // an added key is listed there
  };
  const add = useMutation({
    // The endpoint first: one the gateway refuses (a private address, a bad name) leaves no
    // stored key behind; a key refused after it is shown, and adding again replaces both.
    mutationFn: async () => {
      const secret = key ? secretNameFor(name.trim()) : null;
      const stored = unwrap(await api.PUT("/api/v1/models/endpoints/{name}", {
        params: { path: { name: name.trim() } },
        body: { base_url: baseUrl.trim(), model: model.trim(), secret, context_length: Number(contextLength) || 8192 },
      }));
      if (secret) {
        unwrap(await api.PUT("/api/v1/auth/secrets/{name}", {
          params: { path: { name: secret } }, body: { provider: "openai", value: key },
        }));
      }
      return stored;
    },
    onSuccess: () => { setName(""); setBaseUrl(""); setModel(""); setKey(""); },
    onSettled: () => { setKey(""); refresh(); }, // the key never stays in the page
  });
  const test = useMutation({
    mutationFn: async (endpoint: string) => unwrap(await api.POST("/api/v1/models/endpoints/{name}/test", {
      params: { path: { name: endpoint } },
    })),
  });
  const remove = useMutation({
    mutationFn: async (endpoint: string) => unwrap(await api.DELETE("/api/v1/models/endpoints/{name}", {
      params: { path: { name: endpoint } },
    })),
    onSuccess: () => { setRemoving(null); refresh(); },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    if (name.trim() && baseUrl.trim() && model.trim()) add.mutate();
  }

  return (
    <Section title="Model endpoints" description="OpenAI-compatible APIs (vLLM, Ollama, a hosted provider) your organisation's answers and summaries may run on.">
      {endpoints.isPending && <Loading />}
      {endpoints.isError && <Alert color="red" role="alert">{errorMessage(endpoints.error)}</Alert>}
      {endpoints.data && endpoints.data.length === 0 && <Text size="sm" c="dimmed">No endpoints yet.</Text>}
      {endpoints.data && endpoints.data.length > 0 && (
        <Table.ScrollContainer minWidth={640}>
          <Table striped>
            <Table.Thead>
              <Table.Tr><Table.Th>Name</Table.Th><Table.Th>Model</Table.Th><Table.Th>Base URL</Table.Th>
                <Table.Th>Key</Table.Th><Table.Th>Changed</Table.Th><Table.Th><span className="visually-hidden">Actions</span></Table.Th></Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {endpoints.data.map((e) => (
                <Table.Tr key={e.name} data-testid="endpoint-row">
                  <Table.Td>{e.name}</Table.Td>
                  <Table.Td>{e.model} <Text span size="xs" c="dimmed">({e.context_length} tokens)</Text></Table.Td>
                  <Table.Td>{e.base_url}</Table.Td>
                  <Table.Td>{e.secret ? <Badge variant="light">stored</Badge> : <Text span size="xs" c="dimmed">none</Text>}</Table.Td>
                  <Table.Td>{formatTime(e.updated_at)}</Table.Td>
                  <Table.Td>
                    <Group gap="xs" wrap="nowrap">
                      <Button size="compact-xs" variant="default" aria-label={`Test endpoint ${e.name}`}
                        loading={test.isPending && test.variables === e.name} onClick={() => test.mutate(e.name)}>Test</Button>
                      <Button size="compact-xs" variant="default" aria-label={`Delete endpoint ${e.name}`}
                        onClick={() => setRemoving(e.name)}>Delete</Button>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {test.isSuccess && (
        <Alert color={test.data.has_model ? "green" : "orange"} role="status" data-testid="endpoint-test">
          {test.variables} answered: {test.data.has_model ? "its model is there" : "its model is not among the ones it lists"}
          {test.data.models.length > 0 && ` (${test.data.models.slice(0, 10).join(", ")}${test.data.models.length > 10 ? ", …" : ""})`}.
        </Alert>
      )}
      {test.isError && <Alert color="red" role="alert" data-testid="endpoint-test">{test.variables}: {errorMessage(test.error)}</Alert>}
      <form onSubmit={submit} aria-label="Add an endpoint">
        <Group align="flex-end" gap="sm">
          <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} w={160} />
          <TextInput label="Base URL" required placeholder="http://vllm:8000/v1" value={baseUrl}
            onChange={(e) => setBaseUrl(e.currentTarget.value)} w={240} />
          <TextInput label="Model" required placeholder="meta-llama/Llama-3.2-1B-Instruct" value={model}
            onChange={(e) => setModel(e.currentTarget.value)} w={220} />
          <NumberInput label="Context length" min={256} value={contextLength} onChange={setContextLength} w={130} />
          <PasswordInput label="API key" description="Stored encrypted; never shown again" autoComplete="off"
            value={key} onChange={(e) => setKey(e.currentTarget.value)} w={220} />
          <Button type="submit" loading={add.isPending}>Add endpoint</Button>
        </Group>
      </form>
      {add.isError && <Alert color="red" role="alert">{errorMessage(add.error)}</Alert>}
      <ConfirmModal opened={removing !== null} title="Delete this endpoint?" confirmLabel="Delete" danger
        busy={remove.isPending} error={remove.isError ? errorMessage(remove.error) : null}
        onCancel={() => { remove.reset(); setRemoving(null); }} onConfirm={() => removing && remove.mutate(removing)}>
        Requests naming <b>{removing}</b> will be refused. It cannot be deleted while it is a default:
        choose another default first. Its stored key is kept until you delete it from the provider secrets.
      </ConfirmModal>
    </Section>
  );
}
