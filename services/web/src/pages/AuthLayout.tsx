import { Anchor, Center, Paper, Stack, Title } from "@mantine/core";
import type { ReactNode } from "react";

/** The frame of the sign-in pages: one card in the middle of the screen. */
export function AuthLayout({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Center mih="100vh" p="md" component="main">
      <Paper withBorder shadow="sm" p="xl" w="100%" maw={420}>
        <Stack>
          <Anchor href="/" fw={700} size="xl" underline="never">Chatlens</Anchor>
          <Title order={1} size="h3">{title}</Title>
          {children}
        </Stack>
      </Paper>
    </Center>
  );
}
