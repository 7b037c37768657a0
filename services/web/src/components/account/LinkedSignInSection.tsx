import { Alert, Button, Group } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useSearchParams } from "react-router";
import { errorMessage } from "../../api/errors";
import { useServices } from "../../services";
import { Section } from "./Section";

/**
 * Sign in with a provider as well as with the password: linking goes through the provider's own
 * page and comes back here with `?linked=<name>`. Shown when auth has a provider configured.
 */
export function LinkedSignInSection() {
  const { session } = useServices();
  const [params] = useSearchParams();
  const [leaving, setLeaving] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const providers = useQuery({ queryKey: ["oauth-providers"], queryFn: () => session.oauthProviders() });
  if (!providers.data?.length) return null;
  const linked = providers.data.find((p) => p.name === params.get("linked"));

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

  return (
    <Section title="Sign in with another account"
      description="Link an account you have with a provider; then its button on the sign-in page signs you in here too.">
      {linked && <Alert color="green" role="status">Your {linked.label} account is linked: you can sign in with it.</Alert>}
      {error && <Alert color="red" role="alert">{error}</Alert>}
      <Group gap="sm">
        {providers.data.map((p) => (
          <Button key={p.name} variant="default" loading={leaving === p.name} disabled={leaving !== null}
            onClick={() => void link(p.name)}>Link {p.label}</Button>
        ))}
      </Group>
    </Section>
  );
}
