import { Alert, Button, Group, Modal, Stack, Text } from "@mantine/core";
import type { ReactNode } from "react";

interface Props {
  opened: boolean;
  title: string;
  /** What will happen, in words: what is lost or changed. */
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onCancel: () => void;
}

/** A confirmation that says what will happen before it happens. */
export function ConfirmModal(props: Props) {
  return (
    <Modal closeButtonProps={{ "aria-label": "Close" }} opened={props.opened} onClose={props.onCancel} title={props.title} centered>
      <Stack>
        <Text component="div" size="sm">{props.children}</Text>
        {props.error && <Alert color="red" role="alert">{props.error}</Alert>}
        <Group justify="flex-end">
          <Button variant="default" onClick={props.onCancel}>Cancel</Button>
          <Button color={props.danger ? "red" : undefined} loading={props.busy} onClick={props.onConfirm}>
            {props.confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
