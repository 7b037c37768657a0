import {
  ActionIcon, AppShell, Anchor, Button, Group, Text, Tooltip, useComputedColorScheme,
  useMantineColorScheme,
} from "@mantine/core";
import { useHotkeys } from "@mantine/hooks";
import { useQuery } from "@tanstack/react-query";
import { Link, Outlet, useNavigate } from "react-router";
import { unwrap } from "../api/errors";
import { useServices } from "../services";

export const SEARCH_BOX_ID = "search-box";

/** The frame of every signed-in page: brand, navigation, theme switch, the user, sign out. */
export function Shell() {
  const { session, api } = useServices();
  const navigate = useNavigate();
  const me = useQuery({
    queryKey: ["me"],
    queryFn: async () => unwrap(await api.GET("/api/v1/me")),
  });
  // "/" jumps to the search box wherever one is on the page.
  useHotkeys([["/", () => document.getElementById(SEARCH_BOX_ID)?.focus()]]);

  async function signOut() {
    await session.logout();
    navigate("/login", { replace: true });
  }

  return (
    <AppShell header={{ height: 56 }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="lg" wrap="nowrap">
            <Anchor component={Link} to="/collections" fw={700} size="lg" underline="never">
              Chatlens
            </Anchor>
            <Anchor component={Link} to="/collections" size="sm">
              Collections
            </Anchor>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Text size="sm" c="dimmed" visibleFrom="sm" data-testid="signed-in-as">
              {me.data?.email}
            </Text>
            <ThemeToggle />
            <Button variant="default" size="xs" onClick={signOut}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Main>
        <main>
          <Outlet />
        </main>
      </AppShell.Main>
    </AppShell>
  );
}

function ThemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const scheme = useComputedColorScheme("light");
  const next = scheme === "dark" ? "light" : "dark";
  return (
    <Tooltip label={`Switch to the ${next} theme`}>
      <ActionIcon variant="default" size="lg" aria-label={`Switch to the ${next} theme`}
        onClick={() => setColorScheme(next)}>
        <span aria-hidden="true">{scheme === "dark" ? "☀" : "☾"}</span>
      </ActionIcon>
    </Tooltip>
  );
}
