import { SimpleGrid, Stack, Text } from "@mantine/core";
import { useOverview, type Overview } from "../../api/analytics";
import { formatDuration, WEEKDAYS, type DashboardFilters } from "../../lib/analytics";
import { formatTime } from "../../lib/format";
import { ChartCard } from "./ChartCard";

interface Busiest { hour?: number; weekday?: number; month?: string; messages?: number }

/** The figures of the overview report, as label and value (also the card's CSV). */
export function overviewFigures(data: Overview): [string, string | number][] {
  const hour = data.busiest_hour as Busiest | null;
  const weekday = data.busiest_weekday as Busiest | null;
  const month = data.busiest_month as Busiest | null;
  // Days are already in the report's time zone: shown as they come, not re-read in the browser's.
  const day = (iso: string | null) => (iso ? iso.slice(0, 10) : "–");
  return [
    ["Messages", data.messages],
    ["Participants", data.participants],
    ["Chats", data.chats],
    ["Words", data.words],
    ["Media", data.media],
    ["Links", data.links],
    ["Edited", data.edited],
    ["Deleted", data.deleted],
    ["System events", data.system_events],
    ["First message", data.first ? formatTime(data.first) : "–"],
    ["Last message", data.last ? formatTime(data.last) : "–"],
    ["Active days", `${data.active_days} of ${data.span_days}`],
    ["Per active day", data.average_per_active_day.toFixed(1)],
    ["Busiest day", data.busiest_day ? `${day(data.busiest_day.day)} (${data.busiest_day.messages})` : "–"],
    ["Busiest hour", hour?.hour != null ? `${String(hour.hour).padStart(2, "0")}:00 (${hour.messages})` : "–"],
    ["Busiest weekday", weekday?.weekday != null ? `${WEEKDAYS[weekday.weekday - 1]} (${weekday.messages})` : "–"],
    ["Busiest month", month?.month ? `${month.month} (${month.messages})` : "–"],
    ["Longest streak", data.longest_streak ? `${data.longest_streak.days} days from ${day(data.longest_streak.first)}` : "–"],
    ["Longest silence", data.longest_silence
      ? `${formatDuration(data.longest_silence.seconds)} after ${formatTime(data.longest_silence.after)}` : "–"],
  ];
}

/** Totals, span, busiest times, streaks and silences. */
export function OverviewCard({ collectionId, filters }: { collectionId: string; filters: DashboardFilters }) {
  const overview = useOverview(collectionId, filters);
  const figures = overview.data ? overviewFigures(overview.data) : [];
  return (
    <ChartCard title="Overview" png="overview.png" loading={overview.isPending} error={overview.error}
      description={overview.data ? `Version ${overview.data.version}, days in ${overview.data.timezone}` : undefined}
      csv={overview.data ? { filename: "overview.csv", header: ["measure", "value"], rows: figures } : null}>
      <SimpleGrid cols={{ base: 2, sm: 3, lg: 5 }} spacing="md" verticalSpacing="sm">
        {figures.map(([label, value]) => (
          <Stack key={label} gap={0} data-testid="overview-figure">
            <Text size="xs" c="dimmed">{label}</Text>
            <Text fw={600}>{typeof value === "number" ? value.toLocaleString() : value}</Text>
          </Stack>
        ))}
      </SimpleGrid>
    </ChartCard>
  );
}
