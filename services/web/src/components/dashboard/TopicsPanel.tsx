import { Alert, Anchor, Badge, Button, Card, Group, Progress, SimpleGrid, Stack, Text } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { ApiError, errorMessage, unwrap } from "../../api/errors";
import type { Job } from "../../api/types";
import { toAnalyticsQuery, type DashboardFilters } from "../../lib/analytics";
import { watchJob } from "../../lib/jobs";
import { useApi, useServices } from "../../services";
import { MessageInContext } from "../MessageInContext";
import { ChartCard } from "./ChartCard";
import { useChartTheme } from "./chartTheme";
import { TopicMap } from "./TopicMap";

const STAGES: Record<string, string> = { queued: "Queued", running: "Starting", reading: "Reading the messages",
  clustering: "Clustering", labelling: "Labelling", mapping: "Drawing the map" };

/** Topics per bucket, one row per bucket with a count per topic label (the chart's shape). */
export function topicsOverTime(over: { bucket: string; topic: number; messages: number }[], labels: Map<number, string>) {
  const rows = new Map<string, Record<string, string | number>>();
  for (const point of over) {
    const row = rows.get(point.bucket) ?? { bucket: point.bucket };
    const label = labels.get(point.topic) ?? "Noise";
    row[label] = Number(row[label] ?? 0) + point.messages;
    rows.set(point.bucket, row);
  }
  return [...rows.values()].sort((a, b) => String(a.bucket).localeCompare(String(b.bucket)));
}

/**
 * Topics of the messages under the dashboard's filters: computed as a job (progress shown live),
 * then the topics with their labels and representative messages, topics over time and the 2-D
 * map. A computed result is read back for the same version, filters and parameters.
 */
