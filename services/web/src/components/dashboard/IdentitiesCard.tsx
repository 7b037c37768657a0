import { Badge, Button, Card, Group, Stack, Text, TextInput } from "@mantine/core";
import { useState } from "react";
import { useIdentities, useRegroupPeople, type Identities } from "../../api/analytics";
import { errorMessage } from "../../api/errors";
import type { DashboardFilters } from "../../lib/analytics";
import { usePermissions } from "../../services";
import { ConfirmModal } from "../ConfirmModal";
import { ChartCard } from "./ChartCard";

type Suggestion = Identities["suggestions"][number];
type Change = { action: "merge"; names: string[]; person: string } | { action: "split"; person: string; names: string[] };

/**
 * People across platforms: sender names that look like one person, with the evidence, and the
 * people merged already. Those who may change the collection (owners, admins, analysts) merge a
 * suggestion into one person or split a person again, after a confirmation (a new version);
 * a viewer sees the suggestions and no action.
 */
export function IdentitiesCard({ collectionId, filters }: { collectionId: string; filters: DashboardFilters }) {
  const report = useIdentities(collectionId, filters);
  const regroup = useRegroupPeople(collectionId);
  const mayChange = usePermissions().has("collections:write");
  const [change, setChange] = useState<Change | null>(null);
  const data = report.data;
  const people = Object.entries(data?.people ?? {});
  const confirm = () => change && regroup.mutate(
    { action: change.action, person: change.person.trim(), senders: change.action === "merge" ? change.names : [] },
    { onSuccess: () => setChange(null) },
  );
  return (
    <ChartCard title="People across platforms" png="people-across-platforms.png" loading={report.isPending} error={report.error}
      description={data ? `${data.total} suggestions among ${data.senders} senders` : undefined}
      csv={data && { filename: "people-suggestions.csv", header: ["suggestion", "evidence", "sender", "platforms", "chats", "messages", "first_seen", "last_seen"],
        rows: data.suggestions.flatMap((s, i) => s.senders.map((p) => [i + 1, s.evidence.join("; "), p.sender, p.platforms.join("; "), p.chats, p.messages, p.first_seen, p.last_seen])) }}>
      <Stack gap="sm">
        {data && data.suggestions.length === 0 && <Text c="dimmed">No sender names look like one person.</Text>}
        {data?.suggestions.map((s) => (
          <SuggestionRow key={s.senders.map((p) => p.sender).join("\u0000")} suggestion={s} mayChange={mayChange}
            onMerge={() => setChange({ action: "merge", names: s.senders.map((p) => p.sender), person: s.senders[0].sender })} />
        ))}
        {people.length > 0 && (
          <>
            <Text fw={600} size="sm">Merged already</Text>
            {people.map(([person, names]) => (
              <Group key={person} justify="space-between" data-testid="merged-person">
                <Text size="sm"><b>{person}</b>: {names.join(", ")}</Text>
                {mayChange && (
                  <Button size="compact-xs" variant="default" aria-label={`Split ${person}`}
                    onClick={() => setChange({ action: "split", person, names })}>Split</Button>
                )}
              </Group>
            ))}
          </>
        )}
      </Stack>
      <ConfirmModal opened={change !== null} title={change?.action === "merge" ? "Merge into one person" : "Split this person"}
        confirmLabel={change?.action === "merge" ? "Merge" : "Split"} busy={regroup.isPending}
        error={regroup.error ? errorMessage(regroup.error) : null}
        onCancel={() => { setChange(null); regroup.reset(); }} onConfirm={confirm}>
        {change?.action === "merge" && (
          <Stack gap="xs">
            <Text size="sm">{change.names.join(", ")} will count as one person in every report, from a new version on (older versions keep them apart).</Text>
            <TextInput label="The person's name" value={change.person} required
              onChange={(e) => setChange({ ...change, person: e.currentTarget.value })} />
          </Stack>
        )}
        {change?.action === "split" && (
          <Text size="sm">{change.names.join(", ")} will count as separate senders again, from a new version on.</Text>
        )}
      </ConfirmModal>
    </ChartCard>
  );
}

function SuggestionRow({ suggestion, mayChange, onMerge }: { suggestion: Suggestion; mayChange: boolean; onMerge: () => void }) {
  const names = suggestion.senders.map((p) => p.sender).join(" + ");
  return (
    <Card withBorder padding="xs" data-testid="identity-suggestion">
      <Group justify="space-between" align="flex-start">
        <Stack gap={4}>
          <Group gap="xs">
            {suggestion.evidence.map((e) => <Badge key={e} variant="light">{e}</Badge>)}
            <Text size="xs" c="dimmed">{suggestion.messages} messages</Text>
          </Group>
          {suggestion.senders.map((p) => (
            <Text key={p.sender} size="sm">
              <b>{p.sender}</b> · {p.platforms.join(", ")} · {p.chats} chats · {p.messages} messages ·{" "}
              {p.first_seen.slice(0, 10)} to {p.last_seen.slice(0, 10)}
            </Text>
          ))}
        </Stack>
        {mayChange && <Button size="xs" onClick={onMerge} aria-label={`Merge ${names}`}>Merge…</Button>}
      </Group>
    </Card>
  );
}
