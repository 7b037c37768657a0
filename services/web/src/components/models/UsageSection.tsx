import { Alert, Table, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { errorMessage, unwrap } from "../../api/errors";
import { useServices } from "../../services";
import { Section } from "../account/Section";
import { Loading } from "../Loading";

const number = new Intl.NumberFormat();

/** Requests, failures and tokens per model: the totals, then per UTC day (newest first). */
export function UsageSection() {
  const { api } = useServices();
  const usage = useQuery({
    queryKey: ["model-usage"],
    queryFn: async () => unwrap(await api.GET("/api/v1/models/usage", { params: { query: {} } })),
  });
  return (
    <Section title="Usage" description="Model requests of this organisation, per model and UTC day.">
      {usage.isPending && <Loading />}
      {usage.isError && <Alert color="red" role="alert">{errorMessage(usage.error)}</Alert>}
      {usage.data && usage.data.days.length === 0 && <Text size="sm" c="dimmed">No model requests yet.</Text>}
      {usage.data && usage.data.days.length > 0 && (
        <Table.ScrollContainer minWidth={560}>
          <Table striped data-testid="usage-table">
            <Table.Thead>
              <Table.Tr><Table.Th>Day</Table.Th><Table.Th>Model</Table.Th><Table.Th ta="right">Requests</Table.Th>
                <Table.Th ta="right">Failed</Table.Th><Table.Th ta="right">Prompt tokens</Table.Th>
                <Table.Th ta="right">Completion tokens</Table.Th></Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {[...usage.data.models, ...usage.data.days].map((row) => (
                <Table.Tr key={`${row.day ?? "total"} ${row.model}`} data-testid="usage-row" fw={row.day ? undefined : 600}>
                  <Table.Td>{row.day ?? "All days"}</Table.Td>
                  <Table.Td>{row.model}</Table.Td>
                  <Table.Td ta="right">{number.format(row.requests)}</Table.Td>
                  <Table.Td ta="right">{number.format(row.failed)}</Table.Td>
                  <Table.Td ta="right">{number.format(row.prompt_tokens)}</Table.Td>
                  <Table.Td ta="right">{number.format(row.completion_tokens)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Section>
  );
}
