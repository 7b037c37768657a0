import { Stack } from "@mantine/core";
import { useParams, useSearchParams } from "react-router";
import { usePeople } from "../api/analytics";
import { ActivityCards } from "../components/dashboard/ActivityCards";
import { ConversationsCard } from "../components/dashboard/ConversationsCard";
import { DashboardFiltersBar } from "../components/dashboard/DashboardFilters";
import { OverviewCard } from "../components/dashboard/OverviewCard";
import { PeopleCard } from "../components/dashboard/PeopleCard";
import { filtersFromParams, filtersToParams, type DashboardFilters } from "../lib/analytics";

/**
 * Every analytics report of the collection as cards, under one set of filters kept in the URL
 * (a filtered dashboard is a link; back from a drill-down returns to it). Its own chunk, with the
 * chart library: the first load does not carry it.
 */
export default function DashboardPage() {
  const { collectionId = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const filters = filtersFromParams(params);
  // The sender box suggests the people of the collection as filtered by everything but senders.
  const everyone = usePeople(collectionId, { ...filters, sender: [] });
  const update = (next: DashboardFilters) => setParams(filtersToParams(next), { replace: true });
  return (
    <Stack>
      <DashboardFiltersBar collectionId={collectionId} filters={filters} onChange={update}
        senders={(everyone.data?.people ?? []).map((p) => p.sender)} />
      <OverviewCard collectionId={collectionId} filters={filters} />
      <ActivityCards collectionId={collectionId} filters={filters} />
      <PeopleCard collectionId={collectionId} filters={filters} />
      <ConversationsCard collectionId={collectionId} filters={filters} />
    </Stack>
  );
}
