import { Alert, Button, Code, Group, Image, PasswordInput, Stack, Text, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import QRCode from "qrcode";
import { useState, type FormEvent } from "react";
import { errorMessage, unwrap } from "../../api/errors";
import { useServices } from "../../services";
import { Loading } from "../Loading";
import { RecoveryCodes } from "./RecoveryCodes";
import { Section } from "./Section";

/** The otpauth URI as a QR code image, drawn here (nothing leaves the page to draw it). */
export async function qrDataUrl(uri: string): Promise<string> {
  const svg = await QRCode.toString(uri, { type: "svg", margin: 2, errorCorrectionLevel: "M" });
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

/** Two-step sign-in with an authenticator app: enrol with a QR code, recovery codes, turn off. */
export function MfaSection() {
  const { api } = useServices();
  const status = useQuery({ queryKey: ["mfa"], queryFn: async () => unwrap(await api.GET("/api/v1/auth/mfa")) });
  const [codes, setCodes] = useState<string[] | null>(null);
  return (
    <Section title="Two-step sign-in" description="A code from an authenticator app after your password.">
      {status.isPending && <Loading />}
      {status.isError && <Alert color="red" role="alert">{errorMessage(status.error)}</Alert>}
      {codes && <RecoveryCodes codes={codes} onDone={() => setCodes(null)} />}
      {status.data && !status.data.totp && <Enrol onEnrolled={setCodes} />}
      {status.data?.totp && !codes && <Enabled left={status.data.recovery_codes_left} onCodes={setCodes} />}
    </Section>
  );
}

function Enrol({ onEnrolled }: { onEnrolled: (codes: string[]) => void }) {
  const { api, session } = useServices();
  const queryClient = useQueryClient();
  const [code, setCode] = useState("");
  const start = useMutation({
    mutationFn: async () => {
      const enrolment = unwrap(await api.POST("/api/v1/auth/mfa/totp"));
      return { ...enrolment, qr: await qrDataUrl(enrolment.otpauth_uri) };
    },
  });
  const confirm = useMutation({
    mutationFn: () => session.renew((auth, headers) => auth.POST("/api/v1/auth/mfa/totp/confirm", {
      headers, body: { code: code.trim() },
    })),
    onSuccess: (result) => {
      onEnrolled(result.recovery_codes);
      void queryClient.invalidateQueries({ queryKey: ["mfa"] });
      void queryClient.invalidateQueries({ queryKey: ["sessions"] });
    },
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    if (code.trim()) confirm.mutate();
  }
  if (!start.data) {
    return (
      <Stack gap="xs" align="flex-start">
        <Text size="sm">Off.</Text>
        {start.isError && <Alert color="red" role="alert">{errorMessage(start.error)}</Alert>}
        <Button onClick={() => start.mutate()} loading={start.isPending}>Set up an authenticator app</Button>
      </Stack>
    );
  }
  return (
    <form onSubmit={submit} aria-label="Confirm the authenticator">
      <Stack gap="xs">
        <Text size="sm">Scan this code with your authenticator app, then type the six digits it shows.</Text>
        <Image src={start.data.qr} alt="QR code of the authenticator secret" w={200} h={200} bg="white"
          data-testid="totp-qr" />
        <Text size="sm">Or type the secret by hand: <Code data-testid="totp-secret">{start.data.secret}</Code></Text>
        <Group align="flex-end">
          <TextInput label="Code from the app" inputMode="numeric" autoComplete="one-time-code" w={180}
            value={code} onChange={(e) => setCode(e.currentTarget.value)} />
          <Button type="submit" loading={confirm.isPending} disabled={!code.trim()}>Turn on</Button>
        </Group>
        {confirm.isError && <Alert color="red" role="alert">{errorMessage(confirm.error)}</Alert>}
      </Stack>
    </form>
  );
}

function Enabled({ left, onCodes }: { left: number; onCodes: (codes: string[]) => void }) {
  const { api, session } = useServices();
  const queryClient = useQueryClient();
  const [code, setCode] = useState("");
  const [password, setPassword] = useState("");
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ["mfa"] });
  const newCodes = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/auth/mfa/recovery-codes", { body: { code: code.trim() } })),
    onSuccess: (result) => { setCode(""); onCodes(result.recovery_codes); refresh(); },
  });
  const disable = useMutation({
    mutationFn: () => session.renew((auth, headers) => auth.POST("/api/v1/auth/mfa/totp/disable", {
      headers, body: { password, code: code.trim() },
    })),
    onSuccess: () => { setCode(""); setPassword(""); refresh(); },
  });
  const error = newCodes.error ?? disable.error;
  return (
    <Stack gap="xs">
      <Text size="sm" data-testid="mfa-status">On · {left} recovery codes left.</Text>
      <Group align="flex-end" wrap="wrap">
        <TextInput label="Code from the app" inputMode="numeric" autoComplete="one-time-code" w={180}
          value={code} onChange={(e) => setCode(e.currentTarget.value)} />
        <Button variant="default" disabled={!code.trim()} loading={newCodes.isPending} onClick={() => newCodes.mutate()}>
          New recovery codes
        </Button>
      </Group>
      <Group align="flex-end" wrap="wrap">
        <PasswordInput label="Password (to turn it off)" autoComplete="current-password" w={260}
          value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
        <Button color="red" variant="outline" disabled={!code.trim() || !password} loading={disable.isPending}
          onClick={() => disable.mutate()}>
          Turn off two-step sign-in
        </Button>
      </Group>
      {error && <Alert color="red" role="alert">{errorMessage(error)}</Alert>}
    </Stack>
  );
}
