import { Alert, Badge, Button, Stack, Table, Text } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useParams } from "react-router";
import { errorMessage, unwrap } from "../api/errors";
import { useVersions } from "../api/queries";
import type { Version } from "../api/types";
import { ConfirmModal } from "../components/ConfirmModal";
import { Loading } from "../components/Loading";
import { CompareVersions } from "../components/versions/CompareVersions";
import { DeleteMessages } from "../components/versions/DeleteMessages";
import { Tags } from "../components/versions/Tags";
import { formatTime } from "../lib/format";
import { useApi, usePermissions } from "../services";

/** The collection's history: every version, restoring one as a new version, comparing two, tags. */
export default function VersionsPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const { collectionId = "" } = useParams();
  const [target, setTarget] = useState<Version | null>(null);
  const versions = useVersions(collectionId);
  const perms = usePermissions();
  const canRestore = perms.has("collections:write");
  const restore = useMutation({
    mutationFn: async (version: number) =>
      unwrap(await api.POST("/api/v1/collections/{collection_id}/versions/{version}/restore", {
        params: { path: { collection_id: collectionId, version: String(version) } },
      })),
    onSuccess: () => {
      setTarget(null);
      void queryClient.invalidateQueries({ queryKey: ["versions", collectionId] });
      void queryClient.invalidateQueries({ queryKey: ["collection", collectionId] });
    },
  });
  if (versions.isPending) return <Loading />;
  if (versions.isError) return <Alert color="red" role="alert">{errorMessage(versions.error)}</Alert>;
  const latest = versions.data.reduce((max, v) => Math.max(max, v.version), 0);
  if (versions.data.length === 0) return <Text c="dimmed">No versions yet: upload an export first.</Text>;
  return (
    <Stack>
      {restore.isSuccess && (
        <Alert color="green" role="status">
          Restored version {restore.data.restored} as version {restore.data.version}{" "}
          ({restore.data.added} messages back, {restore.data.removed} set aside).
        </Alert>
      )}
      <Table.ScrollContainer minWidth={560}>
        <Table striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Version</Table.Th><Table.Th>When</Table.Th><Table.Th>What</Table.Th>
              <Table.Th>Messages</Table.Th><Table.Th><span className="visually-hidden">Actions</span></Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {versions.data.slice().reverse().map((v) => (
              <Table.Tr key={v.version} data-testid="version-row">
                <Table.Td>{v.version} {v.version === latest && <Badge size="xs" variant="dot">current</Badge>}</Table.Td>
                <Table.Td>{formatTime(v.committed_at)}</Table.Td>
                <Table.Td className="chat-text">{v.message} (+{v.added} / −{v.removed})</Table.Td>
                <Table.Td>{v.messages}</Table.Td>
                <Table.Td>
                  {v.version !== latest && canRestore && (
                    <Button size="compact-xs" variant="outline" onClick={() => setTarget(v)}
                      aria-label={`Restore version ${v.version}`}>Restore</Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {versions.data.length >= 2 && <CompareVersions collectionId={collectionId} versions={versions.data} />}
      <Tags collectionId={collectionId} versions={versions.data} canWrite={canRestore} />
      {canRestore && <DeleteMessages collectionId={collectionId} canPurge={perms.has("collections:purge")} />}
      <ConfirmModal opened={target !== null} title={`Restore version ${target?.version}?`}
        confirmLabel="Restore" busy={restore.isPending}
        error={restore.isError ? errorMessage(restore.error) : null}
        onCancel={() => { restore.reset(); setTarget(null); }}
        onConfirm={() => target && restore.mutate(target.version)}>
        The collection will hold exactly what version {target?.version} held ({target?.messages} messages),
        as a new version {latest + 1}. Messages added since then leave search and answers, and nothing is
        lost: version {latest} stays in the history and can be restored in turn.
      </ConfirmModal>
    </Stack>
  );
}
