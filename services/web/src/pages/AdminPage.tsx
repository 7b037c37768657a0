import { Anchor, Group, Stack, Text, Title } from "@mantine/core";
import { Link } from "react-router";
import { AuditSection } from "../components/admin/AuditSection";
import { InvitationsSection } from "../components/admin/InvitationsSection";
import { MembersSection } from "../components/admin/MembersSection";
import { QuotasSection } from "../components/admin/QuotasSection";
import { assignable, type Role } from "../components/admin/roles";
import { useMe, usePermissions } from "../services";

/**
 * The organisation: its members for everyone in it; roles, invitations and the audit log only for
 * those whose token allows them (what a role may not do is not offered; the API refuses it anyway).
 */
export default function AdminPage() {
  const me = useMe();
  const perms = usePermissions();
  const manage = perms.has("members:manage");
  const roles = assignable(me.data?.org.role as Role | undefined, manage);
  return (
    <Stack>
      <div>
        <Title order={1} size="h2">Organisation{me.data ? `: ${me.data.org.name}` : ""}</Title>
        {me.data && <Text size="sm" c="dimmed" data-testid="my-role">Your role: {me.data.org.role}</Text>}
      </div>
      <Group gap="md">
        {(perms.has("secrets:manage") || perms.has("audit:read")) && (
          <Anchor component={Link} to="/organisation/models">Models: endpoints, defaults, usage</Anchor>
        )}
        {perms.has("webhooks:manage") && (
          <Anchor component={Link} to="/organisation/webhooks">Webhooks</Anchor>
        )}
        {me.data?.platform_admin && <Anchor component={Link} to="/admin/models">Platform models</Anchor>}
      </Group>
      {/* Owners, admins and analysts: those who upload and may see what it costs. */}
      {perms.has("collections:write") && <QuotasSection />}
      <MembersSection meId={me.data?.id} roles={roles} />
      {manage && <InvitationsSection roles={roles} />}
      {perms.has("audit:read") && <AuditSection />}
    </Stack>
  );
}
