import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { fakeSession, fakeToken, renderWithServices } from "../test/render";
import AdminPage from "./AdminPage";

const ADMIN_PERMS = ["collections:read", "search:read", "members:read", "members:manage", "audit:read", "keys:manage"];
const VIEWER_PERMS = ["collections:read", "search:read", "answers:create", "members:read", "keys:manage"];

const MEMBERS = [
  { id: "u1", email: "ana@example.com", name: "Ana", role: "admin", joined_at: "2025-01-01T00:00:00Z" },
  { id: "u2", email: "olga@example.com", name: "Olga", role: "owner", joined_at: "2025-01-01T00:00:00Z" },
  { id: "u3", email: "vic@example.com", name: null, role: "viewer", joined_at: "2025-02-01T00:00:00Z" },
];

function fakeAuth(role: string, perms: string[]) {
  const calls: string[] = [];
  const fetch = vi.fn(async (request: Request) => {
    const { pathname } = new URL(request.url);
    const route = `${request.method} ${pathname}`;
    calls.push(route + (request.method === "GET" || request.method === "DELETE" ? "" : " " + await request.clone().text()));
    if (route === "POST /api/v1/auth/refresh") return Response.json({ access_token: fakeToken(perms), expires_in: 900, token_type: "Bearer" });
    if (route === "GET /api/v1/me") return Response.json({ id: "u1", email: "ana@example.com", name: "Ana", platform_admin: false,
      org: { id: "o1", name: "Team", role } });
    if (route === "GET /api/v1/auth/members") return Response.json({ members: MEMBERS });
    if (route === "PATCH /api/v1/auth/members/u3") return Response.json({ ...MEMBERS[2], role: "analyst" });
    if (route === "GET /api/v1/auth/invitations") return Response.json({ invitations: [] });
    if (route === "GET /api/v1/quotas") {
      return Response.json({ uploads: { limit: 2000, used: 12, remaining: 1988, resets_in_s: 3 * 3600 + 1200 },
        tokens: { limit: 2000000, used: 1900000, remaining: 100000, resets_in_s: 600 } });
    }
    if (route === "POST /api/v1/auth/invitations") {
      return Response.json({ id: "i1", email: "new@example.com", role: "viewer", token: "inv_once",
        created_at: "2025-03-01T00:00:00Z", expires_at: "2025-03-08T00:00:00Z" }, { status: 201 });
    }
    if (route === "GET /api/v1/auth/audit") {
      return Response.json({ next_before: null, events: [{ id: 7, event: "role.changed", at: "2025-03-01T10:00:00Z",
        actor_id: "u1", target: "u3", details: { role: "analyst" }, address: "127.0.0.1", user_agent: null,
        correlation_id: null, org_id: "o1" }] });
    }
    return Response.json({ error: { code: "forbidden", message: route } }, { status: 403 });
  });
  return { fetch, calls };
}

async function renderAs(role: string, perms: string[]) {
  const auth = fakeAuth(role, perms);
  const session = fakeSession(auth.fetch);
  await session.restore();
  renderWithServices(<MemoryRouter><AdminPage /></MemoryRouter>, session);
  return { ...auth, user: userEvent.setup() };
}

describe("AdminPage", () => {
  it("lets an admin change roles it may hand out, invite with a token shown once, and read the audit log", async () => {
    const { calls, user } = await renderAs("admin", ADMIN_PERMS);
    const rows = await screen.findAllByTestId("member-row");
    // Not themselves, and not an owner: only an owner changes an owner.
    expect(within(rows[0]).queryByRole("textbox")).toBeNull();
    expect(within(rows[1]).queryByRole("button", { name: /Remove/ })).toBeNull();
    const roleBox = within(rows[2]).getByRole("textbox", { name: "Role of vic@example.com" });
    await user.click(roleBox);
    const listbox = await vi.waitFor(() => document.getElementById(roleBox.getAttribute("aria-controls") ?? "")!);
    // (jsdom runs no transitions: the dropdown stays "hidden" to the accessibility tree there)
    const analyst = await within(listbox).findByRole("option", { name: /^Analyst/, hidden: true });
    expect(within(listbox).queryByRole("option", { name: "Owner", hidden: true })).toBeNull();
    await user.click(analyst);
    // Nothing changes before a confirmation that says every session of theirs ends.
    let dialog = await screen.findByRole("dialog", { name: "Change the role of vic@example.com?" });
    expect(dialog).toHaveTextContent("from Viewer (reads, searches, asks) to Analyst (uploads, changes)");
    expect(dialog).toHaveTextContent("every session of theirs ends at once, on every device and in every organisation");
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(calls.some((c) => c.startsWith("PATCH"))).toBe(false);
    expect(roleBox).toHaveValue("Viewer (reads, searches, asks)");
    await user.click(roleBox);
    await user.click(await within(listbox).findByRole("option", { name: /^Analyst/, hidden: true }));
    dialog = await screen.findByRole("dialog", { name: "Change the role of vic@example.com?" });
    await user.click(within(dialog).getByRole("button", { name: "Change role" }));
    await vi.waitFor(() => expect(calls).toContain('PATCH /api/v1/auth/members/u3 {"role":"analyst"}'));

    await user.type(screen.getByLabelText("Invite by e-mail"), "new@example.com");
    await user.click(screen.getByRole("button", { name: "Invite" }));
    expect(await screen.findByTestId("invitation-token")).toHaveTextContent("inv_once");
    expect(calls).toContain('POST /api/v1/auth/invitations {"email":"new@example.com","role":"viewer"}');
    expect(await screen.findByText("role.changed")).toBeInTheDocument();
  });

  it("shows an analyst how much of the daily quotas is left and when each renews", async () => {
    const { calls } = await renderAs("analyst", [...VIEWER_PERMS, "collections:write", "uploads:create"]);
    const quotas = await screen.findAllByTestId("quota");
    expect(quotas[0]).toHaveTextContent("Files uploaded");
    expect(quotas[0]).toHaveTextContent(/12 of 2,000 used today, 1,988 left; renews in 3 h 20 min/);
    expect(quotas[1]).toHaveTextContent("Tokens generated");
    expect(quotas[1]).toHaveTextContent(/1,900,000 of 2,000,000 used today, 100,000 left; renews in 10 min/);
    expect(calls).toContain("GET /api/v1/quotas");
  });

  it("offers a viewer the member list and nothing to manage", async () => {
    const { calls } = await renderAs("viewer", VIEWER_PERMS);
    expect(await screen.findAllByTestId("member-row")).toHaveLength(3);
    expect(screen.getByTestId("my-role")).toHaveTextContent("viewer");
    expect(screen.queryByRole("textbox", { name: /^Role of/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /Remove/ })).toBeNull();
    expect(screen.queryByRole("region", { name: "Invitations" })).toBeNull();
    expect(screen.queryByRole("region", { name: "Audit log" })).toBeNull();
    expect(calls.filter((c) => c.includes("invitations") || c.includes("audit") || c.includes("quotas"))).toEqual([]);
    expect(screen.queryByRole("region", { name: "Daily quotas" })).toBeNull();
  });
});
