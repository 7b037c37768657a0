import { Alert, Button, CopyButton, Group, SimpleGrid, Stack, Text } from "@mantine/core";

/** Recovery codes, shown once: each signs in once in place of a TOTP code. */
export function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  return (
    <Alert color="yellow" title="Save your recovery codes now" role="status">
      <Stack gap="xs">
        <Text size="sm">
          Each one signs you in once if you lose your authenticator. They are shown only this once.
        </Text>
        <SimpleGrid cols={{ base: 2, sm: 4 }} spacing={4} data-testid="recovery-codes">
          {codes.map((code) => <Text key={code} ff="monospace" size="sm">{code}</Text>)}
        </SimpleGrid>
        <Group>
          <CopyButton value={codes.join("\n")}>
            {({ copied, copy }) => <Button size="xs" variant="default" onClick={copy}>{copied ? "Copied" : "Copy all"}</Button>}
          </CopyButton>
          <Button size="xs" onClick={onDone}>I have saved them</Button>
        </Group>
      </Stack>
    </Alert>
  );
}
