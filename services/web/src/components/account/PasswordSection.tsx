import { Alert, Button, Group, PasswordInput, Stack } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { errorMessage } from "../../api/errors";
import { useServices } from "../../services";
import { Section } from "./Section";

/** A new password: every other session ends; this one carries on with a new token pair. */
export function PasswordSection() {
  const { session } = useServices();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const change = useMutation({
    mutationFn: () => session.renew((auth, headers) => auth.POST("/api/v1/auth/password", {
      headers, body: { current_password: current, new_password: next },
    })),
    onSuccess: () => { setCurrent(""); setNext(""); setAgain(""); },
  });
  const mismatch = again !== "" && again !== next;
  function submit(event: FormEvent) {
    event.preventDefault();
    if (!mismatch && current && next) change.mutate();
  }
  return (
    <Section title="Password">
      <form onSubmit={submit} aria-label="Change password">
        <Stack gap="xs" maw={420}>
          <PasswordInput label="Current password" autoComplete="current-password" value={current}
            onChange={(e) => setCurrent(e.currentTarget.value)} />
          <PasswordInput label="New password" autoComplete="new-password" value={next}
            description="A long passphrase; common and guessable ones are refused."
            onChange={(e) => setNext(e.currentTarget.value)} />
          <PasswordInput label="New password again" autoComplete="new-password" value={again}
            error={mismatch ? "The two new passwords differ" : undefined}
            onChange={(e) => setAgain(e.currentTarget.value)} />
          {change.isError && <Alert color="red" role="alert">{errorMessage(change.error)}</Alert>}
          {change.isSuccess && (
            <Alert color="green" role="status">Password changed. Every other session has been signed out.</Alert>
          )}
          <Group>
            <Button type="submit" loading={change.isPending} disabled={!current || !next || mismatch}>
              Change password
            </Button>
          </Group>
        </Stack>
      </form>
    </Section>
  );
}
