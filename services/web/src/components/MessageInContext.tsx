import { Alert, Box, Group, Modal, Stack, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { errorMessage, unwrap } from "../api/errors";
import { formatTime } from "../lib/format";
import { useApi } from "../services";
import { Loading } from "./Loading";

interface Props {
  collectionId: string;
  messageId: string | null;
  version?: number | string | null;
  onClose: () => void;
}

/** One message opened in its chat: its neighbours before and after, scrolled to it. */
export function MessageInContext({ collectionId, messageId, version, onClose }: Props) {
  const api = useApi();
  const opened = useQuery({
    queryKey: ["message", collectionId, messageId, version ?? null],
    enabled: messageId !== null,
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/collections/{collection_id}/messages/{message_id}", {
          params: {
            path: { collection_id: collectionId, message_id: messageId! },
            query: { context: 8, ...(version != null ? { version: String(version) } : {}) },
          },
        }),
      ),
  });
  const focused = useRef<HTMLDivElement>(null);
  useEffect(() => {
    focused.current?.scrollIntoView({ block: "center" });
  }, [opened.data]);

  const data = opened.data;
  return (
    <Modal closeButtonProps={{ "aria-label": "Close" }} opened={messageId !== null} onClose={onClose} size="lg"
      title={data ? `${data.message.chat} · ${data.message.platform}` : "Message"}>
      {opened.isPending && <Loading />}
      {opened.isError && <Alert color="red" title="Could not open the message">{errorMessage(opened.error)}</Alert>}
      {data && (
        <Stack gap="xs" data-testid="message-context">
          {data.before.map((m) => <Line key={m.message_id} sender={m.sender} sentAt={m.sent_at} text={m.text} />)}
          <Box ref={focused} p="xs" className="message-focused" data-testid="opened-message">
            <Line sender={data.message.sender} sentAt={data.message.sent_at} text={data.message.text} />
          </Box>
          {data.after.map((m) => <Line key={m.message_id} sender={m.sender} sentAt={m.sent_at} text={m.text} />)}
          <Text size="xs" c="dimmed">Version {data.version}</Text>
        </Stack>
      )}
    </Modal>
  );
}

function Line({ sender, sentAt, text }: { sender?: string | null; sentAt: string; text: string }) {
  return (
    <div>
      <Group gap="xs">
        <Text size="sm" fw={600}>{sender ?? "(system)"}</Text>
        <Text size="xs" c="dimmed">{formatTime(sentAt)}</Text>
      </Group>
      <Text size="sm" className="chat-text">{text}</Text>
    </div>
  );
}
