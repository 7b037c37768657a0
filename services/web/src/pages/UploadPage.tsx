import { Alert, Badge, Card, Group, Progress, Stack, Table, Text, Title } from "@mantine/core";
import { Dropzone } from "@mantine/dropzone";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { useParams } from "react-router";
import { ApiError, errorMessage, unwrap } from "../api/errors";
import { collectionChanged } from "../api/queries";
import type { Job } from "../api/types";
import { formatBytes, formatTime } from "../lib/format";
import { jobOutcome, STAGE_LABELS, watchJob } from "../lib/jobs";
import { uploadFile } from "../lib/upload";
import { useApi, useServices } from "../services";

interface Item {
  key: string;
  name: string;
  size: number;
  sent: number;
  phase: "uploading" | "refused" | "processing" | "done";
  job?: Job;
  error?: string;
}

/** Drop several exports: each file's bytes, then its job's stages live, then what it added. */
export default function UploadPage() {
  const { collectionId = "" } = useParams();
  const { session } = useServices();
  const queryClient = useQueryClient();
  const [items, setItems] = useState<Item[]>([]);
  const aborts = useRef(new AbortController());
  useEffect(() => () => aborts.current.abort(), []);

  const update = useCallback((key: string, change: Partial<Item>) => {
    setItems((all) => all.map((item) => (item.key === key ? { ...item, ...change } : item)));
  }, []);

  const send = useCallback(async (file: File, key: string) => {
    const url = `/api/v1/collections/${encodeURIComponent(collectionId)}/uploads`;
    const attempt = (token: string | null) => uploadFile({
      url, file, token, signal: aborts.current.signal,
      onProgress: (sent) => update(key, { sent }),
    });
    try {
      let accepted;
      try {
        accepted = await attempt(session.accessToken());
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 401)) throw error;
        const stale = session.accessToken();
        if (!(await session.refresh(stale))) throw error;
        accepted = await attempt(session.accessToken());
      }
      const job = accepted.jobs[0];
      update(key, { phase: "processing", sent: file.size });
      const final = await watchJob(session, job.id, (state) => update(key, { job: state }),
        aborts.current.signal);
      update(key, { phase: "done", job: final ?? undefined });
      if (final?.status === "succeeded") void collectionChanged(queryClient, collectionId);
      void queryClient.invalidateQueries({ queryKey: ["jobs", collectionId] });
    } catch (error) {
      if (aborts.current.signal.aborted) return;
      update(key, { phase: "refused", error: errorMessage(error) });
    }
  }, [collectionId, session, update, queryClient]);

  function onDrop(files: File[]) {
    const added = files.map((file) => ({
      key: `${file.name}-${file.size}-${crypto.randomUUID()}`,
      name: file.name, size: file.size, sent: 0, phase: "uploading" as const,
    }));
    setItems((all) => [...added, ...all]);
    files.forEach((file, index) => void send(file, added[index].key));
  }

  return (
    <Stack>
      <Dropzone onDrop={onDrop} multiple aria-label="Drop chat exports here or press Enter to choose files"
        inputProps={{ "aria-label": "Chat export files" }}>
        <Stack align="center" gap={4} py="xl" style={{ pointerEvents: "none" }}>
          <Text fw={600}>Drop chat exports here, or click to choose</Text>
          <Text size="sm" c="dimmed">
            WhatsApp, Telegram, Slack, Discord, ChatGPT, CSV/JSONL, and zips of them. Several at once.
          </Text>
        </Stack>
      </Dropzone>
      <Stack gap="sm" aria-live="polite">
        {items.map((item) => <UploadRow key={item.key} item={item} />)}
      </Stack>
      <RecentJobs collectionId={collectionId} />
    </Stack>
  );
}

