import { SegmentedControl, Table, Text } from "@mantine/core";
import { useState } from "react";
import { Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useInteraction, type Interaction, type Slice } from "../../api/analytics";
import { formatDuration, heatCell, type Bucket, type DashboardFilters } from "../../lib/analytics";
import { ChartCard } from "./ChartCard";
import { useChartTheme } from "./chartTheme";
import { DrillDownDrawer } from "./DrillDownDrawer";

type Kind = "replies" | "responses" | "mentions";
const KINDS: Record<Kind, string> = { replies: "Replies", responses: "Turn-taking", mentions: "@mentions" };
const VERBS: Record<Kind, string> = { replies: "replied to", responses: "answered", mentions: "mentioned" };

interface Pair { sender: string; recipient: string; count: number; median_seconds?: number }

/** Who × whom as a square matrix: the people in the pairs, busiest first (rows answer columns). */
export function matrixOf(pairs: Pair[]): { people: string[]; cell: (sender: string, recipient: string) => Pair | undefined; max: number } {
  const totals = new Map<string, number>();
  const cells = new Map<string, Pair>();
  for (const pair of pairs) {
    totals.set(pair.sender, (totals.get(pair.sender) ?? 0) + pair.count);
    totals.set(pair.recipient, (totals.get(pair.recipient) ?? 0) + pair.count);
    cells.set(JSON.stringify([pair.sender, pair.recipient]), pair);
  }
  const people = [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([name]) => name);
  return { people, cell: (s, r) => cells.get(JSON.stringify([s, r])), max: Math.max(0, ...pairs.map((p) => p.count)) };
}

/** The interaction report: who replies to whom and how fast, and replies over time. */
export function InteractionCards({ collectionId, filters }: { collectionId: string; filters: DashboardFilters }) {
  const [bucket, setBucket] = useState<Bucket>("month");
  const report = useInteraction(collectionId, filters, bucket);
  const [drill, setDrill] = useState<{ label: string; slice: Slice } | null>(null);
  return (
    <>
      <MatrixCard report={report.data} loading={report.isPending} error={report.error} onDrill={setDrill} />
      <OverTimeCard report={report.data} loading={report.isPending} error={report.error} bucket={bucket} onBucket={setBucket} />
      <DrillDownDrawer collectionId={collectionId} filters={filters} drill={drill} onClose={() => setDrill(null)} />
    </>
  );
}

interface CardProps { report: Interaction | undefined; loading: boolean; error: unknown }

