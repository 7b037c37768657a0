import { Group, NumberInput, SimpleGrid, Stack, Text } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useState } from "react";
import { useNavigate } from "react-router";
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useConversations } from "../../api/analytics";
import { drillDownUrl, formatDuration, rangeLabel, type DashboardFilters } from "../../lib/analytics";
import { formatTime } from "../../lib/format";
import { ChartCard } from "./ChartCard";
import { useChartTheme } from "./chartTheme";

const NOBODY = "(system)";

/** Conversations split by a silence: how many, how long, who starts and ends them. */
export function ConversationsCard({ collectionId, filters }: { collectionId: string; filters: DashboardFilters }) {
  const [gap, setGap] = useState(30);
  const [gapMinutes] = useDebouncedValue(gap, 400);
  const report = useConversations(collectionId, filters, gapMinutes);
  const chart = useChartTheme();
  const navigate = useNavigate();
  const data = report.data;
  const sizes = (data?.sizes ?? []).map((b) => ({ label: rangeLabel(b.min, b.max), conversations: b.conversations }));
  const starters = (data?.started_by ?? []).map((s) => ({ sender: s.sender ?? NOBODY, conversations: s.conversations }));
  const enders = (data?.ended_by ?? []).map((s) => ({ sender: s.sender ?? NOBODY, conversations: s.conversations }));
  const drill = (sender: string) => sender !== NOBODY && navigate(drillDownUrl(collectionId, filters, { sender }));
  const controls = (
    <NumberInput size="xs" w={190} label="New after a silence of (min)" min={1} max={10080}
      value={gap} onChange={(v) => setGap(typeof v === "number" && v >= 1 ? v : 30)} />
  );
  return (
    <ChartCard title="Conversations" png="conversations.png" controls={controls} loading={report.isPending} error={report.error}
      description="Click a starter or an ender to search their messages."
      csv={data && { filename: "conversations.csv", header: ["table", "label", "conversations"], rows: [
        ...sizes.map((s) => ["messages per conversation", s.label, s.conversations]),
        ...starters.map((s) => ["started by", s.sender, s.conversations]),
        ...enders.map((s) => ["ended by", s.sender, s.conversations]),
      ] }}>
      {data && (
        <Stack>
          <Group gap="xl" wrap="wrap">
            <Figure label="Conversations" value={data.count.toLocaleString()} />
            <Figure label="Median length" value={data.median_messages != null ? `${data.median_messages} messages` : "–"} />
            <Figure label="Median duration" value={formatDuration(data.median_seconds)} />
            {data.longest && (
              <Figure label="Longest" value={`${data.longest.messages} messages in ${data.longest.chat}, ${formatTime(data.longest.started_at)}`} />
            )}
          </Group>
          <SimpleGrid cols={{ base: 1, md: 3 }}>
            <MiniBars title="Messages per conversation" data={sizes} category="label" color={chart.series[0]} />
            <MiniBars title="Started by" data={starters} category="sender" color={chart.series[1]} onPick={drill} />
            <MiniBars title="Ended by" data={enders} category="sender" color={chart.series[2]} onPick={drill} />
          </SimpleGrid>
        </Stack>
      )}
    </ChartCard>
  );
}

function Figure({ label, value }: { label: string; value: string }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed">{label}</Text>
      <Text fw={600}>{value}</Text>
    </Stack>
  );
}

interface MiniBarsProps<K extends string> {
  title: string;
  data: (Record<K, string> & { conversations: number })[];
  category: K;
  color: string;
  onPick?: (value: string) => void;
}

function MiniBars<K extends string>({ title, data, category, color, onPick }: MiniBarsProps<K>) {
  const chart = useChartTheme();
  return (
    <Stack gap={4}>
      <Text size="sm" fw={500}>{title}</Text>
      <div style={{ width: "100%", height: Math.max(120, data.length * 28 + 40) }}>
        <ResponsiveContainer>
          <BarChart data={data} layout="vertical" margin={{ top: 4, right: 12, bottom: 4, left: 4 }}>
            <CartesianGrid stroke={chart.grid} horizontal={false} />
            <XAxis type="number" allowDecimals={false} tick={{ fill: chart.text, fontSize: 12 }} />
            <YAxis type="category" dataKey={category} width={90} tick={{ fill: chart.text, fontSize: 12 }} />
            <Tooltip contentStyle={chart.tooltip} cursor={{ fill: chart.grid, opacity: 0.4 }} />
            <Bar dataKey="conversations" name="Conversations" fill={color} isAnimationActive={false}
              cursor={onPick ? "pointer" : undefined}
              onClick={onPick ? (entry) => onPick((entry.payload as Record<K, string>)[category]) : undefined} />
          </BarChart>
        </ResponsiveContainer>
      </div>
    </Stack>
  );
}
