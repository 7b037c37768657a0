import { Alert, Stack, Title } from "@mantine/core";
import { DefaultsSection } from "../components/models/DefaultsSection";
import { EndpointsSection } from "../components/models/EndpointsSection";
import { SecretsSection } from "../components/models/SecretsSection";
import { UsageSection } from "../components/models/UsageSection";
import { usePermissions } from "../services";

/** The organisation's models: its endpoints, its defaults, the provider secrets, its usage (owners and admins). */
export default function ModelsPage() {
  const perms = usePermissions();
  const manage = perms.has("secrets:manage");
  return (
    <Stack>
      <Title order={1} size="h2">Models</Title>
      {!manage && !perms.has("audit:read") && (
        <Alert color="gray" role="status">Only the organisation's owners and admins manage its models.</Alert>
      )}
      {manage && <EndpointsSection />}
      {manage && <DefaultsSection editable />}
      {manage && <SecretsSection />}
      {perms.has("audit:read") && <UsageSection />}
    </Stack>
  );
}
