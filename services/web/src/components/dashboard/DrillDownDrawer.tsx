import { Alert, Button, Drawer, Group, Stack, Text } from "@mantine/core";
import { useState } from "react";
import { useDrillMessages, type Slice } from "../../api/analytics";
import { errorMessage } from "../../api/errors";
import type { DashboardFilters } from "../../lib/analytics";
import { Loading } from "../Loading";
import { MessageInContext } from "../MessageInContext";

interface Props {
  collectionId: string;
  filters: DashboardFilters;
  /** What was clicked, in words ("Monday 09:00–10:00"), and the messages it stands for. */
  drill: { label: string; slice: Slice } | null;
  onClose: () => void;
}

/**
 * The messages behind a figure (a heatmap cell, a calendar day, a pair who reply to each other):
 * the dashboard's filters narrowed to the figure, the first 200 oldest first, each opening in
 * its chat. Times are shown as the API writes them: in the dashboard's time zone.
 */
export function DrillDownDrawer({ collectionId, filters, drill, onClose }: Props) {
  const listed = useDrillMessages(collectionId, filters, drill?.slice ?? null);
  const [opened, setOpened] = useState<string | null>(null);
  const data = listed.data;
  return (
    <>
      <Drawer opened={drill !== null} onClose={onClose} position="right" size="lg"
        closeButtonProps={{ "aria-label": "Close" }} title={drill ? `Messages: ${drill.label}` : "Messages"}>
        {listed.isPending && <Loading />}
        {listed.isError && <Alert color="red" role="alert">{errorMessage(listed.error)}</Alert>}
        {data && (
          <Stack gap="sm" data-testid="drill-messages">
            <Text size="sm" c="dimmed">
              {data.total === data.messages.length
                ? `${data.total} messages, in ${data.timezone}`
                : `The first ${data.messages.length} of ${data.total} messages, in ${data.timezone}`}
            </Text>
            {data.messages.length === 0 && <Text>No messages match.</Text>}
            {data.messages.map((m) => (
              <div key={m.message_id}>
                <Group gap="xs" justify="space-between" wrap="nowrap">
                  <Group gap="xs">
                    <Text size="sm" fw={600}>{m.sender ?? "(system)"}</Text>
                    <Text size="xs" c="dimmed">{m.sent_at.slice(0, 16).replace("T", " ")} · {m.chat}</Text>
                  </Group>
                  <Button variant="subtle" size="compact-xs" onClick={() => setOpened(m.message_id)}
                    aria-label={`Open the message of ${m.sent_at.slice(0, 16).replace("T", " ")} in its chat`}>
                    Open
                  </Button>
                </Group>
                <Text size="sm" className="chat-text">{m.text}</Text>
              </div>
            ))}
          </Stack>
        )}
      </Drawer>
      <MessageInContext collectionId={collectionId} messageId={opened} version={data?.version ?? filters.version}
        onClose={() => setOpened(null)} />
    </>
  );
}
