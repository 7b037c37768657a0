import { Alert, Anchor, Button, PasswordInput, Stack, Text } from "@mantine/core";
import { useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { errorMessage } from "../api/errors";
import { useServices } from "../services";
import { AuthLayout } from "./AuthLayout";

/** The token from the link's fragment (`#token=...`), which no server ever receives. Pure: a
 * render React throws away (a lazy chunk suspending) calls it again and must find it again. */
function tokenFromLink(): string | null {
  return new URLSearchParams(window.location.hash.slice(1)).get("token");
}

/** A new password from a reset link; every session of the account ends. */
export default function ResetPasswordPage() {
  const { session } = useServices();
  const [token] = useState(tokenFromLink);
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const mismatch = again !== "" && again !== password;
  // Out of the address bar and the history once read: the token is as good as a password.
  useEffect(() => {
    if (window.location.hash) window.history.replaceState(window.history.state, "", window.location.pathname);
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!token || !password || mismatch) return;
    setBusy(true);
    setError(null);
    try {
      await session.confirmPasswordReset(token, password);
      setDone(true);
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthLayout title="Choose a new password">
      {!token && (
        <Alert color="red" role="alert">
          This link has no reset token. <Anchor component={Link} to="/forgot-password">Ask for a new link</Anchor>.
        </Alert>
      )}
      {done && (
        <Alert color="green" role="status" data-testid="reset-done">
          Your password is set, and every session of your account was signed out.{" "}
          <Anchor component={Link} to="/login">Sign in</Anchor> with the new one.
        </Alert>
      )}
      {token && !done && (
        <form onSubmit={submit} noValidate aria-label="Choose a new password">
          <Stack>
            <PasswordInput label="New password" autoComplete="new-password" required value={password}
              description="A long passphrase; common and guessable ones are refused."
              onChange={(e) => setPassword(e.currentTarget.value)} />
            <PasswordInput label="New password again" autoComplete="new-password" required value={again}
              error={mismatch ? "The two passwords differ" : undefined}
              onChange={(e) => setAgain(e.currentTarget.value)} />
            {error && (
              <Alert color="red" role="alert">
                {error} <Anchor component={Link} to="/forgot-password">Ask for a new link</Anchor>
              </Alert>
            )}
            <Button type="submit" loading={busy} disabled={!password || mismatch}>Set the password</Button>
          </Stack>
        </form>
      )}
      {!done && <Text size="sm"><Anchor component={Link} to="/login" underline="always">Back to sign in</Anchor></Text>}
    </AuthLayout>
  );
}
