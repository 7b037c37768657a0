import { Alert, Anchor, Button, Stack, Text, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { errorMessage } from "../api/errors";
import { useServices } from "../services";
import { AuthLayout } from "./AuthLayout";

/** Ask for a reset link by e-mail; the answer never says whether the address has an account. */
export default function ForgotPasswordPage() {
  const { session } = useServices();
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!email.trim()) return;
    setBusy(true);
    setError(null);
    try {
      setSent(await session.requestPasswordReset(email.trim()));
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthLayout title="Reset your password">
      {sent ? (
        <Alert color="green" role="status" data-testid="reset-requested">{sent}</Alert>
      ) : (
        <form onSubmit={submit} noValidate aria-label="Ask for a reset link">
          <Stack>
            <Text size="sm">Enter the e-mail address of your account: a link to choose a new password is sent there.</Text>
            <TextInput label="Email" type="email" autoComplete="email" required
              value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
            {error && <Alert color="red" role="alert">{error}</Alert>}
            <Button type="submit" loading={busy}>Send the link</Button>
          </Stack>
        </form>
      )}
      <Text size="sm" c="dimmed">No e-mail arriving? This server may not send e-mail: ask your administrator for a reset link.</Text>
      <Text size="sm"><Anchor component={Link} to="/login" underline="always">Back to sign in</Anchor></Text>
    </AuthLayout>
  );
}
