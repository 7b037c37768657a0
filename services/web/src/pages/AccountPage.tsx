import { Stack, Title } from "@mantine/core";
import { ApiKeysSection } from "../components/account/ApiKeysSection";
import { JoinOrgSection } from "../components/account/JoinOrgSection";
import { MfaSection } from "../components/account/MfaSection";
import { PasswordSection } from "../components/account/PasswordSection";
import { SessionsSection } from "../components/account/SessionsSection";

/** Your account: password, two-step sign-in, where you are signed in, API keys, joining an org. */
export default function AccountPage() {
  return (
    <Stack>
      <Title order={1} size="h2">Account</Title>
      <PasswordSection />
      <MfaSection />
      <SessionsSection />
      <ApiKeysSection />
      <JoinOrgSection />
    </Stack>
  );
}
