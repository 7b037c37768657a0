import { Alert, Button, Card, Group, Stack, Text, Title } from "@mantine/core";
import type { ReactNode } from "react";
import { errorMessage } from "../../api/errors";
import { downloadCsv, type Cell } from "../../lib/csv";
import { Loading } from "../Loading";

export interface CsvTable {
  filename: string;
  header: string[];
  rows: Cell[][];
}

interface Props {
  title: string;
  description?: string;
  /** The figures the card shows, for its CSV download (none while loading). */
  csv?: CsvTable | null;
  controls?: ReactNode;
  loading: boolean;
  error: unknown;
  children: ReactNode;
}

/** One dashboard card: its title, its controls, a CSV of what it shows, and its own error. */
export function ChartCard({ title, description, csv, controls, loading, error, children }: Props) {
  return (
    <Card withBorder component="section" aria-label={title} data-testid="dashboard-card">
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start" wrap="wrap">
          <div>
            <Title order={2} size="h4">{title}</Title>
            {description && <Text size="sm" c="dimmed">{description}</Text>}
          </div>
          <Group gap="xs" wrap="wrap">
            {controls}
            <Button variant="default" size="xs" disabled={!csv}
              aria-label={`Download ${title} as CSV`}
              onClick={() => csv && downloadCsv(csv.filename, csv.header, csv.rows)}>
              CSV
            </Button>
          </Group>
        </Group>
        {error ? <Alert color="red" role="alert">{errorMessage(error)}</Alert> : loading ? <Loading /> : children}
      </Stack>
    </Card>
  );
}
