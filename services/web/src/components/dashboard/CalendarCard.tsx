import { Select, Text } from "@mantine/core";
import { useState } from "react";
import { useCalendar, type Slice } from "../../api/analytics";
import { bucketEnd, heatCell, WEEKDAYS, type DashboardFilters } from "../../lib/analytics";
import { ChartCard } from "./ChartCard";
import { useChartTheme } from "./chartTheme";
import { DrillDownDrawer } from "./DrillDownDrawer";

const CELL = 13;
const GAP = 2;
const LEFT = 30;
const TOP = 16;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Every day of `year` at its place: the week column (weeks start on Monday) and the weekday row. */
export function calendarDays(year: number): { day: string; week: number; weekday: number }[] {
  const days = [];
  const first = new Date(Date.UTC(year, 0, 1));
  const offset = (first.getUTCDay() + 6) % 7; // Monday 0
  for (let date = first, i = 0; date.getUTCFullYear() === year; i += 1) {
    days.push({ day: date.toISOString().slice(0, 10), week: Math.floor((i + offset) / 7), weekday: (i + offset) % 7 });
    date = new Date(Date.UTC(year, 0, 2 + i));
  }
  return days;
}

/** Messages per day of one year, in the dashboard's zone; a day opens its messages. */
export function CalendarCard({ collectionId, filters }: { collectionId: string; filters: DashboardFilters }) {
  const [year, setYear] = useState<number | null>(null);
  const report = useCalendar(collectionId, filters, year);
  const chart = useChartTheme();
  const [drill, setDrill] = useState<{ label: string; slice: Slice } | null>(null);
  const data = report.data;
  const counts = new Map((data?.days ?? []).map((d) => [d.day, d.messages]));
  const days = data?.year ? calendarDays(data.year) : [];
  const weeks = days.length ? days[days.length - 1].week + 1 : 0;
  const open = (day: string, messages: number) =>
    setDrill({ label: `${day} (${messages})`, slice: { since: day, until: bucketEnd(day, "day") } });
  const controls = data && data.years.length > 0 && (
    <Select size="xs" w={100} aria-label="Year" allowDeselect={false} value={String(data.year ?? "")}
      data={data.years.map(String)} onChange={(v) => v && setYear(Number(v))} />
  );
  return (
    <>
      <ChartCard title="Calendar" png={`calendar-${data?.year ?? ""}.png`} controls={controls} loading={report.isPending} error={report.error}
        description={data ? `${data.total} messages on ${data.days.length} days of ${data.year ?? "–"}, in ${data.timezone}. Click a day for its messages.` : undefined}
        csv={data && { filename: `calendar-${data.year ?? ""}.csv`, header: ["day", "messages"], rows: data.days.map((d) => [d.day, d.messages]) }}>
        {data && data.year === null && <Text c="dimmed">No messages match these filters.</Text>}
        {data && days.length > 0 && (
          <div style={{ overflowX: "auto" }}>
            <svg data-testid="calendar" role="group" aria-label={`Messages per day of ${data.year}`}
              width={LEFT + weeks * (CELL + GAP)} height={TOP + 7 * (CELL + GAP)}>
              {MONTHS.map((name, month) => {
                const first = days.find((d) => d.day.slice(5, 7) === String(month + 1).padStart(2, "0"))!;
                return <text key={name} x={LEFT + first.week * (CELL + GAP)} y={10} fontSize={10} fill={chart.text}>{name}</text>;
              })}
              {[0, 2, 4].map((weekday) => (
                <text key={weekday} x={0} y={TOP + weekday * (CELL + GAP) + CELL - 2} fontSize={10} fill={chart.text}>
                  {WEEKDAYS[weekday].slice(0, 3)}
                </text>
              ))}
              {days.map(({ day, week, weekday }) => {
                const messages = counts.get(day) ?? 0;
                const colours = heatCell(messages, data.max, chart.primary, chart.background);
                const label = `${WEEKDAYS[weekday]} ${day}: ${messages} messages`;
                return (
                  <rect key={day} x={LEFT + week * (CELL + GAP)} y={TOP + weekday * (CELL + GAP)} width={CELL} height={CELL} rx={2}
                    fill={colours.background} stroke={chart.grid} strokeWidth={0.5}
                    {...(messages > 0 ? {
                      className: "calendar-day", role: "button", tabIndex: 0, "aria-label": `${label}: show them`,
                      onClick: () => open(day, messages),
                      onKeyDown: (e: React.KeyboardEvent) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(day, messages); } },
                    } : {})}>
                    <title>{label}</title>
                  </rect>
                );
              })}
            </svg>
          </div>
        )}
      </ChartCard>
      <DrillDownDrawer collectionId={collectionId} filters={filters} drill={drill} onClose={() => setDrill(null)} />
    </>
  );
}
