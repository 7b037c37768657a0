import { Anchor, SegmentedControl, Table, Text } from "@mantine/core";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useActivity, type Activity } from "../../api/analytics";
import { drillDownUrl, heatCell, rangeLabel, WEEKDAYS, type Bucket, type DashboardFilters } from "../../lib/analytics";
import { ChartCard } from "./ChartCard";
import { DrillDownDrawer } from "./DrillDownDrawer";
import { useChartTheme } from "./chartTheme";

type Stack = "person" | "chat" | null;
// The index sums the senders or chats past the busiest into one key.
const OTHERS = "(other)";

interface Props { collectionId: string; filters: DashboardFilters }

/** The activity series as one row per bucket with a count per key (one key when not split). */
export function pivotSeries(data: Activity): { keys: string[]; rows: { bucket: string; values: Record<string, number> }[] } {
  const totals = new Map<string, number>();
  const rows = new Map<string, Record<string, number>>();
  for (const point of data.series) {
    const key = data.stack ? point.key ?? OTHERS : "messages";
    totals.set(key, (totals.get(key) ?? 0) + point.messages);
    const row = rows.get(point.bucket) ?? {};
    row[key] = (row[key] ?? 0) + point.messages;
    rows.set(point.bucket, row);
  }
  const keys = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([key]) => key);
  return { keys, rows: [...rows.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([bucket, values]) => ({ bucket, values })) };
}

