import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { fakeSession, fakeToken, renderWithServices } from "../test/render";
import VersionsPage from "./VersionsPage";

const version = (n: number, messages: number) => ({ version: n, messages, added: messages, removed: 0,
  message: `upload ${n}`, committed_at: "2025-03-01T10:00:00Z" });

/** The gateway's version, compare, message and tag routes for one collection. */
function fakeApi() {
  const calls: string[] = [];
  let tags = [{ name: "start", version: 1 }];
  const versions = [version(1, 207), version(2, 212)];
  const fetch = vi.fn(async (request: Request) => {
    const url = new URL(request.url);
    const route = `${request.method} ${url.pathname}`;
    calls.push(`${route}${url.search}${request.method === "POST" ? " " + await request.clone().text() : ""}`);
    if (route === "POST /api/v1/auth/refresh") {
      return Response.json({ access_token: fakeToken(["collections:read", "collections:write", "search:read"]),
        expires_in: 900, token_type: "Bearer" });
    }
    if (route === "GET /api/v1/collections/c1/versions") return Response.json({ versions });
    if (route === "GET /api/v1/collections/c1/versions/compare") {
      return Response.json({ base: 1, other: 2, added: 5, removed: 0, added_ids: ["m9"], removed_ids: [] });
    }
    if (route === "GET /api/v1/collections/c1/messages/m9") {
      return Response.json({ version: 2, before: [], after: [], message: { message_id: "m9", platform: "whatsapp",
        chat: "xss-chat", sender: "Mallory", sent_at: "2025-03-14T09:00:00Z", text: "<script>x</script> hello team" } });
    }
    if (route === "GET /api/v1/collections/c1/tags") return Response.json({ tags });
    if (route === "POST /api/v1/collections/c1/tags") {
      const body = await request.json();
      tags = [...tags, body];
      return Response.json(body, { status: 201 });
    }
    if (route === "POST /api/v1/collections/c1/deletions") {
      versions.push({ ...version(3, 207), added: 0, removed: 5 });
      return Response.json({ removed: 5, purged: 0, rewritten: 0, version: 3 });
    }
    return Response.json({ error: { code: "not_found", message: route } }, { status: 404 });
  });
  return { fetch, calls };
}

async function renderPage() {
  const api = fakeApi();
  const session = fakeSession(api.fetch);
  await session.restore();
  renderWithServices(
    <MemoryRouter initialEntries={["/collections/c1/versions"]}>
      <Routes><Route path="/collections/:collectionId/versions" element={<VersionsPage />} /></Routes>
    </MemoryRouter>, session);
  return { ...api, user: userEvent.setup() };
}

describe("VersionsPage", () => {
  it("compares two versions and shows the messages one has and the other lacks, as text", async () => {
    const { calls, user } = await renderPage();
    const compare = await screen.findByRole("region", { name: "Compare two versions" });
    await user.click(within(compare).getByRole("button", { name: "Compare" }));
    expect(await within(compare).findByText(/Version 2 has 5 messages that version 1 lacks, and lacks 0/)).toBeInTheDocument();
    const changed = await within(compare).findByTestId("changed-message");
    expect(changed).toHaveTextContent("Mallory in xss-chat");
    expect(changed).toHaveTextContent("<script>x</script> hello team");
    expect(changed.querySelector("script")).toBeNull();
    expect(calls.find((c) => c.includes("/compare"))).toMatch(/base=1/);
    expect(calls.find((c) => c.includes("/compare"))).toMatch(/other=2/);
  });

  it("keeps the comparison asked for and the tag being typed when the list gets a new version", async () => {
    const { user } = await renderPage();
    const compare = await screen.findByRole("region", { name: "Compare two versions" });
    await user.click(within(compare).getByRole("button", { name: "Compare" }));
    expect(await within(compare).findByTestId("comparison")).toBeInTheDocument();
    const tags = screen.getByRole("region", { name: "Tags" });
    await user.type(within(tags).getByLabelText("Tag name"), "half-typed");
    // A deletion makes version 3: the list is asked again and grows.
    const section = screen.getByRole("region", { name: "Delete messages" });
    await user.type(within(section).getByLabelText("Chat name"), "xss-chat");
    await user.click(within(section).getByRole("button", { name: "Delete…" }));
    await user.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Delete" }));
    expect(await screen.findAllByTestId("version-row")).toHaveLength(3);
    expect(within(compare).getByTestId("comparison")).toHaveTextContent("Version 2 has 5 messages that version 1 lacks");
    expect(within(tags).getByLabelText("Tag name")).toHaveValue("half-typed");
  });

  it("tags a version", async () => {
    const { calls, user } = await renderPage();
    const tags = await screen.findByRole("region", { name: "Tags" });
    expect(await within(tags).findByText("start → version 1")).toBeInTheDocument();
    await user.type(within(tags).getByLabelText("Tag name"), "after-xss");
    await user.click(within(tags).getByRole("button", { name: "Tag" }));
    expect(await within(tags).findByText("after-xss → version 2")).toBeInTheDocument();
    expect(calls).toContain('POST /api/v1/collections/c1/tags {"name":"after-xss","version":2}');
  });

  it("deletes a chat's messages only after a confirmation saying older versions keep them", async () => {
    const { calls, user } = await renderPage();
    const section = await screen.findByRole("region", { name: "Delete messages" });
    // This token may write but not purge: the purge is not offered.
    expect(within(section).queryByLabelText(/purge/)).toBeNull();
    await user.type(within(section).getByLabelText("Chat name"), "xss-chat");
    await user.click(within(section).getByRole("button", { name: "Delete…" }));
    const dialog = await screen.findByRole("dialog");
    expect(dialog).toHaveTextContent("Older versions still hold them");
    expect(calls.some((c) => c.includes("/deletions"))).toBe(false);
    await user.click(within(dialog).getByRole("button", { name: "Delete" }));
    expect(await within(section).findByRole("status")).toHaveTextContent("5 messages removed; the collection is now at version 3");
    expect(calls).toContain('POST /api/v1/collections/c1/deletions {"chat":"xss-chat","purge":false}');
  });
});