function MatrixCard({ report, loading, error, onDrill }: CardProps & { onDrill: (d: { label: string; slice: Slice }) => void }) {
  const [kind, setKind] = useState<Kind>("replies");
  const chart = useChartTheme();
  const pairs: Pair[] = report ? report[kind] : [];
  const matrix = matrixOf(pairs);
  const timed = kind !== "mentions";
  const controls = (
    <SegmentedControl size="xs" aria-label="Which interaction" value={kind} onChange={(v) => setKind(v as Kind)}
      data={(Object.keys(KINDS) as Kind[]).map((value) => ({ value, label: KINDS[value] }))} />
  );
  return (
    <ChartCard title="Who replies to whom" png={`interaction-${kind}.png`} controls={controls} loading={loading} error={error}
      description={`Rows ${VERBS[kind]} columns${timed ? ", with the median wait" : ""}. Click a cell for the row's messages.`}
      csv={report && { filename: `interaction-${kind}.csv`, header: ["sender", "recipient", "count", ...(timed ? ["median_seconds"] : [])],
        rows: pairs.map((p) => [p.sender, p.recipient, p.count, ...(timed ? [p.median_seconds ?? null] : [])]) }}>
      {report && pairs.length === 0 && <Text c="dimmed">No {KINDS[kind].toLowerCase()} in these messages.</Text>}
      {report && pairs.length > 0 && (
        <Table.ScrollContainer minWidth={Math.max(320, 120 + matrix.people.length * 90)}>
          <table className="heatmap interaction-matrix" data-testid="interaction-matrix">
            <caption className="visually-hidden">{`Rows ${VERBS[kind]} columns`}</caption>
            <thead>
              <tr><th scope="col"><span className="visually-hidden">Who</span></th>
                {matrix.people.map((name) => <th key={name} scope="col">{name}</th>)}</tr>
            </thead>
            <tbody>
              {matrix.people.map((sender) => (
                <tr key={sender}>
                  <th scope="row">{sender}</th>
                  {matrix.people.map((recipient) => {
                    const pair = matrix.cell(sender, recipient);
                    const count = pair?.count ?? 0;
                    const label = `${sender} ${VERBS[kind]} ${recipient}`;
                    const wait = timed && pair ? formatDuration(pair.median_seconds) : "";
                    return (
                      <td key={recipient} style={heatCell(count, matrix.max, chart.primary, chart.background)}
                        title={`${label}: ${count}${wait ? `, median wait ${wait}` : ""}`}>
                        {count > 0 && (
                          // Named by its visible text first, then the rest in words (WCAG 2.5.3).
                          <button type="button" className="heat-button"
                            onClick={() => onDrill({ label: `${sender} (${VERBS[kind]} ${recipient} ${count} times)`, slice: { sender } })}>
                            {count}{wait && <span className="matrix-wait"> · {wait}</span>}
                            <span className="visually-hidden">
                              {` (${label} ${count} times${wait ? `, median wait ${wait}` : ""}; show ${sender}'s messages)`}
                            </span>
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
      {report && (
        <Text size="sm" c="dimmed">
          Threads: {report.threads.count} ({report.threads.messages} messages) · reply trees: {report.reply_trees.count}
          {report.reply_trees.deepest != null ? `, the deepest ${report.reply_trees.deepest} replies long` : ""}
        </Text>
      )}
    </ChartCard>
  );
}

function OverTimeCard({ report, loading, error, bucket, onBucket }: CardProps & { bucket: Bucket; onBucket: (b: Bucket) => void }) {
  const chart = useChartTheme();
  const rows = (report?.over_time ?? []).map((p) => ({ ...p, wait_minutes: p.median_response_seconds == null ? null : +(p.median_response_seconds / 60).toFixed(1) }));
  const controls = (
    <SegmentedControl size="xs" aria-label="Period of a point" value={bucket} onChange={(v) => onBucket(v as Bucket)}
      data={[{ value: "day", label: "Day" }, { value: "week", label: "Week" }, { value: "month", label: "Month" }]} />
  );
  return (
    <ChartCard title="Replies over time" png={`replies-by-${bucket}.png`} controls={controls} loading={loading} error={error}
      description="Native replies and turn-taking answers, with the median wait (minutes)"
      csv={report && { filename: `replies-by-${bucket}.csv`, header: [bucket, "replies", "responses", "median_response_seconds"],
        rows: rows.map((r) => [r.bucket, r.replies, r.responses, r.median_response_seconds]) }}>
      {report && rows.length === 0 && <Text c="dimmed">No replies in these messages.</Text>}
      {rows.length > 0 && (
        <div data-testid="replies-chart" style={{ width: "100%", height: 260 }}>
          <ResponsiveContainer>
            <ComposedChart data={rows} margin={{ top: 8, right: 8, bottom: 8, left: 0 }}>
              <CartesianGrid stroke={chart.grid} vertical={false} />
              <XAxis dataKey="bucket" tick={{ fill: chart.text, fontSize: 12 }} />
              <YAxis yAxisId="n" allowDecimals={false} tick={{ fill: chart.text, fontSize: 12 }} />
              <YAxis yAxisId="wait" orientation="right" tick={{ fill: chart.text, fontSize: 12 }} />
              <Tooltip contentStyle={chart.tooltip} cursor={{ fill: chart.grid, opacity: 0.4 }} />
              <Legend wrapperStyle={{ color: chart.text }} />
              <Bar yAxisId="n" dataKey="replies" name="Replies" stackId="a" fill={chart.series[0]} isAnimationActive={false} />
              <Bar yAxisId="n" dataKey="responses" name="Turn-taking" stackId="a" fill={chart.series[1]} isAnimationActive={false} />
              <Line yAxisId="wait" dataKey="wait_minutes" name="Median wait (min)" stroke={chart.series[2]} dot={false}
                connectNulls isAnimationActive={false} />
            </ComposedChart>
          </ResponsiveContainer>
        </div>
      )}
    </ChartCard>
  );
}