export function TopicsPanel({ collectionId, filters }: { collectionId: string; filters: DashboardFilters }) {
  const api = useApi();
  const { session } = useServices();
  const client = useQueryClient();
  const chart = useChartTheme();
  const [job, setJob] = useState<Job | null>(null);
  const [opened, setOpened] = useState<string | null>(null);
  const params = { ...toAnalyticsQuery(filters), bucket: "month" as const };
  const key = ["analytics", "topics", collectionId, filters];
  const topics = useQuery({
    queryKey: key,
    retry: false,
    queryFn: async ({ signal }) => {
      try {
        return unwrap(await api.GET("/api/v1/collections/{collection_id}/analytics/topics", {
          params: { path: { collection_id: collectionId }, query: params }, signal,
        }));
      } catch (error) {
        if (error instanceof ApiError && error.code === "topics_not_computed") return null;
        throw error;
      }
    },
  });
  const compute = useMutation({
    mutationFn: async () => {
      const result = await api.POST("/api/v1/collections/{collection_id}/analytics/topics", {
        params: { path: { collection_id: collectionId } }, body: params,
      });
      const answer = unwrap(result);
      if (result.response.status === 200) return answer;
      const started = (answer as { job: Job }).job;
      setJob(started);
      const done = await watchJob(session, started.id, setJob, new AbortController().signal);
      if (done?.status === "failed") throw new Error(`The topics job failed: ${String((done.error as { message?: string } | null)?.message ?? "unknown error")}`);
      return unwrap(await api.GET("/api/v1/collections/{collection_id}/analytics/topics", {
        params: { path: { collection_id: collectionId }, query: params },
      }));
    },
    onSuccess: (data) => { client.setQueryData(key, data); setJob(null); },
    onError: () => setJob(null),
  });
  const data = topics.data;
  const labels = new Map((data?.topics ?? []).map((t) => [t.topic, t.label]));
  const over = data ? topicsOverTime(data.over_time, labels) : [];
  const series = [...new Set(over.flatMap((row) => Object.keys(row).filter((k) => k !== "bucket")))];
  const progress = job?.progress;
  return (
    <Stack>
      <Card withBorder component="section" aria-label="Topics job">
        <Group justify="space-between">
          <Text size="sm">
            {data ? `${data.k} topics among ${data.clustered} of ${data.messages} messages (version ${data.version}; k ${data.chosen_by === "silhouette" ? "chosen by silhouette" : "fixed"}).`
              : topics.isPending ? "Looking for computed topics…" : "Topics of these messages have not been computed yet."}
          </Text>
          <Button onClick={() => compute.mutate()} loading={compute.isPending} disabled={topics.isPending || Boolean(data)}>
            Compute topics
          </Button>
        </Group>
        {job && (
          <Stack gap={4} mt="sm" data-testid="topics-progress">
            <Text size="sm">{STAGES[progress?.stage ?? job.status] ?? progress?.stage ?? job.status}
              {progress && progress.total ? ` (${progress.done} of ${progress.total})` : ""}</Text>
            <Progress value={progress && progress.total ? (100 * progress.done) / progress.total : 5} animated aria-label="Topics job progress" />
          </Stack>
        )}
        {(compute.error || topics.error) && <Alert color="red" role="alert" mt="sm">{errorMessage(compute.error ?? topics.error)}</Alert>}
      </Card>
      {data && (
        <>
          <ChartCard title="Topics" loading={false} error={null} description="Each topic's label, its words and the messages nearest its centre"
            csv={{ filename: "topics.csv", header: ["topic", "label", "messages", "share", "terms"],
              rows: data.topics.map((t) => [t.topic, t.label, t.size, t.share, t.terms.map((term) => term.term).join(" ")]) }}>
            <SimpleGrid cols={{ base: 1, md: 2 }} data-testid="topics-list">
              {data.topics.map((t) => (
                <Card key={t.topic} withBorder padding="sm" data-testid="topic">
                  <Group gap="xs" mb={4}>
                    <span aria-hidden style={{ width: 10, height: 10, borderRadius: 5, background: chart.series[t.topic % chart.series.length] }} />
                    <Text fw={600}>{t.label}</Text>
                    <Badge variant="light">{t.size} messages · {(t.share * 100).toFixed(0)}%</Badge>
                  </Group>
                  <Text size="xs" c="dimmed" mb={4}>{t.terms.map((term) => term.term).join(", ")}</Text>
                  <Stack gap={2}>
                    {t.representatives.map((r) => (
                      <Anchor key={r.message_id} component="button" type="button" size="sm" ta="left" className="chat-text"
                        onClick={() => setOpened(r.message_id)}>
                        {r.sender}: {r.text}
                      </Anchor>
                    ))}
                  </Stack>
                </Card>
              ))}
            </SimpleGrid>
          </ChartCard>
          <ChartCard title="Topics over time" png="topics-over-time.png" loading={false} error={null} description="Messages per topic and month"
            csv={{ filename: "topics-over-time.csv", header: ["bucket", ...series], rows: over.map((row) => [String(row.bucket), ...series.map((s) => Number(row[s] ?? 0))]) }}>
            <div data-testid="topics-chart" style={{ width: "100%", height: 260 }}>
              <ResponsiveContainer>
                <BarChart data={over} margin={{ top: 8, right: 8, bottom: 8, left: 0 }}>
                  <CartesianGrid stroke={chart.grid} vertical={false} />
                  <XAxis dataKey="bucket" tick={{ fill: chart.text, fontSize: 12 }} />
                  <YAxis allowDecimals={false} tick={{ fill: chart.text, fontSize: 12 }} />
                  <Tooltip contentStyle={chart.tooltip} cursor={{ fill: chart.grid, opacity: 0.4 }} />
                  <Legend wrapperStyle={{ color: chart.text }} />
                  {series.map((label) => {
                    const topic = data.topics.find((t) => t.label === label)?.topic ?? -1;
                    return <Bar key={label} dataKey={label} stackId="t" isAnimationActive={false}
                      fill={topic < 0 ? chart.grid : chart.series[topic % chart.series.length]} />;
                  })}
                </BarChart>
              </ResponsiveContainer>
            </div>
          </ChartCard>
          {data.map.points.length > 0 && (
            <ChartCard title="Map of the messages" png="topics-map.png" loading={false} error={null}
              description={`Similar messages lie close together (${data.map.method}); colours are topics`}
              csv={{ filename: "topics-map.csv", header: ["message_id", "topic", "x", "y"], rows: data.map.points.map((p) => [p.message_id, p.topic, p.x, p.y]) }}>
              <TopicMap collectionId={collectionId} version={data.version} points={data.map.points} labels={labels} onOpen={setOpened} />
            </ChartCard>
          )}
        </>
      )}
      <MessageInContext collectionId={collectionId} messageId={opened} version={data?.version ?? null} onClose={() => setOpened(null)} />
    </Stack>
  );
}
