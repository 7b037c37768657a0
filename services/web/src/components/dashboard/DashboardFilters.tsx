import { Button, Group, Select, TagsInput, TextInput } from "@mantine/core";
import { useMemo } from "react";
import { useVersions } from "../../api/queries";
import { localTimeZone, type DashboardFilters } from "../../lib/analytics";

interface Props {
  collectionId: string;
  filters: DashboardFilters;
  senders: string[];
  onChange: (filters: DashboardFilters) => void;
}

function timeZones(): string[] {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return ["UTC", ...zones.filter((zone) => zone !== "UTC")];
}

/** Platform, chat, sender, dates, time zone and version: every card reads the same filters. */
export function DashboardFiltersBar({ collectionId, filters, senders, onChange }: Props) {
  const versions = useVersions(collectionId);
  const zones = useMemo(timeZones, []);
  const set = (patch: Partial<DashboardFilters>) => onChange({ ...filters, ...patch });
  return (
    <Group align="flex-end" gap="sm" wrap="wrap" role="group" aria-label="Dashboard filters">
      <TagsInput label="Sender" placeholder="Any" w={220} data={senders} value={filters.sender}
        onChange={(sender) => set({ sender })} clearable />
      <TagsInput label="Chat" placeholder="Any" w={200} value={filters.chat} onChange={(chat) => set({ chat })} clearable />
      <TagsInput label="Platform" placeholder="Any" w={160} data={["whatsapp", "telegram", "slack", "discord"]}
        value={filters.platform} onChange={(platform) => set({ platform })} clearable />
      <TextInput label="From" type="date" w={150} value={filters.since ?? ""}
        onChange={(e) => set({ since: e.currentTarget.value || null })} />
      <TextInput label="Until (not included)" type="date" w={170} value={filters.until ?? ""}
        onChange={(e) => set({ until: e.currentTarget.value || null })} />
      <Select label="Time zone" w={200} searchable allowDeselect={false} data={zones} value={filters.timezone}
        onChange={(timezone) => set({ timezone: timezone ?? localTimeZone() })} />
      <Select label="Version" placeholder="Latest" w={150} clearable value={filters.version}
        onChange={(version) => set({ version })}
        data={(versions.data ?? []).slice().reverse().map((v) => ({ value: String(v.version), label: `Version ${v.version}` }))} />
      <Button variant="default" onClick={() => onChange({ platform: [], chat: [], sender: [], since: null, until: null,
        timezone: filters.timezone, version: null })}>Clear filters</Button>
    </Group>
  );
}
