import { Alert, Badge, Button, Group, PasswordInput, Stack, Text } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useSearchParams } from "react-router";
import { errorMessage, unwrap } from "../../api/errors";
import { formatTime } from "../../lib/format";
import { useServices } from "../../services";
import { ConfirmModal } from "../ConfirmModal";
import { Section } from "./Section";

interface Unlinking {
  name: string;
  label: string;
}

/**
 * Sign in with a provider as well as with the password: which provider accounts are linked, a
 * link for the others (through the provider's own page, back here with `?linked=<name>`, or with
 * `?oauth_error=` when it was refused), and unlinking, confirmed with the password. Shown when
 * auth has a provider configured or one is still linked.
 */
export function LinkedSignInSection() {
  const { api, session } = useServices();
  const queryClient = useQueryClient();
  const [params] = useSearchParams();
  const [leaving, setLeaving] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [unlinking, setUnlinking] = useState<Unlinking | null>(null);
  const [password, setPassword] = useState("");
  const providers = useQuery({ queryKey: ["oauth-providers"], queryFn: () => session.oauthProviders() });
  const identities = useQuery({
    queryKey: ["oauth-identities"],
    queryFn: async () => unwrap(await api.GET("/api/v1/auth/oauth/identities")).identities,
  });
  const unlink = useMutation({
    mutationFn: async ({ name, secret }: { name: string; secret: string }) => unwrap(
      await api.POST("/api/v1/auth/oauth/identities/{name}/unlink", {
        params: { path: { name } }, body: { password: secret },
      })),
    onSuccess: () => {
      setUnlinking(null);
      setPassword("");
      void queryClient.invalidateQueries({ queryKey: ["oauth-identities"] });
    },
  });
  const configured = providers.data ?? [];
  const linkedRows = identities.data ?? [];
  // A provider removed from the configuration may still be linked: it can be unlinked here.
  const names = [...new Set([...configured.map((p) => p.name), ...linkedRows.map((i) => i.provider)])];
  if (!names.length) return null;
  const labelOf = (name: string) => configured.find((p) => p.name === name)?.label
    ?? linkedRows.find((i) => i.provider === name)?.label ?? name;
  const justLinked = params.get("linked");
  const refused = params.get("oauth_error");

  async function link(name: string) {
    setLeaving(name);
    setError(null);
    try {
      window.location.assign(await session.oauthLink(name));
    } catch (caught) {
      setError(errorMessage(caught));
      setLeaving(null);
    }
  }

  function closeUnlink() {
    unlink.reset();
    setUnlinking(null);
    setPassword("");
  }

  return (
    <Section title="Sign in with another account"
      description="Link an account you have with a provider; then its button on the sign-in page signs you in here too.">
      {justLinked && <Alert color="green" role="status">Your {labelOf(justLinked)} account is linked: you can sign in with it.</Alert>}
      {refused && <Alert color="red" role="alert">The provider account was not linked: {refused}</Alert>}
      {error && <Alert color="red" role="alert">{error}</Alert>}
      {identities.isError && <Alert color="red" role="alert">{errorMessage(identities.error)}</Alert>}
      <Stack gap="xs">
        {names.map((name) => {
          const mine = linkedRows.filter((i) => i.provider === name);
          const offered = configured.some((p) => p.name === name);
          return (
            <Group key={name} justify="space-between" data-testid="linked-provider" wrap="wrap">
              <div>
                <Text fw={500}>{labelOf(name)} {mine.length > 0 && <Badge size="sm" color="green" variant="dot">linked</Badge>}</Text>
                {mine.map((i) => (
                  <Text key={`${i.provider}-${i.linked_at}`} size="sm" c="dimmed">
                    {i.email ?? "No e-mail given"} · linked {formatTime(i.linked_at)}
                  </Text>
                ))}
                {!mine.length && <Text size="sm" c="dimmed">Not linked</Text>}
              </div>
              {mine.length > 0 ? (
                <Button variant="outline" color="red" size="xs" onClick={() => setUnlinking({ name, label: labelOf(name) })}>
                  Unlink {labelOf(name)}
                </Button>
              ) : offered && (
                <Button variant="default" size="xs" loading={leaving === name} disabled={leaving !== null}
                  onClick={() => void link(name)}>Link {labelOf(name)}</Button>
              )}
            </Group>
          );
        })}
      </Stack>
      <ConfirmModal opened={unlinking !== null} title={`Unlink ${unlinking?.label ?? ""}?`}
        confirmLabel={`Unlink ${unlinking?.label ?? ""}`} danger busy={unlink.isPending}
        error={unlink.isError ? errorMessage(unlink.error) : null} onCancel={closeUnlink}
        onConfirm={() => unlinking && password && unlink.mutate({ name: unlinking.name, secret: password })}>
        <Stack gap="sm">
          <Text size="sm">
            Its button on the sign-in page will no longer sign you in to this account. You sign in
            with your e-mail and password; if your account was made through{" "}
            {unlinking?.label ?? "the provider"} and you never set a password, set one with
            &quot;Forgot your password?&quot; first.
          </Text>
          <PasswordInput label="Your password" autoComplete="current-password" required data-autofocus
            value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
        </Stack>
      </ConfirmModal>
    </Section>
  );
}
