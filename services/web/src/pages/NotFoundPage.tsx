import { Anchor, Stack, Text, Title } from "@mantine/core";
import { Link } from "react-router";

export default function NotFoundPage() {
  return (
    <Stack>
      <Title order={1} size="h2">Not found</Title>
      <Text>There is no page at this address.</Text>
      <Anchor component={Link} to="/collections">Back to your collections</Anchor>
    </Stack>
  );
}
