import { Anchor, Table, Text } from "@mantine/core";
import { Link } from "react-router";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useSearchAnalytics, type SearchAnalytics } from "../../api/analytics";
import type { DashboardFilters } from "../../lib/analytics";
import { ChartCard } from "./ChartCard";
import { useChartTheme } from "./chartTheme";

interface Props { collectionId: string; filters: DashboardFilters }

/** YYYY-MM-DD plus `days` (UTC dates). */
function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/**
 * Every day of the report's range with its searches (the API lists only days with some), with
 * hits and without, so the chart's gaps are days nobody searched.
 */
export function searchVolume(data: SearchAnalytics): { day: string; queries: number; found: number; zero: number }[] {
  const byDay = new Map(data.days.map((d) => [d.day, d]));
  const out = [];
  for (let day = data.since; day <= data.until && out.length < 3700; day = addDays(day, 1)) {
    const seen = byDay.get(day);
    const queries = seen?.queries ?? 0;
    const zero = seen?.zero_results ?? 0;
    out.push({ day, queries, found: queries - zero, zero });
  }
  return out;
}

/** The searches page, asked `query` at once: a frequent query opens what it finds today. */
const searchUrl = (collectionId: string, query: string) =>
  `/collections/${encodeURIComponent(collectionId)}/search?${new URLSearchParams({ q: query })}`;

/**
 * Search analytics: what members searched and asked (volume per day, the frequent queries, those
 * that found nothing, how long each mode took). The range is the dashboard's dates, read as UTC
 * days (the log is kept in UTC); the other filters do not apply to what was typed.
 */
export function SearchAnalyticsCards({ collectionId, filters }: Props) {
  // The dashboard's "until" is not included; the report's is.
  const range = { since: filters.since, until: filters.until ? addDays(filters.until, -1) : null };
  const report = useSearchAnalytics(collectionId, range);
  const chart = useChartTheme();
  const data = report.data;
  const volume = data ? searchVolume(data) : [];
  const noHits = (data?.top_queries ?? []).filter((q) => q.zero_results > 0)
    .sort((a, b) => b.zero_results - a.zero_results || b.count - a.count);
  const period = data ? `${data.since} to ${data.until} (UTC days)` : "";
  const loading = report.isPending;
  const error = report.error;
  const queryCell = (query: string) => (
    <Anchor component={Link} to={searchUrl(collectionId, query)} className="chat-text"
      aria-label={`Search for ${query}`}>{query}</Anchor>
  );
  return (
    <>
      <ChartCard title="Searches over time" png="searches-by-day.png" loading={loading} error={error}
        description={data ? `${data.queries} searches and questions from ${period}; ${data.zero_results} found nothing`
          + (data.zero_result_rate != null ? ` (${(data.zero_result_rate * 100).toFixed(1)}%).` : ".") : undefined}
        csv={data && { filename: "searches-by-day.csv", header: ["day", "queries", "zero_results"],
          rows: volume.map((d) => [d.day, d.queries, d.zero]) }}>
        {data && data.queries === 0 && <Text c="dimmed">Nobody searched this collection in this period.</Text>}
        {data && data.queries > 0 && (
          <div data-testid="search-volume-chart" style={{ width: "100%", height: 260 }}>
            <ResponsiveContainer>
              <BarChart data={volume} margin={{ top: 8, right: 8, bottom: 8, left: 0 }}>
                <CartesianGrid stroke={chart.grid} vertical={false} />
                <XAxis dataKey="day" tick={{ fill: chart.text, fontSize: 12 }} />
                <YAxis allowDecimals={false} tick={{ fill: chart.text, fontSize: 12 }} />
                <Tooltip contentStyle={chart.tooltip} cursor={{ fill: chart.grid, opacity: 0.4 }} />
                <Legend wrapperStyle={{ color: chart.text }} />
                <Bar dataKey="found" name="Found something" stackId="a" fill={chart.series[0]} isAnimationActive={false} />
                <Bar dataKey="zero" name="Found nothing" stackId="a" fill={chart.series[1]} isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
          </div>
        )}
        {data && data.latency.length > 0 && (
          <Table.ScrollContainer minWidth={420}>
            <Table data-testid="search-latency">
              <Table.Caption>How long the answers took, per mode</Table.Caption>
              <Table.Thead>
                <Table.Tr><Table.Th>Mode</Table.Th><Table.Th>Queries</Table.Th><Table.Th>Median</Table.Th>
                  <Table.Th>90th percentile</Table.Th><Table.Th>99th percentile</Table.Th></Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.latency.map((m) => (
                  <Table.Tr key={m.mode}>
                    <Table.Td>{m.mode}</Table.Td><Table.Td>{m.queries}</Table.Td>
                    <Table.Td>{Math.round(m.p50_ms)} ms</Table.Td><Table.Td>{Math.round(m.p90_ms)} ms</Table.Td>
                    <Table.Td>{Math.round(m.p99_ms)} ms</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </ChartCard>
      <ChartCard title="Top queries" png="top-queries.png" loading={loading} error={error}
        description={data ? `The most frequent searches and questions, ${period}, as typed (case and spaces folded). A query opens its search.` : undefined}
        csv={data && { filename: "top-queries.csv", header: ["query", "count", "zero_results", "average_results"],
          rows: data.top_queries.map((q) => [q.query, q.count, q.zero_results, q.average_results]) }}>
        {data && data.top_queries.length === 0 && <Text c="dimmed">No searches in this period.</Text>}
        {data && data.top_queries.length > 0 && (
          <Table.ScrollContainer minWidth={480} mah={420}>
            <Table striped data-testid="top-queries">
              <Table.Thead>
                <Table.Tr><Table.Th>Query</Table.Th><Table.Th>Times</Table.Th><Table.Th>Found nothing</Table.Th>
                  <Table.Th>Average hits</Table.Th></Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.top_queries.map((q) => (
                  <Table.Tr key={q.query}>
                    <Table.Td>{queryCell(q.query)}</Table.Td><Table.Td>{q.count}</Table.Td>
                    <Table.Td>{q.zero_results}</Table.Td><Table.Td>{q.average_results.toFixed(1)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </ChartCard>
      <ChartCard title="Queries with no hits" png="queries-with-no-hits.png" loading={loading} error={error}
        description={data ? `Frequent queries that found nothing at least once, ${period}: words the chats do not use, or what is missing.` : undefined}
        csv={data && { filename: "queries-with-no-hits.csv", header: ["query", "zero_results", "count"],
          rows: noHits.map((q) => [q.query, q.zero_results, q.count]) }}>
        {data && noHits.length === 0 && <Text c="dimmed">Every frequent query found something.</Text>}
        {noHits.length > 0 && (
          <Table.ScrollContainer minWidth={360} mah={420}>
            <Table striped data-testid="no-hit-queries">
              <Table.Thead>
                <Table.Tr><Table.Th>Query</Table.Th><Table.Th>Found nothing</Table.Th><Table.Th>Of</Table.Th></Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {noHits.map((q) => (
                  <Table.Tr key={q.query}>
                    <Table.Td>{queryCell(q.query)}</Table.Td><Table.Td>{q.zero_results}</Table.Td>
                    <Table.Td>{q.count}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </ChartCard>
    </>
  );
}
