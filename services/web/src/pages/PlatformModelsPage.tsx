import { Alert, Stack, Title } from "@mantine/core";
import { Loading } from "../components/Loading";
import { PlatformModels } from "../components/models/PlatformModels";
import { useMe } from "../services";

/** Model administration for platform administrators (owning an org is not enough). */
export default function PlatformModelsPage() {
  const me = useMe();
  return (
    <Stack>
      <Title order={1} size="h2">Platform models</Title>
      {me.isPending && <Loading />}
      {me.data && !me.data.platform_admin && (
        <Alert color="gray" role="status">This page is for platform administrators.</Alert>
      )}
      {me.data?.platform_admin && <PlatformModels />}
    </Stack>
  );
}
