import { Anchor, Group, SegmentedControl, Table, Text } from "@mantine/core";
import { useState } from "react";
import { Link } from "react-router";
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useLanguage, type Language } from "../../api/analytics";
import { drillDownUrl, type DashboardFilters } from "../../lib/analytics";
import { ChartCard } from "./ChartCard";
import { useChartTheme } from "./chartTheme";

type Kind = "words" | "phrases" | "emoji" | "domains";
const KINDS: Record<Kind, string> = { words: "Words", phrases: "Phrases", emoji: "Emoji", domains: "Link domains" };

/** One list of the report as (term, count) rows. */
export function termsOf(report: Language, kind: Kind): { term: string; count: number }[] {
  if (kind === "words") return report.words.map((w) => ({ term: w.word, count: w.count }));
  if (kind === "phrases") return report.phrases.map((p) => ({ term: p.phrase, count: p.count }));
  if (kind === "emoji") return report.emoji.map((e) => ({ term: e.emoji, count: e.count }));
  return report.domains.map((d) => ({ term: d.domain, count: d.count }));
}

/** Words per month, one row per month with a count per word (the chart's shape). */
export function wordsByMonth(report: Language): { words: string[]; rows: Record<string, string | number>[] } {
  const words: string[] = [];
  const rows = new Map<string, Record<string, string | number>>();
  for (const point of report.words_by_month ?? []) {
    if (!words.includes(point.word)) words.push(point.word);
    const row = rows.get(point.month) ?? { month: point.month };
    row[point.word] = point.count;
    rows.set(point.month, row);
  }
  const sorted = [...rows.values()].sort((a, b) => String(a.month).localeCompare(String(b.month)));
  return { words, rows: sorted.map((row) => Object.fromEntries([["month", row.month], ...words.map((w) => [w, row[w] ?? 0])])) };
}

/** The language report: top words, phrases, emoji and link domains; words and sentiment over time. */
export function LanguageCards({ collectionId, filters }: { collectionId: string; filters: DashboardFilters }) {
  const report = useLanguage(collectionId, filters);
  return (
    <>
      <TermsCard collectionId={collectionId} filters={filters} report={report.data} loading={report.isPending} error={report.error} />
      <WordsOverTimeCard report={report.data} loading={report.isPending} error={report.error} />
      <SentimentCard report={report.data} loading={report.isPending} error={report.error} />
    </>
  );
}

interface CardProps { report: Language | undefined; loading: boolean; error: unknown }

