import { Anchor, Group, Stack, Title } from "@mantine/core";
import { Link } from "react-router";
import { ApiKeysSection } from "../components/account/ApiKeysSection";
import { JoinOrgSection } from "../components/account/JoinOrgSection";
import { LinkedSignInSection } from "../components/account/LinkedSignInSection";
import { MfaSection } from "../components/account/MfaSection";
import { PasswordSection } from "../components/account/PasswordSection";
import { SessionsSection } from "../components/account/SessionsSection";
import { OrgSwitcher } from "../components/OrgSwitcher";

/** Your account: password, two-step sign-in, linked providers, where you are signed in, API keys,
 * joining an org. */
export default function AccountPage() {
  return (
    <Stack>
      <Title order={1} size="h2">Account</Title>
      {/* The header has no room for these on a phone. */}
      <Group hiddenFrom="sm" gap="md">
        <Anchor component={Link} to="/organisation">Organisation</Anchor>
        <OrgSwitcher />
      </Group>
      <PasswordSection />
      <MfaSection />
      <LinkedSignInSection />
      <SessionsSection />
      <ApiKeysSection />
      <JoinOrgSection />
    </Stack>
  );
}
