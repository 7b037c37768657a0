import { Alert, Button, Select, Table, Text } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage, unwrap } from "../../api/errors";
import { formatTime } from "../../lib/format";
import { useServices } from "../../services";
import { Section } from "../account/Section";
import { ConfirmModal } from "../ConfirmModal";
import { Loading } from "../Loading";
import { ROLE_LABELS, type Role } from "./roles";

interface Member { id: string; email: string; name: string | null; role: Role; joined_at: string }

/** The org's members; who manages members changes roles and removes people (not themselves). */
export function MembersSection({ meId, roles }: { meId: string | undefined; roles: Role[] }) {
  const { api } = useServices();
  const queryClient = useQueryClient();
  const [removing, setRemoving] = useState<Member | null>(null);
  // A role picked in a member's dropdown, applied only once confirmed.
  const [changing, setChanging] = useState<{ member: Member; role: Role } | null>(null);
  const members = useQuery({
    queryKey: ["members"],
    queryFn: async () => unwrap(await api.GET("/api/v1/auth/members")).members as Member[],
  });
  // A change is also a new line in the audit log.
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ["members"] });
    void queryClient.invalidateQueries({ queryKey: ["audit"] });
  };
  const change = useMutation({
    mutationFn: async ({ id, role }: { id: string; role: Role }) =>
      unwrap(await api.PATCH("/api/v1/auth/members/{user_id}", { params: { path: { user_id: id } }, body: { role } })),
    onSuccess: () => setChanging(null),
    onSettled: refresh,
  });
  const remove = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE("/api/v1/auth/members/{user_id}", { params: { path: { user_id: id } } })),
    onSuccess: () => { setRemoving(null); refresh(); },
  });
  // A member whose role the caller may not hand out (an owner, for an admin) is not theirs to change.
  const manageable = (member: Member) => roles.length > 0 && member.id !== meId && roles.includes(member.role);
  return (
    <Section title="Members">
      {members.isPending && <Loading />}
      {members.isError && <Alert color="red" role="alert">{errorMessage(members.error)}</Alert>}
      {members.data && (
        <Table.ScrollContainer minWidth={560}>
          <Table striped>
            <Table.Thead>
              <Table.Tr><Table.Th>Name</Table.Th><Table.Th>Email</Table.Th><Table.Th>Role</Table.Th>
                <Table.Th>Joined</Table.Th>
                {roles.length > 0 && <Table.Th><span className="visually-hidden">Actions</span></Table.Th>}</Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {members.data.map((member) => (
                <Table.Tr key={member.id} data-testid="member-row">
                  <Table.Td>{member.name ?? "–"}{member.id === meId && <Text span size="xs" c="dimmed"> (you)</Text>}</Table.Td>
                  <Table.Td>{member.email}</Table.Td>
                  <Table.Td>
                    {manageable(member) ? (
                      <Select size="xs" w={230} allowDeselect={false} aria-label={`Role of ${member.email}`}
                        value={member.role} data={roles.map((role) => ({ value: role, label: ROLE_LABELS[role] }))}
                        onChange={(role) => role && role !== member.role && setChanging({ member, role: role as Role })} />
                    ) : ROLE_LABELS[member.role]}
                  </Table.Td>
                  <Table.Td>{formatTime(member.joined_at)}</Table.Td>
                  {roles.length > 0 && (
                    <Table.Td>
                      {manageable(member) && (
                        <Button size="compact-xs" color="red" variant="outline" aria-label={`Remove ${member.email}`}
                          onClick={() => setRemoving(member)}>Remove</Button>
                      )}
                    </Table.Td>
                  )}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <ConfirmModal opened={removing !== null} title={`Remove ${removing?.email}?`} confirmLabel="Remove" danger
        busy={remove.isPending} error={remove.isError ? errorMessage(remove.error) : null}
        onCancel={() => { remove.reset(); setRemoving(null); }} onConfirm={() => removing && remove.mutate(removing.id)}>
        They lose access to this organisation's collections at once, and every session of theirs ends, on
        every device and in every organisation: they sign in again. Their account and anything they
        uploaded stay; invite them again to bring them back.
      </ConfirmModal>
      <ConfirmModal opened={changing !== null}
        title={`Change the role of ${changing?.member.email}?`}
        confirmLabel="Change role" busy={change.isPending} error={change.isError ? errorMessage(change.error) : null}
        onCancel={() => { change.reset(); setChanging(null); }}
        onConfirm={() => changing && change.mutate({ id: changing.member.id, role: changing.role })}>
        {changing && <>
          Their role here goes from {ROLE_LABELS[changing.member.role]} to {ROLE_LABELS[changing.role]}, and every
          session of theirs ends at once, on every device and in every organisation: they sign in again, and
          their new sessions carry the new role.
        </>}
      </ConfirmModal>
    </Section>
  );
}
