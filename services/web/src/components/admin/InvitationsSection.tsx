import { Alert, Button, Code, CopyButton, Group, Select, Stack, Table, Text, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { errorMessage, unwrap } from "../../api/errors";
import { formatTime } from "../../lib/format";
import { useServices } from "../../services";
import { Section } from "../account/Section";
import { Loading } from "../Loading";
import { ROLE_LABELS, type Role } from "./roles";

/** Invite people by e-mail with a role; the token is shown once, to pass on to them. */
export function InvitationsSection({ roles }: { roles: Role[] }) {
  const { api } = useServices();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const invitations = useQuery({
    queryKey: ["invitations"],
    queryFn: async () => unwrap(await api.GET("/api/v1/auth/invitations")).invitations,
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ["invitations"] });
  const invite = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/auth/invitations", { body: { email: email.trim(), role } })),
    onSuccess: () => { setEmail(""); refresh(); void queryClient.invalidateQueries({ queryKey: ["audit"] }); },
  });
  const revoke = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE("/api/v1/auth/invitations/{invitation_id}",
        { params: { path: { invitation_id: id } } })),
    onSettled: refresh,
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    if (email.trim()) invite.mutate();
  }
  return (
    <Section title="Invitations" description="Chatlens sends no e-mail: give the invitee the token; they accept it under Account.">
      <form onSubmit={submit} aria-label="Invite someone">
        <Group align="flex-end" gap="sm" wrap="wrap">
          <TextInput label="Invite by e-mail" type="email" w={260} value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
          <Select label="As" w={290} allowDeselect={false} value={role} onChange={(v) => setRole((v ?? "viewer") as Role)}
            data={roles.map((r) => ({ value: r, label: ROLE_LABELS[r] }))} />
          <Button type="submit" loading={invite.isPending} disabled={!email.trim()}>Invite</Button>
        </Group>
      </form>
      {invite.isError && <Alert color="red" role="alert">{errorMessage(invite.error)}</Alert>}
      {invite.data && (
        <Alert color="yellow" role="status" title={`Invitation for ${invite.data.email}: copy the token now`}>
          <Stack gap="xs">
            <Text size="sm">It is shown only this once and works until {formatTime(invite.data.expires_at)}.</Text>
            <Code block data-testid="invitation-token">{invite.data.token}</Code>
            <Group>
              <CopyButton value={invite.data.token}>
                {({ copied, copy }) => <Button size="xs" variant="default" onClick={copy}>{copied ? "Copied" : "Copy"}</Button>}
              </CopyButton>
              <Button size="xs" onClick={() => invite.reset()}>Done</Button>
            </Group>
          </Stack>
        </Alert>
      )}
      {invitations.isPending && <Loading />}
      {invitations.isError && <Alert color="red" role="alert">{errorMessage(invitations.error)}</Alert>}
      {revoke.isError && <Alert color="red" role="alert">{errorMessage(revoke.error)}</Alert>}
      {invitations.data && invitations.data.length > 0 && (
        <Table striped>
          <Table.Thead>
            <Table.Tr><Table.Th>E-mail</Table.Th><Table.Th>Role</Table.Th><Table.Th>Expires</Table.Th>
              <Table.Th><span className="visually-hidden">Actions</span></Table.Th></Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {invitations.data.map((invitation) => (
              <Table.Tr key={invitation.id} data-testid="invitation-row">
                <Table.Td>{invitation.email}</Table.Td>
                <Table.Td>{ROLE_LABELS[invitation.role]}</Table.Td>
                <Table.Td>{formatTime(invitation.expires_at)}</Table.Td>
                <Table.Td>
                  <Button size="compact-xs" variant="outline" color="red" aria-label={`Revoke the invitation of ${invitation.email}`}
                    loading={revoke.isPending && revoke.variables === invitation.id} onClick={() => revoke.mutate(invitation.id)}>
                    Revoke
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Section>
  );
}
