import { Stack, Tabs } from "@mantine/core";
import { useParams, useSearchParams } from "react-router";
import { usePeople } from "../api/analytics";
import { ActivityCards } from "../components/dashboard/ActivityCards";
import { CalendarCard } from "../components/dashboard/CalendarCard";
import { ConversationsCard } from "../components/dashboard/ConversationsCard";
import { DashboardFiltersBar } from "../components/dashboard/DashboardFilters";
import { IdentitiesCard } from "../components/dashboard/IdentitiesCard";
import { InteractionCards } from "../components/dashboard/InteractionCards";
import { LanguageCards } from "../components/dashboard/LanguageCards";
import { OverviewCard } from "../components/dashboard/OverviewCard";
import { PeopleCard } from "../components/dashboard/PeopleCard";
import { SearchAnalyticsCards } from "../components/dashboard/SearchAnalyticsCards";
import { TopicsPanel } from "../components/dashboard/TopicsPanel";
import { filtersFromParams, filtersToParams, type DashboardFilters } from "../lib/analytics";
import { usePermissions } from "../services";

const TABS = { activity: "Activity", interaction: "Interaction", language: "Language", calendar: "Calendar",
  identities: "People across platforms", topics: "Topics", queries: "Queries" } as const;
type Tab = keyof typeof TABS;

/**
 * Every analytics report of the collection as cards, in tabs under one set of filters kept in
 * the URL with the tab (a filtered dashboard is a link; back from a drill-down returns to it).
 * Its own chunk, with the chart library: the first load does not carry it. A tab's reports are
 * asked for when it is opened.
 */
export default function DashboardPage() {
  const { collectionId = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const filters = filtersFromParams(params);
  // What members typed is for those who may change the collection (the API refuses the rest).
  const searchLog = usePermissions().has("collections:write");
  const tabs = (Object.keys(TABS) as Tab[]).filter((t) => t !== "queries" || searchLog);
  const tab: Tab = tabs.find((t) => t === params.get("tab")) ?? "activity";
  // The sender box suggests the people of the collection as filtered by everything but senders.
  const everyone = usePeople(collectionId, { ...filters, sender: [] });
  const go = (next: DashboardFilters, nextTab: Tab) => {
    const query = filtersToParams(next);
    if (nextTab !== "activity") query.set("tab", nextTab);
    setParams(query, { replace: true });
  };
  return (
    <Stack>
      <DashboardFiltersBar collectionId={collectionId} filters={filters} onChange={(next) => go(next, tab)}
        senders={(everyone.data?.people ?? []).map((p) => p.sender)} />
      <Tabs value={tab} onChange={(value) => value && go(filters, value as Tab)} keepMounted={false}>
        <Tabs.List>
          {tabs.map((t) => <Tabs.Tab key={t} value={t}>{TABS[t]}</Tabs.Tab>)}
        </Tabs.List>
        <Tabs.Panel value="activity" pt="md">
          <Stack>
            <OverviewCard collectionId={collectionId} filters={filters} />
            <ActivityCards collectionId={collectionId} filters={filters} />
            <PeopleCard collectionId={collectionId} filters={filters} />
            <ConversationsCard collectionId={collectionId} filters={filters} />
          </Stack>
        </Tabs.Panel>
        <Tabs.Panel value="interaction" pt="md">
          <Stack><InteractionCards collectionId={collectionId} filters={filters} /></Stack>
        </Tabs.Panel>
        <Tabs.Panel value="language" pt="md">
          <Stack><LanguageCards collectionId={collectionId} filters={filters} /></Stack>
        </Tabs.Panel>
        <Tabs.Panel value="calendar" pt="md">
          <CalendarCard collectionId={collectionId} filters={filters} />
        </Tabs.Panel>
        <Tabs.Panel value="identities" pt="md">
          <IdentitiesCard collectionId={collectionId} filters={filters} />
        </Tabs.Panel>
        <Tabs.Panel value="topics" pt="md">
          <TopicsPanel collectionId={collectionId} filters={filters} />
        </Tabs.Panel>
        {searchLog && (
          <Tabs.Panel value="queries" pt="md">
            <Stack><SearchAnalyticsCards collectionId={collectionId} filters={filters} /></Stack>
          </Tabs.Panel>
        )}
      </Tabs>
    </Stack>
  );
}
