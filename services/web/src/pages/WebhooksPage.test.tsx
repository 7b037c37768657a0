import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { fakeSession, fakeToken, renderWithServices } from "../test/render";
import AdminPage from "./AdminPage";
import WebhooksPage from "./WebhooksPage";

const OWNER_PERMS = ["collections:read", "collections:write", "members:read", "members:manage", "secrets:manage", "webhooks:manage", "audit:read"];
const ANALYST_PERMS = ["collections:read", "collections:write", "uploads:create", "members:read"];
const AT = "2026-12-01T10:00:00Z";
const BASE = "/api/v1/collections/c2/webhooks";

type Hook = { id: string; collection_id: string; url: string; events: string[]; description: string; active: boolean;
  created_at: string; updated_at: string };
type Delivery = { id: string; webhook_id: string; event: string; status: "pending" | "delivered" | "dead"; attempts: number;
  next_attempt_at: string | null; last_status_code: number | null; last_error: string | null; created_at: string;
  finished_at: string | null };

/** The gateway's webhook routes over a little state, recording each call. */
function fakeGateway(perms: string[], role = "owner") {
  const calls: string[] = [];
  let hooks: Hook[] = [];
  const deliveries: Delivery[] = [{ id: "dlv_old", webhook_id: "wh1", event: "job.succeeded", status: "dead", attempts: 12,
    next_attempt_at: null, last_status_code: 503, last_error: null, created_at: AT, finished_at: AT }];
  let secrets = 0;
  // While set, the delivery log is answered only once it resolves (a refresh in flight).
  const control = { hold: null as Promise<void> | null };
  const fetch = vi.fn(async (request: Request) => {
    const { pathname, search } = new URL(request.url);
    const route = `${request.method} ${pathname}`;
    const body = ["GET", "DELETE"].includes(request.method) ? "" : await request.clone().text();
    calls.push(`${route}${search}${body ? " " + body : ""}`);
    if (route === "POST /api/v1/auth/refresh") return Response.json({ access_token: fakeToken(perms), expires_in: 900, token_type: "Bearer" });
    if (route === "GET /api/v1/me") return Response.json({ id: "u1", email: "o@example.com", name: null, platform_admin: false,
      org: { id: "o1", name: "Team", role } });
    if (route === "GET /api/v1/auth/members") return Response.json({ members: [] });
    if (route === "GET /api/v1/auth/invitations") return Response.json({ invitations: [] });
    if (route === "GET /api/v1/auth/audit") return Response.json({ events: [], next_before: null });
    if (route === "GET /api/v1/collections") return Response.json({ collections: [
      { id: "c1", name: "Family", description: "", version: 1, created_at: AT },
      { id: "c2", name: "Team chats", description: "", version: 4, created_at: AT }] });
    if (route === `GET ${BASE}`) return Response.json({ webhooks: hooks });
    if (route === `POST ${BASE}`) {
      const asked = JSON.parse(body) as { url: string; events: string[] };
      if (asked.url.startsWith("http://10.")) {
        return Response.json({ error: { code: "webhook_url_refused", message: "the host '10.0.0.1' resolves to a non-public address" } },
          { status: 422 });
      }
      const hook = { id: "wh1", collection_id: "c2", description: "", active: true, created_at: AT, updated_at: AT, ...asked };
      hooks = [hook];
      return Response.json({ ...hook, secret: `whsec_first_${++secrets}` }, { status: 201 });
    }
    if (route === `POST ${BASE}/wh1/rotate-secret`) return Response.json({ ...hooks[0], secret: `whsec_rotated_${++secrets}` });
    if (route === `POST ${BASE}/wh1/ping`) {
      const ping: Delivery = { id: "dlv_ping", webhook_id: "wh1", event: "ping", status: "pending", attempts: 0,
        next_attempt_at: AT, last_status_code: null, last_error: null, created_at: AT, finished_at: null };
      deliveries.unshift(ping);
      return Response.json(ping, { status: 202 });
    }
    if (route === `GET ${BASE}/wh1/deliveries`) {
      if (control.hold) await control.hold;
      return Response.json({ deliveries });
    }
    if (route === `GET ${BASE}/wh1/deliveries/dlv_old`) {
      return Response.json({ ...deliveries.find((d) => d.id === "dlv_old"), body: '{"type":"job.succeeded"}',
        attempt_log: [{ number: 1, at: AT, status_code: 503, error: null, duration_ms: 42 }] });
    }
    if (route === `POST ${BASE}/wh1/deliveries/dlv_old/redeliver`) {
      const old = deliveries.find((d) => d.id === "dlv_old")!;
      Object.assign(old, { status: "pending", attempts: 0, finished_at: null });
      return Response.json(old, { status: 202 });
    }
    if (route === `DELETE ${BASE}/wh1`) { hooks = []; return new Response(null, { status: 204 }); }
    return Response.json({ error: { code: "forbidden", message: route } }, { status: 403 });
  });
  return { fetch, calls, control };
}

