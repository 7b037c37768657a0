import { NativeSelect } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router";
import { errorMessage, unwrap } from "../api/errors";
import { useServices } from "../services";

/** The orgs the user belongs to, when more than one: picking one moves every tab into it. */
export function OrgSwitcher() {
  const { api, session } = useServices();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const orgs = useQuery({ queryKey: ["orgs"], queryFn: async () => unwrap(await api.GET("/api/v1/auth/orgs")) });
  if (!orgs.data || orgs.data.orgs.length < 2) return null;
  async function pick(orgId: string) {
    try {
      await session.switchOrg(orgId);
    } catch (error) {
      notifications.show({ color: "red", title: "Could not switch", message: errorMessage(error) });
      return;
    }
    // Everything cached belongs to the old org: start over in the new one.
    navigate("/collections");
    await queryClient.resetQueries();
  }
  return (
    <NativeSelect size="xs" aria-label="Organisation" value={orgs.data.active} w={180}
      onChange={(e) => void pick(e.currentTarget.value)}
      data={orgs.data.orgs.map((org) => ({ value: org.id, label: `${org.name} (${org.role})` }))} />
  );
}
