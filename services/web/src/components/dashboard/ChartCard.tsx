import { Alert, Button, Card, Group, Stack, Text, Title } from "@mantine/core";
import { useRef, useState, type ReactNode } from "react";
import { errorMessage } from "../../api/errors";
import { downloadCsv, type Cell } from "../../lib/csv";
import { downloadPng } from "../../lib/png";
import { Loading } from "../Loading";
import { useChartTheme } from "./chartTheme";

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
  /** The PNG's file name: the card's figure (its chart or table) drawn as an image. */
  png?: string;
  controls?: ReactNode;
  loading: boolean;
  error: unknown;
  children: ReactNode;
}

/** One dashboard card: its title, its controls, a CSV (and a PNG) of what it shows, its own error. */
export function ChartCard({ title, description, csv, png, controls, loading, error, children }: Props) {
  const figure = useRef<HTMLDivElement>(null);
  const chart = useChartTheme();
  const [pngError, setPngError] = useState<string | null>(null);
  const [drawing, setDrawing] = useState(false);
  const savePng = async () => {
    if (!figure.current || !png) return;
    setDrawing(true);
    setPngError(null);
    try {
      await downloadPng(figure.current, png, chart.background);
    } catch (cause) {
      setPngError(`The image could not be drawn: ${cause instanceof Error ? cause.message : String(cause)}`);
    } finally {
      setDrawing(false);
    }
  };
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
            {png && (
              <Button variant="default" size="xs" disabled={loading || Boolean(error)} loading={drawing}
                aria-label={`Download ${title} as PNG`} onClick={() => void savePng()}>
                PNG
              </Button>
            )}
          </Group>
        </Group>
        {pngError && <Alert color="red" role="alert">{pngError}</Alert>}
        {error ? <Alert color="red" role="alert">{errorMessage(error)}</Alert> : loading ? <Loading /> : (
          <div ref={figure}>{children}</div>
        )}
      </Stack>
    </Card>
  );
}