function UploadRow({ item }: { item: Item }) {
  const job = item.job;
  const stage = job?.progress.stage ?? job?.status ?? "queued";
  const jobPercent = job && job.progress.total > 0 ? (100 * job.progress.done) / job.progress.total : 0;
  return (
    <Card withBorder data-testid="upload-item" data-phase={item.phase}>
      <Group justify="space-between">
        <Text fw={600} className="chat-text">{item.name}</Text>
        <Text size="sm" c="dimmed">{formatBytes(item.size)}</Text>
      </Group>
      {item.phase === "uploading" && (
        <>
          <Text size="xs">Uploading {formatBytes(item.sent)} of {formatBytes(item.size)}</Text>
          <Progress value={item.size ? (100 * item.sent) / item.size : 0} aria-label={`Upload of ${item.name}`} />
        </>
      )}
      {item.phase === "processing" && (
        <>
          <Text size="xs" data-testid="job-stage">
            {STAGE_LABELS[stage] ?? stage}
            {job && job.progress.total > 0 ? `: ${job.progress.done} of ${job.progress.total}` : ""}
          </Text>
          <Progress value={jobPercent} animated aria-label={`Processing of ${item.name}`} />
        </>
      )}
      {item.phase === "done" && job && (
        <Text size="sm" c={job.status === "failed" ? "red.9" : undefined} data-testid="job-outcome">
          {job.status === "succeeded" ? `Indexed as version ${job.version}: ` : ""}{jobOutcome(job)}
        </Text>
      )}
      {item.phase === "refused" && (
        <Alert color="red" role="alert" title="Refused" data-testid="upload-refused">{item.error}</Alert>
      )}
    </Card>
  );
}

/** Every upload of the collection; ones still running (say, after a reload) follow live. */
function RecentJobs({ collectionId }: { collectionId: string }) {
  const api = useApi();
  const { session } = useServices();
  const queryClient = useQueryClient();
  const jobs = useQuery({
    queryKey: ["jobs", collectionId],
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/collections/{collection_id}/jobs", { params: { path: { collection_id: collectionId } } })).jobs,
  });
  const unfinished = (jobs.data ?? [])
    .filter((job) => job.status === "queued" || job.status === "running")
    .map((job) => job.id).join(",");
  useEffect(() => {
    if (!unfinished) return;
    const abort = new AbortController();
    const replace = (state: Job) => queryClient.setQueryData<Job[]>(["jobs", collectionId],
      (all) => all?.map((job) => (job.id === state.id ? { ...job, ...state } : job)));
    for (const id of unfinished.split(",")) {
      watchJob(session, id, replace, abort.signal)
        .then((final) => { if (final?.status === "succeeded") void collectionChanged(queryClient, collectionId); })
        .catch(() => undefined); // the table stays as it was
    }
    return () => abort.abort();
  }, [unfinished, collectionId, session, queryClient]);
  if (jobs.isError) return <Alert color="red">{errorMessage(jobs.error)}</Alert>;
  if (!jobs.data?.length) return null;
  return (
    <Stack gap="xs">
      <Title order={2} size="h4">Uploads so far</Title>
      <Table.ScrollContainer minWidth={500}>
        <Table striped>
          <Table.Thead>
            <Table.Tr><Table.Th>File</Table.Th><Table.Th>When</Table.Th><Table.Th>Status</Table.Th><Table.Th>Outcome</Table.Th></Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {jobs.data.map((job) => (
              <Table.Tr key={job.id}>
                <Table.Td className="chat-text">{job.filename}</Table.Td>
                <Table.Td>{formatTime(job.created_at)}</Table.Td>
                <Table.Td><Badge variant="dot" color={job.status === "failed" ? "red" : job.status === "succeeded" ? "green" : "blue"}>{job.status}</Badge></Table.Td>
                <Table.Td>
                  {job.status === "succeeded" || job.status === "failed"
                    ? jobOutcome(job)
                    : `${STAGE_LABELS[job.progress.stage ?? ""] ?? job.status}${job.progress.total ? ` ${job.progress.done} of ${job.progress.total}` : ""}`}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}
