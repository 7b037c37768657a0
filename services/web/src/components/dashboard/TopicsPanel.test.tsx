import { fireEvent, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { fakeSession, fakeToken, renderWithServices } from "../../test/render";
import { TopicsPanel } from "./TopicsPanel";

const TOPICS = {
  version: 3, timezone: "UTC", k: 2, chosen_by: "silhouette", clustered: 40, messages: 44, noise: 4, seed: 0, silhouette: 0.31,
  parameters: {}, scores: [{ k: 2, silhouette: 0.31 }],
  topics: [
    { topic: 0, label: "offsite · venue · lisbon", size: 25, share: 0.6, terms: [{ term: "offsite", score: 1 }],
      representatives: [{ message_id: "m1", sender: "Marta", sent_at: "2025-02-14T11:15:00Z", text: "<b>Booked</b> the venue in Lisbon" }] },
    { topic: 1, label: "staging · server", size: 15, share: 0.4, terms: [{ term: "staging", score: 1 }],
      representatives: [{ message_id: "m2", sender: "Jonas", sent_at: "2025-02-03T09:30:00Z", text: "staging is down" }] },
  ],
  over_time: [{ bucket: "2025-02", topic: 0, messages: 20 }, { bucket: "2025-02", topic: 1, messages: 15 }, { bucket: "2025-03", topic: 0, messages: 5 }],
  map: { method: "openTSNE", points: [{ message_id: "m1", topic: 0, x: 0, y: 0 }, { message_id: "m2", topic: 1, x: 5, y: 3 }] },
};
const JOB = { id: "j1", collection_id: "c1", kind: "topics", filename: "", status: "running", created_at: "", updated_at: "",
  error: null, stats: null, version: null, progress: { stage: "clustering", done: 1, total: 4 } };

function fakeApi() {
  const calls: string[] = [];
  let computed = false;
  const fetch = vi.fn(async (request: Request) => {
    const url = new URL(request.url);
    const route = `${request.method} ${url.pathname}`;
    calls.push(`${route}${url.search}${request.method === "POST" ? " " + await request.clone().text() : ""}`);
    if (route === "POST /api/v1/auth/refresh") return Response.json({ access_token: fakeToken(["search:read"]), expires_in: 900, token_type: "Bearer" });
    if (route === "GET /api/v1/collections/c1/analytics/topics") {
      return computed ? Response.json(TOPICS)
        : Response.json({ error: { code: "topics_not_computed", message: "not computed" } }, { status: 404 });
    }
    if (route === "POST /api/v1/collections/c1/analytics/topics") return Response.json({ version: 3, job: JOB }, { status: 202 });
    if (route === "GET /api/v1/jobs/j1/events") {
      computed = true;
      const done = { ...JOB, status: "succeeded", progress: { stage: "mapping", done: 4, total: 4 } };
      return new Response(`event: progress\ndata: ${JSON.stringify(JOB)}\n\nevent: done\ndata: ${JSON.stringify(done)}\n\n`,
        { headers: { "Content-Type": "text/event-stream" } });
    }
    if (route.startsWith("GET /api/v1/collections/c1/messages/")) {
      const id = url.pathname.split("/").pop()!;
      return Response.json({ version: 3, before: [], after: [], message: { message_id: id, platform: "whatsapp", chat: "Team",
        sender: "Marta", sent_at: "2025-02-14T11:15:00Z", text: `text of ${id} <img src=x onerror=alert(1)>` } });
    }
    return Response.json({ error: { code: "not_found", message: route } }, { status: 404 });
  });
  return { fetch, calls };
}

describe("TopicsPanel", () => {
  it("computes topics as a job, then lists them with representatives, over time and on a map", async () => {
    const api = fakeApi();
    const session = fakeSession(api.fetch);
    await session.restore();
    const filters = { platform: [], chat: ["Team"], sender: [], since: null, until: null, timezone: "Europe/Lisbon", version: null };
    renderWithServices(<MemoryRouter><TopicsPanel collectionId="c1" filters={filters} /></MemoryRouter>, session);
    const user = userEvent.setup();
    await screen.findByText("Topics of these messages have not been computed yet.");
    await user.click(screen.getByRole("button", { name: "Compute topics" }));
    const list = await screen.findByTestId("topics-list");
    expect(within(list).getAllByTestId("topic")).toHaveLength(2);
    expect(within(list).getByText("offsite · venue · lisbon")).toBeInTheDocument();
    expect(within(list).getByText("Marta: <b>Booked</b> the venue in Lisbon")).toBeInTheDocument();
    expect(screen.getByText(/2 topics among 40 of 44 messages/)).toBeInTheDocument();
    const post = api.calls.find((c) => c.startsWith("POST /api/v1/collections/c1/analytics/topics"))!;
    expect(JSON.parse(post.slice(post.indexOf(" {") + 1))).toMatchObject({ chat: ["Team"], timezone: "Europe/Lisbon", bucket: "month" });
    expect(api.calls.some((c) => c.startsWith("GET /api/v1/jobs/j1/events"))).toBe(true);

    const points = screen.getAllByTestId("map-point");
    expect(points).toHaveLength(2);
    fireEvent.mouseEnter(points[1]);
    await vi.waitFor(() => expect(screen.getByTestId("map-hover")).toHaveTextContent("Marta: text of m2 <img src=x onerror=alert(1)>"));
    expect(screen.getByTestId("map-hover")).toHaveTextContent("staging · server");
    expect(document.querySelector("img[src=x]")).toBeNull();
    await user.click(screen.getByRole("button", { name: "Zoom in" }));
    expect(screen.getByTestId("topic-map").querySelector("g")!.getAttribute("transform")).toContain("scale(1.5)");
    fireEvent.click(points[1]); // the hovered one: its message is cached without neighbours
    expect(await screen.findByTestId("opened-message")).toHaveTextContent("text of m2");
  });
});