/** Messages over time, the hour × weekday heatmap and message lengths (one activity report). */
export function ActivityCards({ collectionId, filters }: Props) {
  const [bucket, setBucket] = useState<Bucket>("week");
  const [stack, setStack] = useState<Stack>(null);
  const activity = useActivity(collectionId, filters, bucket, stack);
  const chart = useChartTheme();
  const navigate = useNavigate();
  const [view, setView] = useState<"chart" | "table">("chart");
  const pivot = activity.data ? pivotSeries(activity.data) : null;
  const drill = (start: string, key: string) => drillDownUrl(collectionId, filters, {
    bucket: { start, size: bucket },
    ...(stack === "person" && key !== OTHERS ? { sender: key } : {}),
    ...(stack === "chat" && key !== OTHERS ? { chat: key } : {}),
  });
  const controls = (
    <>
      <SegmentedControl size="xs" aria-label="Period of a bar" value={bucket} onChange={(v) => setBucket(v as Bucket)}
        data={[{ value: "day", label: "Day" }, { value: "week", label: "Week" }, { value: "month", label: "Month" }]} />
      <SegmentedControl size="xs" aria-label="Split by" value={stack ?? "none"}
        onChange={(v) => setStack(v === "none" ? null : (v as Stack))}
        data={[{ value: "none", label: "All" }, { value: "person", label: "By person" }, { value: "chat", label: "By chat" }]} />
      <SegmentedControl size="xs" aria-label="Show as" value={view} onChange={(v) => setView(v as "chart" | "table")}
        data={[{ value: "chart", label: "Chart" }, { value: "table", label: "Table" }]} />
    </>
  );
  return (
    <>
      <ChartCard title="Messages over time" png={`activity-by-${bucket}.png`} controls={controls} loading={activity.isPending} error={activity.error}
        description="Click a bar to search its messages."
        csv={pivot && { filename: `activity-by-${bucket}.csv`, header: [bucket, ...pivot.keys],
          rows: pivot.rows.map((row) => [row.bucket, ...pivot.keys.map((key) => row.values[key] ?? 0)]) }}>
        {pivot && pivot.rows.length === 0 && <Text c="dimmed">No messages match these filters.</Text>}
        {pivot && pivot.rows.length > 0 && view === "chart" && (
          <div data-testid="activity-chart" style={{ width: "100%", height: 280 }}>
            <ResponsiveContainer>
              <BarChart data={pivot.rows} margin={{ top: 8, right: 8, bottom: 8, left: 0 }}>
                <CartesianGrid stroke={chart.grid} vertical={false} />
                <XAxis dataKey="bucket" tick={{ fill: chart.text, fontSize: 12 }} />
                <YAxis allowDecimals={false} tick={{ fill: chart.text, fontSize: 12 }} />
                <Tooltip contentStyle={chart.tooltip} cursor={{ fill: chart.grid, opacity: 0.4 }} />
                {pivot.keys.length > 1 && <Legend wrapperStyle={{ color: chart.text }} />}
                {pivot.keys.map((key, i) => (
                  <Bar key={key} name={key} stackId="a" fill={chart.series[i % chart.series.length]}
                    dataKey={(row: { values: Record<string, number> }) => row.values[key] ?? 0}
                    cursor="pointer" isAnimationActive={false}
                    onClick={(entry) => navigate(drill((entry.payload as { bucket: string }).bucket, key))} />
                ))}
              </BarChart>
            </ResponsiveContainer>
          </div>
        )}
        {pivot && pivot.rows.length > 0 && view === "table" && (
          <Table.ScrollContainer minWidth={320} mah={360}>
            <Table striped data-testid="activity-table">
              <Table.Thead>
                <Table.Tr><Table.Th>{bucket === "day" ? "Day" : bucket === "week" ? "Week from" : "Month"}</Table.Th>
                  {pivot.keys.map((key) => <Table.Th key={key}>{key === "messages" ? "Messages" : key}</Table.Th>)}</Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {pivot.rows.map((row) => (
                  <Table.Tr key={row.bucket}>
                    <Table.Td>{row.bucket}</Table.Td>
                    {pivot.keys.map((key) => (
                      <Table.Td key={key}>
                        <Anchor component={Link} to={drill(row.bucket, key)}
                          aria-label={`Search the ${row.values[key] ?? 0} messages of ${row.bucket}${key === "messages" ? "" : ` from ${key}`}`}>
                          {row.values[key] ?? 0}
                        </Anchor>
                      </Table.Td>
                    ))}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </ChartCard>
      <HeatmapCard activity={activity.data} loading={activity.isPending} error={activity.error}
        collectionId={collectionId} filters={filters} />
      <LengthsCard activity={activity.data} loading={activity.isPending} error={activity.error} />
    </>
  );
}

interface ReportProps { activity: Activity | undefined; loading: boolean; error: unknown }

const slotLabel = (day: number, hour: number) =>
  `${WEEKDAYS[day]} ${String(hour).padStart(2, "0")}:00–${String(hour + 1).padStart(2, "0")}:00`;

/** The hour × weekday heatmap; a cell opens the messages of its slot (hour and weekday in the zone). */
function HeatmapCard({ activity, loading, error, collectionId, filters }:
  ReportProps & { collectionId: string; filters: DashboardFilters }) {
  const chart = useChartTheme();
  const [drill, setDrill] = useState<{ label: string; slice: { hour: number; weekday: number } } | null>(null);
  const max = Math.max(0, ...(activity?.heatmap.flat() ?? []));
  const hours = Array.from({ length: 24 }, (_, h) => h);
  return (
    <>
    <ChartCard title="Hour × weekday" png="hour-by-weekday.png" loading={loading} error={error}
      description={activity ? `Messages by hour of the day and day of the week, in ${activity.timezone}. Click a cell for its messages.` : undefined}
      csv={activity && { filename: "hour-by-weekday.csv", header: ["weekday", ...hours.map(String)],
        rows: activity.heatmap.map((row, day) => [WEEKDAYS[day], ...row]) }}>
      {activity && (
        <Table.ScrollContainer minWidth={760}>
          <table className="heatmap" data-testid="heatmap">
            <caption className="visually-hidden">Messages by weekday (rows) and hour (columns)</caption>
            <thead>
              <tr><th scope="col"><span className="visually-hidden">Weekday</span></th>
                {hours.map((h) => <th key={h} scope="col">{String(h).padStart(2, "0")}</th>)}</tr>
            </thead>
            <tbody>
              {activity.heatmap.map((row, day) => (
                <tr key={WEEKDAYS[day]}>
                  <th scope="row">{WEEKDAYS[day].slice(0, 3)}</th>
                  {row.map((count, hour) => {
                    const colours = heatCell(count, max, chart.primary, chart.background);
                    return (
                      <td key={hour} style={colours} title={`${slotLabel(day, hour)}: ${count} messages`}>
                        {count > 0 && (
                          <button type="button" className="heat-button"
                            aria-label={`Show the ${count} messages of ${slotLabel(day, hour)}`}
                            onClick={() => setDrill({ label: slotLabel(day, hour), slice: { hour, weekday: day } })}>
                            {count}
                          </button>
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </Table.ScrollContainer>
      )}
    </ChartCard>
    <DrillDownDrawer collectionId={collectionId} filters={filters} drill={drill} onClose={() => setDrill(null)} />
    </>
  );
}

function LengthsCard({ activity, loading, error }: ReportProps) {
  const chart = useChartTheme();
  const rows = (activity?.lengths ?? []).map((b) => ({ label: rangeLabel(b.min, b.max), messages: b.messages }));
  return (
    <ChartCard title="Message lengths" png="message-lengths.png" description="Messages by length in characters" loading={loading} error={error}
      csv={activity && { filename: "message-lengths.csv", header: ["characters", "messages"],
        rows: rows.map((r) => [r.label, r.messages]) }}>
      <div style={{ width: "100%", height: 220 }}>
        <ResponsiveContainer>
          <BarChart data={rows} margin={{ top: 8, right: 8, bottom: 8, left: 0 }}>
            <CartesianGrid stroke={chart.grid} vertical={false} />
            <XAxis dataKey="label" tick={{ fill: chart.text, fontSize: 12 }} />
            <YAxis allowDecimals={false} tick={{ fill: chart.text, fontSize: 12 }} />
            <Tooltip contentStyle={chart.tooltip} cursor={{ fill: chart.grid, opacity: 0.4 }} />
            <Bar dataKey="messages" name="Messages" fill={chart.primary} isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
    </ChartCard>
  );
}