async function renderPage(ui: React.ReactNode, perms: string[], entry: string, role = "owner") {
  const gateway = fakeGateway(perms, role);
  const session = fakeSession(gateway.fetch);
  await session.restore();
  renderWithServices(<MemoryRouter initialEntries={[entry]}>{ui}</MemoryRouter>, session);
  return { ...gateway, user: userEvent.setup() };
}

describe("WebhooksPage", () => {
  it("adds a webhook with its events and shows the signing secret once; a refused URL says why", async () => {
    const { calls, user } = await renderPage(<WebhooksPage />, OWNER_PERMS, "/organisation/webhooks?collection=c2");
    expect(await screen.findByText("No webhooks on this collection yet.")).toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: "Collection" })).toHaveValue("Team chats");
    // The page's title says "Webhooks"; the section under it says what it holds.
    expect(screen.getAllByRole("heading", { name: "Webhooks" })).toHaveLength(1);
    expect(screen.getByRole("region", { name: "Where the events of Team chats go" })).toBeInTheDocument();

    await user.type(screen.getByLabelText(/Payload URL/), "http://10.0.0.1/hook");
    await user.click(screen.getByRole("button", { name: "Add webhook" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("resolves to a non-public address");

    await user.clear(screen.getByLabelText(/Payload URL/));
    await user.type(screen.getByLabelText(/Payload URL/), "https://hooks.example.com/in");
    await user.click(screen.getByRole("checkbox", { name: /^version.created/ }));
    await user.click(screen.getByRole("checkbox", { name: /^job.failed/ }));
    await user.click(screen.getByRole("button", { name: "Add webhook" }));
    expect(await screen.findByTestId("webhook-secret")).toHaveTextContent("whsec_first_1");
    expect(calls).toContain(`POST ${BASE} {"url":"https://hooks.example.com/in","events":["job.succeeded","job.failed"]}`);
    const row = await screen.findByTestId("webhook-row");
    expect(row).toHaveTextContent("https://hooks.example.com/in");
    expect(row).toHaveTextContent("job.succeeded, job.failed");
    await user.click(screen.getByRole("button", { name: "I have saved it" }));
    expect(screen.queryByTestId("webhook-secret")).toBeNull();
  });

  it("rotates the secret and deletes only after a confirmation", async () => {
    const { calls, user } = await renderPage(<WebhooksPage />, OWNER_PERMS, "/organisation/webhooks?collection=c2");
    await user.type(await screen.findByLabelText(/Payload URL/), "https://hooks.example.com/in");
    await user.click(screen.getByRole("button", { name: "Add webhook" }));
    await user.click(await screen.findByRole("button", { name: "I have saved it" }));

    await user.click(screen.getByRole("button", { name: "Rotate secret of https://hooks.example.com/in" }));
    const rotateDialog = await screen.findByRole("dialog");
    expect(rotateDialog).toHaveTextContent("retries included");
    expect(calls.filter((c) => c.includes("rotate-secret"))).toEqual([]);
    await user.click(within(rotateDialog).getByRole("button", { name: "Rotate secret" }));
    expect(await screen.findByTestId("webhook-secret")).toHaveTextContent("whsec_rotated_2");

    await user.click(screen.getByRole("button", { name: "Delete the webhook to https://hooks.example.com/in" }));
    const deleteDialog = await screen.findByRole("dialog", { name: "Delete this webhook?" });
    expect(deleteDialog).toHaveTextContent("Its delivery log goes with it");
    await user.click(within(deleteDialog).getByRole("button", { name: "Cancel" }));
    expect(calls.some((c) => c.startsWith("DELETE"))).toBe(false);
    await user.click(screen.getByRole("button", { name: "Delete the webhook to https://hooks.example.com/in" }));
    await user.click(within(await screen.findByRole("dialog", { name: "Delete this webhook?" }))
      .getByRole("button", { name: "Delete webhook" }));
    expect(await screen.findByText("No webhooks on this collection yet.")).toBeInTheDocument();
    expect(calls).toContain(`DELETE ${BASE}/wh1`);
  });

  it("pings, lists the deliveries with their attempts, and redelivers a finished one", async () => {
    const { calls, control, user } = await renderPage(<WebhooksPage />, OWNER_PERMS, "/organisation/webhooks?collection=c2");
    await user.type(await screen.findByLabelText(/Payload URL/), "https://hooks.example.com/in");
    await user.click(screen.getByRole("button", { name: "Add webhook" }));
    await user.click(await screen.findByRole("button", { name: "Ping https://hooks.example.com/in" }));
    const log = await screen.findByRole("region", { name: "Deliveries to https://hooks.example.com/in" });
    const rows = await within(log).findAllByTestId("delivery-row");
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent("ping");
    expect(rows[0]).toHaveTextContent("pending");
    expect(rows[0]).toHaveTextContent("not tried yet");
    // A delivery still being tried is not offered again; a dead one is.
    expect(within(rows[0]).queryByRole("button", { name: /^Redeliver/ })).toBeNull();
    expect(rows[1]).toHaveTextContent("dead");
    expect(rows[1]).toHaveTextContent("12");
    expect(rows[1]).toHaveTextContent("HTTP 503");

    await user.click(within(rows[1]).getByRole("button", { name: "Attempts of delivery dlv_old" }));
    const attempts = await screen.findByTestId("attempt-log");
    expect(attempts).toHaveTextContent("HTTP 503");
    expect(attempts).toHaveTextContent("42 ms");
    await user.keyboard("{Escape}");

    // Refreshing keeps the button's label (with a spinner beside it) until the log is back.
    let release = () => {};
    control.hold = new Promise((resolve) => { release = resolve; });
    const refresh = within(log).getByRole("button", { name: "Refresh" });
    await user.click(refresh);
    await vi.waitFor(() => expect(refresh).toHaveAttribute("aria-busy", "true"));
    expect(refresh).toHaveTextContent("Refresh");
    expect(refresh).not.toHaveAttribute("data-loading");
    release();
    control.hold = null;
    await vi.waitFor(() => expect(refresh).toHaveAttribute("aria-busy", "false"));

    await user.click(within(rows[1]).getByRole("button", { name: "Redeliver dlv_old" }));
    await vi.waitFor(() => expect(calls).toContain(`POST ${BASE}/wh1/deliveries/dlv_old/redeliver`));
    await vi.waitFor(() => expect(within(log).getAllByTestId("delivery-row")[1]).toHaveTextContent("pending"));
  });

  it("offers an analyst no webhooks, from the organisation page or by URL, and asks for none", async () => {
    const { calls } = await renderPage(<WebhooksPage />, ANALYST_PERMS, "/organisation/webhooks", "analyst");
    expect(await screen.findByRole("status")).toHaveTextContent("Only the organisation's owners and admins manage webhooks.");
    expect(screen.queryByRole("region", { name: /^Where the events of/ })).toBeNull();
    expect(calls.filter((c) => c.includes("webhooks"))).toEqual([]);
  });

  it("is linked from the organisation page for those who may manage it, and only them", async () => {
    await renderPage(<AdminPage />, OWNER_PERMS, "/organisation");
    expect(await screen.findByRole("link", { name: "Webhooks" })).toHaveAttribute("href", "/organisation/webhooks");
  });

  it("is not linked for an analyst", async () => {
    await renderPage(<AdminPage />, ANALYST_PERMS, "/organisation", "analyst");
    await screen.findByTestId("my-role");
    expect(screen.queryByRole("link", { name: "Webhooks" })).toBeNull();
  });

  it("needs webhooks:manage itself: managing provider secrets is not enough", async () => {
    const perms = OWNER_PERMS.filter((p) => p !== "webhooks:manage");
    const { calls } = await renderPage(<WebhooksPage />, perms, "/organisation/webhooks", "admin");
    expect(await screen.findByRole("status")).toHaveTextContent("Only the organisation's owners and admins manage webhooks.");
    expect(calls.filter((c) => c.includes("webhooks"))).toEqual([]);
  });
});
