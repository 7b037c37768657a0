import { Alert, Anchor, Button, PasswordInput, Stack, Text, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { Link, Navigate, useLocation, useNavigate } from "react-router";
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

  return (
    <AuthLayout title="Sign in">
      {reason && <Alert color="orange" role="status">{reason}</Alert>}
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
        </Stack>
      </form>
      <Text size="sm">
        No account? <Anchor component={Link} to="/register" state={location.state} underline="always">Create one</Anchor>
      </Text>
    </AuthLayout>
  );
}
