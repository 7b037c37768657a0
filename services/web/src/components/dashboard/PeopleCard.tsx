import { Anchor, Table } from "@mantine/core";
import { Link, useNavigate } from "react-router";
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { usePeople } from "../../api/analytics";
import { drillDownUrl, formatDuration, type DashboardFilters } from "../../lib/analytics";
import { ChartCard } from "./ChartCard";
import { useChartTheme } from "./chartTheme";

const COLUMNS = ["sender", "messages", "share", "words", "average_length", "active_days", "media", "links",
  "emoji", "conversations_started", "conversations_ended", "replies_given", "replies_received",
  "median_response_seconds", "first_seen", "last_seen"] as const;

/** Per sender: counts, habits, conversations, replies and response times. */
export function PeopleCard({ collectionId, filters }: { collectionId: string; filters: DashboardFilters }) {
  const people = usePeople(collectionId, filters);
  const chart = useChartTheme();
  const navigate = useNavigate();
  const rows = people.data?.people ?? [];
  const top = rows.slice(0, 10);
  const drill = (sender: string) => drillDownUrl(collectionId, filters, { sender });
  return (
    <ChartCard title="People" png="people.png" loading={people.isPending} error={people.error}
      description={people.data ? `${people.data.total} senders; click a bar or a name to search their messages.` : undefined}
      csv={people.data && { filename: "people.csv", header: [...COLUMNS],
        rows: rows.map((p) => COLUMNS.map((c) => p[c])) }}>
      {top.length > 0 && (
        <div data-testid="people-chart" style={{ width: "100%", height: Math.max(120, top.length * 32 + 40) }}>
          <ResponsiveContainer>
            <BarChart data={top} layout="vertical" margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
              <CartesianGrid stroke={chart.grid} horizontal={false} />
              <XAxis type="number" allowDecimals={false} tick={{ fill: chart.text, fontSize: 12 }} />
              <YAxis type="category" dataKey="sender" width={120} tick={{ fill: chart.text, fontSize: 12 }} />
              <Tooltip contentStyle={chart.tooltip} cursor={{ fill: chart.grid, opacity: 0.4 }} />
              <Bar dataKey="messages" name="Messages" fill={chart.primary} cursor="pointer" isAnimationActive={false}
                onClick={(entry) => navigate(drill((entry.payload as { sender: string }).sender))} />
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}
      <Table.ScrollContainer minWidth={760}>
        <Table striped data-testid="people-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Sender</Table.Th><Table.Th>Messages</Table.Th><Table.Th>Share</Table.Th>
              <Table.Th>Words</Table.Th><Table.Th>Avg. length</Table.Th><Table.Th>Active days</Table.Th>
              <Table.Th>Started</Table.Th><Table.Th>Replies given</Table.Th><Table.Th>Median reply</Table.Th>
              <Table.Th>Last seen</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((p) => (
              <Table.Tr key={p.sender}>
                <Table.Td>
                  <Anchor component={Link} to={drill(p.sender)} aria-label={`Search the messages of ${p.sender}`}>
                    {p.sender}
                  </Anchor>
                </Table.Td>
                <Table.Td>{p.messages}</Table.Td>
                <Table.Td>{(p.share * 100).toFixed(1)}%</Table.Td>
                <Table.Td>{p.words}</Table.Td>
                <Table.Td>{p.average_length.toFixed(0)}</Table.Td>
                <Table.Td>{p.active_days}</Table.Td>
                <Table.Td>{p.conversations_started}</Table.Td>
                <Table.Td>{p.replies_given}</Table.Td>
                <Table.Td>{formatDuration(p.median_response_seconds)}</Table.Td>
                <Table.Td>{p.last_seen.slice(0, 10)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </ChartCard>
  );
}
