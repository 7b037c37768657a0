import { Alert, Progress, Stack, Text } from "@mantine/core";
import { errorMessage } from "../../api/errors";
import { useQuotas } from "../../api/queries";
import { formatDuration } from "../../lib/format";
import { quotaLow, type Quota } from "../../lib/quotas";
import { Section } from "../account/Section";
import { Loading } from "../Loading";

const QUOTAS = [
  ["uploads", "Files uploaded"],
  ["tokens", "Tokens generated (answers, summaries, completions)"],
] as const;

/** How much of its daily quotas the organisation has used, and when each renews. */
export function QuotasSection() {
  const quotas = useQuotas(true);
  return (
    <Section title="Daily quotas" description="What this organisation may do each day, and what is left of it today.">
      {quotas.isPending && <Loading />}
      {quotas.isError && <Alert color="red" role="alert">{errorMessage(quotas.error)}</Alert>}
      {quotas.data && QUOTAS.map(([key, label]) => <QuotaRow key={key} label={label} quota={quotas.data[key]} />)}
    </Section>
  );
}

function QuotaRow({ label, quota }: { label: string; quota: Quota }) {
  const percent = quota.limit ? (100 * quota.used) / quota.limit : 100;
  return (
    <Stack gap={4} data-testid="quota">
      <Text size="sm" fw={500}>{label}</Text>
      <Progress value={percent} color={quotaLow(quota) ? "red" : "blue"} aria-label={`${label}: used today`} />
      <Text size="sm" c="dimmed">
        {quota.used.toLocaleString()} of {quota.limit.toLocaleString()} used today, {quota.remaining.toLocaleString()} left
        {quota.resets_in_s != null ? `; renews in ${formatDuration(quota.resets_in_s)}` : ""}
      </Text>
    </Stack>
  );
}
