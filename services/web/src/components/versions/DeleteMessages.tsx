import { Alert, Button, Checkbox, Group, SegmentedControl, TextInput } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { errorMessage, unwrap } from "../../api/errors";
import { useApi } from "../../services";
import { Section } from "../account/Section";
import { ConfirmModal } from "../ConfirmModal";

type What = "chat" | "sender" | "upload";
const LABELS: Record<What, string> = { chat: "Chat name", sender: "Sender (name or id)", upload: "Upload job id" };

/**
 * Delete a chat's, a sender's or an upload's messages from the live version (a new version), or
 * with a purge from every version of the history as well (a privacy request; admins only).
 */
export function DeleteMessages({ collectionId, canPurge }: { collectionId: string; canPurge: boolean }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [what, setWhat] = useState<What>("chat");
  const [value, setValue] = useState("");
  const [purge, setPurge] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/collections/{collection_id}/deletions", {
      params: { path: { collection_id: collectionId } },
      body: { [what]: value.trim(), purge } as never,
    })),
    onSuccess: () => {
      setConfirming(false);
      setValue("");
      void queryClient.invalidateQueries({ queryKey: ["versions", collectionId] });
      void queryClient.invalidateQueries({ queryKey: ["collection", collectionId] });
    },
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    if (value.trim()) setConfirming(true);
  }
  const named = `${what === "upload" ? "upload" : what} “${value.trim()}”`;
  return (
    <Section title="Delete messages" description="Remove a chat, a sender or an upload from the collection.">
      <form onSubmit={submit} aria-label="Delete messages">
        <Group align="flex-end" gap="sm" wrap="wrap">
          <SegmentedControl aria-label="What to delete" value={what} onChange={(v) => setWhat(v as What)}
            data={[{ value: "chat", label: "A chat" }, { value: "sender", label: "A sender" }, { value: "upload", label: "An upload" }]} />
          <TextInput label={LABELS[what]} w={240} value={value} onChange={(e) => setValue(e.currentTarget.value)} />
          {canPurge && (
            <Checkbox label="Also purge it from every older version" checked={purge}
              onChange={(e) => setPurge(e.currentTarget.checked)} />
          )}
          <Button type="submit" color="red" variant="outline" disabled={!value.trim()}>Delete…</Button>
        </Group>
      </form>
      {remove.isSuccess && (
        <Alert color="green" role="status">
          {remove.data.removed} messages removed; the collection is now at version {remove.data.version}
          {remove.data.purged ? `, and ${remove.data.purged} purged from ${remove.data.rewritten} older versions` : ""}.
        </Alert>
      )}
      <ConfirmModal opened={confirming} title={`Delete the messages of ${named}?`} danger
        confirmLabel={purge ? "Delete and purge" : "Delete"} busy={remove.isPending}
        error={remove.isError ? errorMessage(remove.error) : null}
        onCancel={() => { remove.reset(); setConfirming(false); }} onConfirm={() => remove.mutate()}>
        {purge
          ? `Every message of ${named} leaves the live version and is rewritten out of every older version too: no restore brings it back. Use this for a privacy request.`
          : `Every message of ${named} leaves the live version, as a new version. Older versions still hold them, so restoring one brings them back.`}
      </ConfirmModal>
    </Section>
  );
}
