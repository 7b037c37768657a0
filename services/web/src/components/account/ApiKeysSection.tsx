import {
  Alert, Badge, Button, Code, CopyButton, Group, MultiSelect, NumberInput, Stack, Table, Text, TextInput,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { errorMessage, unwrap } from "../../api/errors";
import type { paths } from "../../api/schema";
import { formatTime } from "../../lib/format";
import { useServices } from "../../services";
import { ConfirmModal } from "../ConfirmModal";
import { Loading } from "../Loading";
import { Section } from "./Section";

type KeyRequest = paths["/api/v1/auth/api-keys"]["post"]["requestBody"]["content"]["application/json"];
type Scope = KeyRequest["scopes"][number];
type Key = { id: string; name: string; scopes: Scope[]; created_at: string; expires_at: string;
  last_used_at: string | null; revoked: boolean };

const SCOPES: { value: Scope; label: string }[] = [
  { value: "collections:read", label: "Read collections" },
  { value: "search:read", label: "Search" },
  { value: "answers:create", label: "Ask and summarise" },
  { value: "uploads:create", label: "Upload exports" },
  { value: "collections:write", label: "Change collections" },
  { value: "collections:purge", label: "Delete and purge" },
  { value: "members:read", label: "See members" },
  { value: "members:manage", label: "Manage members" },
  { value: "keys:manage", label: "Manage API keys" },
  { value: "secrets:manage", label: "Manage provider secrets" },
  { value: "webhooks:manage", label: "Manage webhooks" },
  { value: "audit:read", label: "Read the audit log" },
];

/** Keys for programs: created with the scopes they need, the secret shown once, revoked any time. */
export function ApiKeysSection() {
  const { api } = useServices();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<Scope[]>(["collections:read", "search:read"]);
  const [days, setDays] = useState<number>(90);
  const [revoking, setRevoking] = useState<Key | null>(null);
  const keys = useQuery({
    queryKey: ["api-keys"],
    queryFn: async () => unwrap(await api.GET("/api/v1/auth/api-keys")).api_keys as Key[],
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ["api-keys"] });
  const create = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/auth/api-keys", {
      body: { name: name.trim(), scopes, expires_in_days: days },
    })),
    onSuccess: () => { setName(""); refresh(); },
  });
  const revoke = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE("/api/v1/auth/api-keys/{key_id}", { params: { path: { key_id: id } } })),
    onSuccess: () => { setRevoking(null); refresh(); },
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    if (name.trim() && scopes.length) create.mutate();
  }
  const created = create.data as { key?: string; name: string } | undefined;
  return (
    <Section title="API keys" description="For scripts and programs: a key acts as you, within its scopes, in this organisation.">
      <form onSubmit={submit} aria-label="Create an API key">
        <Group align="flex-end" gap="sm" wrap="wrap">
          <TextInput label="Key name" placeholder="nightly export" w={200} value={name}
            onChange={(e) => setName(e.currentTarget.value)} />
          <MultiSelect label="Scopes" w={360} data={SCOPES} value={scopes} onChange={(v) => setScopes(v as Scope[])} />
          <NumberInput label="Expires in (days)" w={140} min={1} max={365} value={days}
            onChange={(v) => setDays(typeof v === "number" ? v : 90)} />
          <Button type="submit" loading={create.isPending} disabled={!name.trim() || !scopes.length}>Create key</Button>
        </Group>
      </form>
      {create.isError && <Alert color="red" role="alert">{errorMessage(create.error)}</Alert>}
      {created?.key && (
        <Alert color="yellow" title={`Key “${created.name}” created: copy it now`} role="status">
          <Stack gap="xs">
            <Text size="sm">It is shown only this once; Chatlens keeps only a hash of it.</Text>
            <Code block data-testid="new-api-key">{created.key}</Code>
            <Group>
              <CopyButton value={created.key}>
                {({ copied, copy }) => <Button size="xs" variant="default" onClick={copy}>{copied ? "Copied" : "Copy"}</Button>}
              </CopyButton>
              <Button size="xs" onClick={() => create.reset()}>I have saved it</Button>
            </Group>
          </Stack>
        </Alert>
      )}
      {keys.isPending && <Loading />}
      {keys.isError && <Alert color="red" role="alert">{errorMessage(keys.error)}</Alert>}
      {keys.data && keys.data.length === 0 && <Text size="sm" c="dimmed">No keys yet.</Text>}
      {keys.data && keys.data.length > 0 && (
        <Table.ScrollContainer minWidth={640}>
          <Table striped>
            <Table.Thead>
              <Table.Tr><Table.Th>Name</Table.Th><Table.Th>Scopes</Table.Th><Table.Th>Created</Table.Th>
                <Table.Th>Expires</Table.Th><Table.Th>Last used</Table.Th>
                <Table.Th><span className="visually-hidden">Actions</span></Table.Th></Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {keys.data.map((key) => (
                <Table.Tr key={key.id} data-testid="api-key-row">
                  <Table.Td>{key.name} {key.revoked && <Badge size="xs" color="gray">revoked</Badge>}</Table.Td>
                  <Table.Td><Text size="xs">{key.scopes.join(", ")}</Text></Table.Td>
                  <Table.Td>{formatTime(key.created_at)}</Table.Td>
                  <Table.Td>{formatTime(key.expires_at)}</Table.Td>
                  <Table.Td>{key.last_used_at ? formatTime(key.last_used_at) : "never"}</Table.Td>
                  <Table.Td>
                    {!key.revoked && (
                      <Button size="compact-xs" variant="outline" color="red" aria-label={`Revoke key ${key.name}`}
                        onClick={() => setRevoking(key)}>Revoke</Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <ConfirmModal opened={revoking !== null} title={`Revoke key “${revoking?.name}”?`} confirmLabel="Revoke" danger
        busy={revoke.isPending} error={revoke.isError ? errorMessage(revoke.error) : null}
        onCancel={() => { revoke.reset(); setRevoking(null); }} onConfirm={() => revoking && revoke.mutate(revoking.id)}>
        Programs using it are refused from now on (within a second). This cannot be undone: a new key would have a new secret.
      </ConfirmModal>
    </Section>
  );
}
