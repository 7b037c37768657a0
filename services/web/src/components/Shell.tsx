import {
  ActionIcon, AppShell, Anchor, Box, Button, Group, Text, useComputedColorScheme,
  useMantineColorScheme,
} from "@mantine/core";
import { useDisclosure, useHotkeys } from "@mantine/hooks";
import { lazy, Suspense } from "react";
import { Link, Outlet, useNavigate } from "react-router";
import { useMe, useServices } from "../services";
import { LazyTooltip } from "./LazyTooltip";
import { OrgSwitcher } from "./OrgSwitcher";

// A modal is a dozen KB of Mantine the first load does without until "?" is pressed.
const ShortcutsModal = lazy(() => import("./ShortcutsModal"));

export const SEARCH_BOX_ID = "search-box";

/** The frame of every signed-in page: brand, navigation, theme switch, the user, sign out. */
export function Shell() {
  const { session } = useServices();
  const navigate = useNavigate();
  const me = useMe();
  const [shortcuts, { open: openShortcuts, close: closeShortcuts }] = useDisclosure(false);
  // "/" jumps to the search box wherever one is on the page; "?" lists the shortcuts (typed
  // with Shift on most layouts). Neither fires while typing in a field (useHotkeys' default).
  useHotkeys([
    ["/", () => document.getElementById(SEARCH_BOX_ID)?.focus()],
    ["shift+?", openShortcuts],
    ["?", openShortcuts],
  ]);

  async function signOut() {
    await session.logout();
    navigate("/login", { replace: true });
  }

  return (
    <AppShell header={{ height: 56 }} padding="md">
      <AppShell.Header>
        {/* On a phone only the brand (which leads to the collections), Account, the theme and
            Sign out fit; the Account page links the organisation and its switcher there. */}
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="lg" wrap="nowrap">
            <Anchor component={Link} to="/collections" fw={700} size="lg" underline="never">
              Chatlens
            </Anchor>
            <Anchor component={Link} to="/collections" size="sm" visibleFrom="sm">
              Collections
            </Anchor>
            <Anchor component={Link} to="/organisation" size="sm" visibleFrom="sm">
              Organisation
            </Anchor>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Box visibleFrom="sm"><OrgSwitcher /></Box>
            <Anchor component={Link} to="/account" size="sm" data-testid="signed-in-as"
              aria-label={me.data ? `Account of ${me.data.email}` : "Account"}>
              <Text span visibleFrom="lg" inherit>{me.data?.email}</Text>
              <Text span hiddenFrom="lg" inherit>Account</Text>
            </Anchor>
            <LazyTooltip label="Keyboard shortcuts (?)">
              <ActionIcon variant="default" size="lg" aria-label="Keyboard shortcuts" onClick={openShortcuts} visibleFrom="sm">
                <span aria-hidden="true">?</span>
              </ActionIcon>
            </LazyTooltip>
            <ThemeToggle />
            <Button variant="default" size="xs" onClick={signOut}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      {shortcuts && <Suspense fallback={null}><ShortcutsModal opened onClose={closeShortcuts} /></Suspense>}
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
    <LazyTooltip label={`Switch to the ${next} theme`}>
      <ActionIcon variant="default" size="lg" aria-label={`Switch to the ${next} theme`}
        onClick={() => setColorScheme(next)}>
        <span aria-hidden="true">{scheme === "dark" ? "☀" : "☾"}</span>
      </ActionIcon>
    </LazyTooltip>
  );
}
