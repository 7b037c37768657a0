import { Alert, Button, Group, TextInput } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { errorMessage, unwrap } from "../../api/errors";
import { useServices } from "../../services";
import { Section } from "./Section";

/** Accept an invitation with the token its sender passed on; the org then appears in the header. */
export function JoinOrgSection() {
  const { api } = useServices();
  const queryClient = useQueryClient();
  const [token, setToken] = useState("");
  const accept = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/auth/invitations/accept", { body: { token: token.trim() } })),
    onSuccess: () => { setToken(""); void queryClient.invalidateQueries({ queryKey: ["orgs"] }); },
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    if (token.trim()) accept.mutate();
  }
  return (
    <Section title="Join an organisation" description="Paste the invitation token you were given.">
      <form onSubmit={submit} aria-label="Accept an invitation">
        <Group align="flex-end" gap="sm" wrap="wrap">
          <TextInput label="Invitation token" w={360} value={token} autoComplete="off"
            onChange={(e) => setToken(e.currentTarget.value)} />
          <Button type="submit" loading={accept.isPending} disabled={!token.trim()}>Join</Button>
        </Group>
      </form>
      {accept.isError && <Alert color="red" role="alert">{errorMessage(accept.error)}</Alert>}
      {accept.isSuccess && (
        <Alert color="green" role="status">
          You joined {accept.data.org.name} as {accept.data.org.role}: pick it in the organisation menu at the top.
        </Alert>
      )}
    </Section>
  );
}
