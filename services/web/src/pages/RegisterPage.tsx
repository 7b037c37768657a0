import { Alert, Anchor, Button, PasswordInput, Stack, Text, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { errorMessage } from "../api/errors";
import { useServices } from "../services";
import { AuthLayout } from "./AuthLayout";

/** A new account and its personal org; signed in straight after. */
export default function RegisterPage() {
  const { session } = useServices();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await session.register(email, password, name.trim());
      navigate("/collections", { replace: true });
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthLayout title="Create your account">
      <form onSubmit={submit} noValidate>
        <Stack>
          <TextInput label="Name" autoComplete="name" value={name} onChange={(e) => setName(e.currentTarget.value)} />
          <TextInput label="Email" type="email" autoComplete="email" required
            value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
          <PasswordInput label="Password" autoComplete="new-password" required
            description="A long passphrase; common passwords are refused"
            value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
          {error && <Alert color="red" role="alert">{error}</Alert>}
          <Button type="submit" loading={busy}>Create account</Button>
        </Stack>
      </form>
      <Text size="sm">
        Already have an account? <Anchor component={Link} to="/login" underline="always">Sign in</Anchor>
      </Text>
    </AuthLayout>
  );
}