function TermsCard({ collectionId, filters, report, loading, error }: CardProps & { collectionId: string; filters: DashboardFilters }) {
  const [kind, setKind] = useState<Kind>("words");
  const chart = useChartTheme();
  const terms = report ? termsOf(report, kind) : [];
  const max = Math.max(1, ...terms.map((t) => t.count));
  const controls = (
    <SegmentedControl size="xs" aria-label="Which terms" value={kind} onChange={(v) => setKind(v as Kind)}
      data={(Object.keys(KINDS) as Kind[]).map((value) => ({ value, label: KINDS[value] }))} />
  );
  return (
    <ChartCard title="Words, phrases, emoji, links" png={`top-${kind}.png`} controls={controls} loading={loading} error={error}
      description={report ? `Counted over all ${report.messages.toLocaleString("en")} messages with text, leaving out the stop words of ${report.languages.join(", ")}. Click a term to search for it.` : undefined}
      csv={report && { filename: `top-${kind}.csv`, header: [kind, "count"], rows: terms.map((t) => [t.term, t.count]) }}>
      {report && terms.length === 0 && <Text c="dimmed">None in these messages.</Text>}
      {terms.length > 0 && (
        <Table data-testid="terms-table" verticalSpacing={4}>
          <Table.Thead><Table.Tr><Table.Th>{KINDS[kind]}</Table.Th><Table.Th>Count</Table.Th><Table.Th w="50%">
            <span className="visually-hidden">Share of the first</span></Table.Th></Table.Tr></Table.Thead>
          <Table.Tbody>
            {terms.map((t) => (
              <Table.Tr key={t.term}>
                <Table.Td>
                  <Anchor component={Link} aria-label={`Search for ${t.term}`}
                    to={drillDownUrl(collectionId, filters, { query: t.term, mode: kind === "emoji" ? "hybrid" : "keyword" })}>
                    {t.term}
                  </Anchor>
                </Table.Td>
                <Table.Td>{t.count}</Table.Td>
                <Table.Td>
                  <div aria-hidden style={{ height: 12, width: `${(100 * t.count) / max}%`, background: chart.primary, borderRadius: 2 }} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </ChartCard>
  );
}

function WordsOverTimeCard({ report, loading, error }: CardProps) {
  const chart = useChartTheme();
  const pivot = report ? wordsByMonth(report) : null;
  return (
    <ChartCard title="Top words over time" png="words-by-month.png" loading={loading} error={error}
      description="The five commonest words' use per month"
      csv={pivot && { filename: "words-by-month.csv", header: ["month", ...pivot.words],
        rows: pivot.rows.map((row) => [String(row.month), ...pivot.words.map((w) => Number(row[w]))]) }}>
      {pivot && pivot.rows.length === 0 && <Text c="dimmed">No words in these messages.</Text>}
      {pivot && pivot.rows.length > 0 && (
        <div data-testid="words-chart" style={{ width: "100%", height: 240 }}>
          <ResponsiveContainer>
            <LineChart data={pivot.rows} margin={{ top: 8, right: 8, bottom: 8, left: 0 }}>
              <CartesianGrid stroke={chart.grid} vertical={false} />
              <XAxis dataKey="month" tick={{ fill: chart.text, fontSize: 12 }} />
              <YAxis allowDecimals={false} tick={{ fill: chart.text, fontSize: 12 }} />
              <Tooltip contentStyle={chart.tooltip} />
              <Legend wrapperStyle={{ color: chart.text }} />
              {pivot.words.map((word, i) => (
                <Line key={word} dataKey={word} name={word} stroke={chart.series[i % chart.series.length]} isAnimationActive={false} />
              ))}
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
    </ChartCard>
  );
}

const percent = (share: number | null) => (share == null ? "–" : `${(share * 100).toFixed(0)}%`);

function SentimentCard({ report, loading, error }: CardProps) {
  const chart = useChartTheme();
  const sentiment = report?.sentiment;
  return (
    <ChartCard title="Sentiment over time" png="sentiment-by-month.png" loading={loading} error={error}
      description={sentiment ? `Mean score per month, −1 to 1 (${sentiment.model}, English words; ${sentiment.scored} messages scored)` : undefined}
      csv={sentiment && { filename: "sentiment-by-month.csv", header: ["month", "messages", "mean"],
        rows: sentiment.months.map((m) => [m.month, m.messages, m.mean]) }}>
      {sentiment && (
        <Group gap="lg">
          <Text size="sm">Positive <b>{percent(sentiment.positive)}</b></Text>
          <Text size="sm">Neutral <b>{percent(sentiment.neutral)}</b></Text>
          <Text size="sm">Negative <b>{percent(sentiment.negative)}</b></Text>
        </Group>
      )}
      {sentiment && sentiment.months.length > 0 && (
        <div data-testid="sentiment-chart" style={{ width: "100%", height: 220 }}>
          <ResponsiveContainer>
            <LineChart data={sentiment.months} margin={{ top: 8, right: 8, bottom: 8, left: 0 }}>
              <CartesianGrid stroke={chart.grid} vertical={false} />
              <XAxis dataKey="month" tick={{ fill: chart.text, fontSize: 12 }} />
              <YAxis domain={[-1, 1]} tick={{ fill: chart.text, fontSize: 12 }} />
              <ReferenceLine y={0} stroke={chart.text} strokeDasharray="3 3" />
              <Tooltip contentStyle={chart.tooltip} />
              <Line dataKey="mean" name="Mean score" stroke={chart.primary} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
    </ChartCard>
  );
}
