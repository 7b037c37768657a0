import {
  Alert, Anchor, Button, Card, Group, SimpleGrid, Stack, Text, TextInput, Title,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { errorMessage, unwrap } from "../api/errors";
import type { Collection } from "../api/types";
import { ConfirmModal } from "../components/ConfirmModal";
import { Loading } from "../components/Loading";
import { formatTime } from "../lib/format";
import { useApi, usePermissions } from "../services";

/** The org's collections: list, create, delete (with what is lost said first). */
export default function CollectionsPage() {
  const api = useApi();
  const collections = useQuery({
    queryKey: ["collections"],
    queryFn: async () => unwrap(await api.GET("/api/v1/collections")).collections,
  });
  const [doomed, setDoomed] = useState<Collection | null>(null);
  // What the role may not do is not offered (the API refuses it anyway).
  const perms = usePermissions();
  const write = perms.has("collections:write");

  return (
    <Stack>
      <Title order={1} size="h2">Collections</Title>
      {write && <CreateCollection />}
      {collections.isPending && <Loading />}
      {collections.isError && <Alert color="red" role="alert">{errorMessage(collections.error)}</Alert>}
      {collections.data?.length === 0 && (
        <Text c="dimmed">
          {write ? "No collections yet: create one above, then upload a chat export into it." : "No collections yet."}
        </Text>
      )}
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
        {collections.data?.map((collection) => (
          <Card key={collection.id} withBorder data-testid="collection-card">
            <Stack gap="xs">
              <Anchor component={Link} to={`/collections/${collection.id}/search`} fw={600}>
                {collection.name}
              </Anchor>
              {collection.description && <Text size="sm">{collection.description}</Text>}
              <Text size="xs" c="dimmed">
                Version {collection.version} · created {formatTime(collection.created_at)}
              </Text>
              <Group gap="xs">
                {perms.has("uploads:create") && (
                  <Button component={Link} to={`/collections/${collection.id}/upload`} size="xs" variant="outline">
                    Upload
                  </Button>
                )}
                {write && (
                  <Button size="xs" variant="subtle" color="red" onClick={() => setDoomed(collection)}
                    aria-label={`Delete ${collection.name}`}>
                    Delete
                  </Button>
                )}
              </Group>
            </Stack>
          </Card>
        ))}
      </SimpleGrid>
      <DeleteCollection collection={doomed} onDone={() => setDoomed(null)} />
    </Stack>
  );
}

function CreateCollection() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const create = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/v1/collections", { body: { name: name.trim(), description } })),
    onSuccess: () => {
      setName("");
      setDescription("");
      void queryClient.invalidateQueries({ queryKey: ["collections"] });
    },
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate();
  }
  return (
    <Card withBorder component="form" onSubmit={submit} aria-label="Create a collection">
      <Group align="flex-end" wrap="wrap">
        <TextInput label="New collection" placeholder="Team chats" required value={name}
          onChange={(e) => setName(e.currentTarget.value)} />
        <TextInput label="Description" placeholder="optional" value={description}
          onChange={(e) => setDescription(e.currentTarget.value)} style={{ flex: 1, minWidth: 200 }} />
        <Button type="submit" loading={create.isPending} disabled={!name.trim()}>Create</Button>
      </Group>
      {create.isError && <Alert mt="sm" color="red" role="alert">{errorMessage(create.error)}</Alert>}
    </Card>
  );
}

function DeleteCollection({ collection, onDone }: { collection: Collection | null; onDone: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: async (id: string) =>
      unwrap(await api.DELETE("/api/v1/collections/{collection_id}", { params: { path: { collection_id: id } } })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["collections"] });
      onDone();
    },
  });
  return (
    <ConfirmModal opened={collection !== null} title={`Delete “${collection?.name ?? ""}”?`}
      confirmLabel="Delete for good" danger busy={remove.isPending}
      error={remove.isError ? errorMessage(remove.error) : null}
      onCancel={() => { remove.reset(); onDone(); }}
      onConfirm={() => collection && remove.mutate(collection.id)}>
      This deletes the collection <b>{collection?.name}</b> with every message indexed in it, its
      history of {versionCount(collection)}, its uploads and jobs, and the answers asked of it. It
      cannot be undone.
    </ConfirmModal>
  );
}

/** Version 0 is the empty collection, so version N means N + 1 versions of history. */
function versionCount(collection: Collection | null): string {
  const count = (collection?.version ?? 0) + 1;
  return count === 1 ? "1 version" : `${count} versions`;
}
