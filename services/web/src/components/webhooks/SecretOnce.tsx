import { Alert, Button, Code, CopyButton, Group, Stack, Text } from "@mantine/core";

/** A webhook's signing secret, right after it was made: shown this once, then gone. */
export function SecretOnce({ title, secret, onDone }: { title: string; secret: string; onDone: () => void }) {
  return (
    <Alert color="yellow" role="status" title={title}>
      <Stack gap="xs">
        <Text size="sm">
          It is shown only this once. Keep it where the receiver runs: it verifies the
          Chatlens-Signature header of every delivery with it.
        </Text>
        <Code block data-testid="webhook-secret">{secret}</Code>
        <Group>
          <CopyButton value={secret}>
            {({ copied, copy }) => <Button size="xs" variant="default" onClick={copy}>{copied ? "Copied" : "Copy"}</Button>}
          </CopyButton>
          <Button size="xs" onClick={onDone}>I have saved it</Button>
        </Group>
      </Stack>
    </Alert>
  );
}
