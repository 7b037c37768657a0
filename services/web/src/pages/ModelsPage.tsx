import { Alert, Stack, Title } from "@mantine/core";
import { DefaultsSection } from "../components/models/DefaultsSection";
import { EndpointsSection } from "../components/models/EndpointsSection";
import { UsageSection } from "../components/models/UsageSection";
import { usePermissions } from "../services";

/** The organisation's models: its endpoints, its defaults, its usage (owners and admins). */
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
      {perms.has("audit:read") && <UsageSection />}
    </Stack>
  );
}
