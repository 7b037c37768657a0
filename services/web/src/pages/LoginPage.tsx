import { Alert, Anchor, Button, Divider, PasswordInput, Stack, Text, TextInput } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, Navigate, useLocation, useNavigate, useSearchParams } from "react-router";
import { ApiError, errorMessage } from "../api/errors";
import { useServices, useSessionState } from "../services";
import { AuthLayout } from "./AuthLayout";

interface FromState {
  from?: string;
  reason?: string;
}

/** Email and password, then a TOTP or recovery code when the account has MFA on. */
export default function LoginPage() {
  const { session } = useServices();
  const state = useSessionState();
  const location = useLocation();
  const navigate = useNavigate();
  const from = (location.state as FromState | null)?.from ?? "/collections";
  const reason = (location.state as FromState | null)?.reason;
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [needsCode, setNeedsCode] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The gateway sends the browser back here when a provider's sign-in was refused or cancelled.
  const [params] = useSearchParams();
  const oauthError = params.get("oauth_error");
  const providers = useQuery({ queryKey: ["oauth-providers"], queryFn: () => session.oauthProviders(), retry: false });
  const [leaving, setLeaving] = useState<string | null>(null);

  if (state.status === "signed-in" && !busy) return <Navigate to={from} replace />;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await session.login(email, password, needsCode ? code.trim() : undefined);
      navigate(from, { replace: true });
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === "mfa_required") {
        setNeedsCode(true);
      } else {
        setError(errorMessage(caught));
      }
    } finally {
      setBusy(false);
    }
  }

  async function withProvider(name: string) {
    setLeaving(name);
    setError(null);
    try {
      window.location.assign(await session.oauthStart(name));
    } catch (caught) {
      setError(errorMessage(caught));
      setLeaving(null);
    }
  }

  return (
    <AuthLayout title="Sign in">
      {reason && <Alert color="orange" role="status">{reason}</Alert>}
      {oauthError && <Alert color="red" role="alert" data-testid="oauth-error">{oauthError}</Alert>}
      <form onSubmit={submit} noValidate>
        <Stack>
          <TextInput label="Email" type="email" autoComplete="username" required
            value={email} onChange={(e) => setEmail(e.currentTarget.value)} disabled={needsCode} />
          <PasswordInput label="Password" autoComplete="current-password" required
            value={password} onChange={(e) => setPassword(e.currentTarget.value)} disabled={needsCode} />
          {needsCode && (
            <TextInput label="Authentication code" description="The 6-digit code from your app, or a recovery code"
              autoComplete="one-time-code" required autoFocus value={code}
              onChange={(e) => setCode(e.currentTarget.value)} />
          )}
          {error && <Alert color="red" role="alert">{error}</Alert>}
          <Button type="submit" loading={busy}>Sign in</Button>
          {!needsCode && <Anchor component={Link} to="/forgot-password" size="sm">Forgot your password?</Anchor>}
        </Stack>
      </form>
      {providers.data && providers.data.length > 0 && !needsCode && (
        <Stack gap="xs">
          <Divider label="or" labelPosition="center" />
          {providers.data.map((p) => (
            <Button key={p.name} variant="default" data-start-url={p.start_url} loading={leaving === p.name}
              onClick={() => void withProvider(p.name)}>Continue with {p.label}</Button>
          ))}
        </Stack>
      )}
      <Text size="sm">
        No account? <Anchor component={Link} to="/register" state={location.state} underline="always">Create one</Anchor>
      </Text>
    </AuthLayout>
  );
}
