import { Alert, Button, Group, Select } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { errorMessage, unwrap } from "../../api/errors";
import { useServices } from "../../services";
import { Section } from "../account/Section";
import { Loading } from "../Loading";

const PACKAGED = "";

/** The models answers and summaries use when a request names none: the registry's or an endpoint. */
export function DefaultsSection({ editable }: { editable: boolean }) {
  const { api } = useServices();
  const queryClient = useQueryClient();
  const defaults = useQuery({
    queryKey: ["model-defaults"],
    queryFn: async () => unwrap(await api.GET("/api/v1/models/defaults")),
  });
  const choices = useQuery({
    queryKey: ["model-choices"],
    queryFn: async () => unwrap(await api.GET("/v1/models")).data.map((m) => m.id),
  });
  const [answers, setAnswers] = useState(PACKAGED);
  const [summaries, setSummaries] = useState(PACKAGED);
  useEffect(() => {
    if (!defaults.data) return;
    setAnswers(defaults.data.answers ?? PACKAGED);
    setSummaries(defaults.data.summaries ?? PACKAGED);
  }, [defaults.data]);
  const save = useMutation({
    mutationFn: async () => unwrap(await api.PUT("/api/v1/models/defaults", {
      body: { answers: answers || null, summaries: summaries || null },
    })),
    onSuccess: (data) => queryClient.setQueryData(["model-defaults"], data),
  });
  const options = [{ value: PACKAGED, label: "The platform's default model" },
    ...(choices.data ?? []).map((id) => ({ value: id, label: id }))];
  return (
    <Section title="Default models" description="What answers and summaries run on when a request names no model.">
      {(defaults.isPending || choices.isPending) && <Loading />}
      {defaults.isError && <Alert color="red" role="alert">{errorMessage(defaults.error)}</Alert>}
      {choices.isError && <Alert color="red" role="alert">{errorMessage(choices.error)}</Alert>}
      {defaults.data && choices.data && (
        <Group align="flex-end">
          <Select label="Answers" data={options} value={answers} allowDeselect={false} disabled={!editable}
            onChange={(v) => setAnswers(v ?? PACKAGED)} w={260} />
          <Select label="Summaries" data={options} value={summaries} allowDeselect={false} disabled={!editable}
            onChange={(v) => setSummaries(v ?? PACKAGED)} w={260} />
          {editable && <Button loading={save.isPending} onClick={() => save.mutate()}>Save defaults</Button>}
        </Group>
      )}
      {save.isSuccess && <Alert color="green" role="status">Saved.</Alert>}
      {save.isError && <Alert color="red" role="alert">{errorMessage(save.error)}</Alert>}
    </Section>
  );
}
