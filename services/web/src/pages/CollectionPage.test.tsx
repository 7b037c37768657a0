// The collection's header (name, messages, version) follows an upload's job to its new version.
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createMemoryRouter, RouterProvider } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { fakeSession, fakeToken, renderWithServices } from "../test/render";
import CollectionPage from "./CollectionPage";
import UploadPage from "./UploadPage";

vi.mock("../lib/upload", () => ({
  uploadFile: vi.fn(async ({ file, onProgress }: { file: File; onProgress: (sent: number, total: number) => void }) => {
    onProgress(file.size, file.size);
    return { jobs: [{ id: "j2", filename: file.name, status: "queued" }] };
  }),
}));

const AT = "2026-12-07T09:00:00Z";
const PERMS = ["collections:read", "search:read", "uploads:create", "collections:write"];

function eventStream(text: string): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) { controller.enqueue(new TextEncoder().encode(text)); controller.close(); },
  });
  return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
}

/** A collection at version 1 whose job `jobId` makes version 2 when it is followed to its end. */
function fakeGateway(runningJob: boolean) {
  let version = 1;
  const versions = [{ version: 1, messages: 10, added: 10, removed: 0, segments: 1, message: "upload", committed_at: AT }];
  const job = (id: string, status: string, stage: string) => ({ id, collection_id: "c1", filename: "chat.txt", status,
    progress: { stage, done: 5, total: 5 }, stats: status === "succeeded" ? { added: 15, duplicates: 0 } : null,
    error: null, version: status === "succeeded" ? 2 : null, created_at: AT, updated_at: AT });
  const fetch = vi.fn(async (request: Request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/api/v1/auth/refresh") return Response.json({ access_token: fakeToken(PERMS), expires_in: 900, token_type: "Bearer" });
    if (pathname === "/api/v1/me") return Response.json({ id: "u1", email: "a@example.com", name: null, platform_admin: false,
      org: { id: "o1", name: "Team", role: "analyst" } });
    if (pathname === "/api/v1/collections/c1") return Response.json({ id: "c1", name: "Team chats", description: "", version, created_at: AT });
    if (pathname === "/api/v1/collections/c1/versions") return Response.json({ versions });
    if (pathname === "/api/v1/collections/c1/jobs") {
      return Response.json({ jobs: runningJob && version === 1 ? [job("j1", "running", "embedding")] : [] });
    }
    const events = pathname.match(/^\/api\/v1\/jobs\/(\w+)\/events$/);
    if (events) {
      // The job ends: the collection is at version 2 from now on.
      version = 2;
      versions.push({ version: 2, messages: 25, added: 15, removed: 0, segments: 2, message: "upload", committed_at: AT });
      return eventStream(`event: progress\ndata: ${JSON.stringify(job(events[1], "running", "indexing"))}\n\n`
        + `event: done\ndata: ${JSON.stringify(job(events[1], "succeeded", "indexing"))}\n\n`);
    }
    return Response.json({ error: { code: "not_found", message: pathname } }, { status: 404 });
  });
  return { fetch };
}

async function renderUpload(runningJob: boolean) {
  const gateway = fakeGateway(runningJob);
  const router = createMemoryRouter([{
    path: "/collections/:collectionId", element: <CollectionPage />,
    children: [{ path: "upload", element: <UploadPage /> }],
  }], { initialEntries: ["/collections/c1/upload"] });
  const session = fakeSession(gateway.fetch);
  await session.restore();
  renderWithServices(<RouterProvider router={router} />, session);
  return gateway;
}

describe("the collection's header", () => {
  it("shows the new message count and version once an upload's job has finished", async () => {
    await renderUpload(false);
    expect(await screen.findByTestId("collection-messages")).toHaveTextContent("10 messages");
    expect(screen.getByTestId("collection-version")).toHaveTextContent("Version 1");
    await userEvent.setup().upload(screen.getByLabelText("Chat export files"),
      new File(["09/03/2025, 10:00 - Ana: hi"], "chat.txt", { type: "text/plain" }));
    expect(await screen.findByTestId("job-outcome")).toHaveTextContent("Indexed as version 2: 15 new, 0 already there");
    await vi.waitFor(() => expect(screen.getByTestId("collection-version")).toHaveTextContent("Version 2"));
    expect(screen.getByTestId("collection-messages")).toHaveTextContent("25 messages");
  });

  it("follows a job that was running before a reload to its new version too", async () => {
    // The collection is at version 1 until the job's events are followed (the fake's stream moves it
    // to 2); the upload tab renders beside the header, so the header may never show version 1.
    await renderUpload(true);
    await vi.waitFor(() => expect(screen.getByTestId("collection-version")).toHaveTextContent("Version 2"));
    expect(screen.getByTestId("collection-messages")).toHaveTextContent("25 messages");
  });
});
