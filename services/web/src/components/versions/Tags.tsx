import { Alert, Badge, Button, CloseButton, Group, Select, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { errorMessage, unwrap } from "../../api/errors";
import type { Version } from "../../api/types";
import { useApi } from "../../services";
import { Section } from "../account/Section";

/** Names for versions (search, answers and dashboards take a tag wherever they take a version). */
export function Tags({ collectionId, versions, canWrite }: { collectionId: string; versions: Version[]; canWrite: boolean }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  // The latest version until another is picked (a restore makes a new latest; the name typed stays).
  const [picked, setVersion] = useState<string | null>(null);
  const version = picked ?? (versions.at(-1) ? String(versions.at(-1)!.version) : null);
  const tags = useQuery({
    queryKey: ["tags", collectionId],
    queryFn: async () => unwrap(await api.GET("/api/v1/collections/{collection_id}/tags", {
      params: { path: { collection_id: collectionId } } })).tags,
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ["tags", collectionId] });
  const create = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/collections/{collection_id}/tags", {
      params: { path: { collection_id: collectionId } }, body: { name: name.trim(), version: Number(version) },
    })),
    onSuccess: () => { setName(""); refresh(); },
  });
  const remove = useMutation({
    mutationFn: async (tag: string) => unwrap(await api.DELETE("/api/v1/collections/{collection_id}/tags/{name}", {
      params: { path: { collection_id: collectionId, name: tag } } })),
    onSettled: refresh,
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    if (name.trim() && version) create.mutate();
  }
  return (
    <Section title="Tags" description="A name for a version, usable wherever a version number is.">
      <Group gap="xs" data-testid="tags">
        {tags.data?.length === 0 && "No tags yet."}
        {tags.data?.map((tag) => (
          <Badge key={tag.name} size="lg" variant="light" tt="none" data-testid="tag"
            rightSection={canWrite ? (
              <CloseButton size="xs" aria-label={`Remove tag ${tag.name}`} onClick={() => remove.mutate(tag.name)} />
            ) : undefined}>
            {tag.name} → version {tag.version}
          </Badge>
        ))}
      </Group>
      {canWrite && (
        <form onSubmit={submit} aria-label="Tag a version">
          <Group align="flex-end" gap="sm" wrap="wrap">
            <TextInput label="Tag name" placeholder="before-cleanup" w={200} value={name}
              onChange={(e) => setName(e.currentTarget.value)} />
            <Select label="Version" w={130} allowDeselect={false} value={version} onChange={setVersion}
              data={versions.map((v) => String(v.version)).reverse()} />
            <Button type="submit" variant="default" loading={create.isPending} disabled={!name.trim()}>Tag</Button>
          </Group>
        </form>
      )}
      {(create.error ?? remove.error ?? tags.error) && (
        <Alert color="red" role="alert">{errorMessage(create.error ?? remove.error ?? tags.error)}</Alert>
      )}
    </Section>
  );
}
