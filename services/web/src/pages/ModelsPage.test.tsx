import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { fakeSession, fakeToken, renderWithServices } from "../test/render";
import ModelsPage from "./ModelsPage";
import PlatformModelsPage from "./PlatformModelsPage";

const OWNER_PERMS = ["collections:read", "answers:create", "secrets:manage", "audit:read"];
const VIEWER_PERMS = ["collections:read", "search:read", "answers:create"];
type Row = { name: string; base_url: string; model: string; secret: string | null; context_length: number; updated_at: string };

/** The gateway's model routes with the state they change (an endpoint list, the defaults). */
function fakeGateway(perms: string[], platformAdmin = false) {
  const calls: { route: string; body: unknown }[] = [];
  let endpoints: Row[] = [];
  let defaults = { answers: null as string | null, summaries: null as string | null };
  let secrets = [{ name: "old-openai", provider: "openai", hint: "…9f2a", updated_at: "2025-06-01T00:00:00Z" }];
  const models = [
    { name: "smollm2-135m", kind: "llm", source: "pkg", gguf_file: "m.gguf", context_length: 2048, dtype: "float32",
      device: "cpu", default: true, workers: [{ worker: "tcp://w1", loaded: true, loads: 1, error: null }] },
    { name: "llama-3.2-1b", kind: "llm", source: "/models/llama", gguf_file: null, context_length: 8192, dtype: "bfloat16",
      device: "cuda", default: false, workers: [{ worker: "tcp://w1", loaded: false, loads: 0, error: null }] },
  ];
  const fetch = vi.fn(async (request: Request) => {
    const { pathname } = new URL(request.url);
    const route = `${request.method} ${pathname}`;
    const body = ["GET", "DELETE"].includes(request.method) ? null : await request.clone().json().catch(() => null);
    calls.push({ route, body });
    if (route === "POST /api/v1/auth/refresh") return Response.json({ access_token: fakeToken(perms), expires_in: 900, token_type: "Bearer" });
    if (route === "GET /api/v1/me") return Response.json({ id: "u1", email: "o@example.com", name: null, platform_admin: platformAdmin,
      org: { id: "o1", name: "Team", role: "owner" } });
    if (route === "GET /api/v1/models/endpoints") return Response.json({ endpoints });
    if (route === "PUT /api/v1/auth/secrets/endpoint-vllm") {
      const stored = { name: "endpoint-vllm", provider: "openai", hint: "…cret", updated_at: "2026-01-01T00:00:00Z" };
      secrets = [...secrets.filter((x) => x.name !== stored.name), stored];
      return Response.json(stored);
    }
    if (route === "GET /api/v1/auth/secrets") return Response.json({ secrets });
    if (route.startsWith("DELETE /api/v1/auth/secrets/")) {
      const name = decodeURIComponent(pathname.split("/").pop()!);
      if (!secrets.some((x) => x.name === name)) return Response.json({ error: { code: "not_found", message: "no such secret" } }, { status: 404 });
      secrets = secrets.filter((x) => x.name !== name);
      return new Response(null, { status: 204 });
    }
    if (route === "PUT /api/v1/models/endpoints/vllm") {
      const row = { name: "vllm", ...(body as object), updated_at: "2026-01-01T00:00:00Z" } as Row;
      endpoints = [row];
      return Response.json(row, { status: 201 });
    }
    if (route === "POST /api/v1/models/endpoints/vllm/test") return Response.json({ ok: true, models: ["llama-3.2-1b"], has_model: true });
    if (route === "DELETE /api/v1/models/endpoints/vllm") {
      if (defaults.answers === "vllm") return Response.json({ error: { code: "model_in_use", message: "vllm is the answers default" } }, { status: 409 });
      endpoints = [];
      return new Response(null, { status: 204 });
    }
    if (route === "GET /v1/models") return Response.json({ object: "list", data: [
      { id: "smollm2-135m", object: "model", created: 0, owned_by: "chatlens" },
      ...endpoints.map((e) => ({ id: e.name, object: "model", created: 0, owned_by: "o1" }))] });
    if (route === "GET /api/v1/models/defaults") return Response.json(defaults);
    if (route === "PUT /api/v1/models/defaults") { defaults = body as typeof defaults; return Response.json(defaults); }
    if (route === "GET /api/v1/models/usage") return Response.json({
      models: [{ model: "smollm2-135m", day: null, requests: 1234, failed: 2, prompt_tokens: 56000, completion_tokens: 7800 }],
      days: [{ model: "smollm2-135m", day: "2026-12-07", requests: 1234, failed: 2, prompt_tokens: 56000, completion_tokens: 7800 }] });
    if (route === "GET /api/v1/admin/models") return Response.json({ default: "smollm2-135m", registry: "models.toml", models });
    if (route === "POST /api/v1/admin/models/llama-3.2-1b/load") {
      models[1].workers[0].loaded = true;
      return Response.json({ default: "smollm2-135m", registry: "models.toml", models });
    }
    return Response.json({ error: { code: "forbidden", message: route } }, { status: 403 });
  });
  return { fetch, calls };
}

async function renderPage(page: React.ReactNode, perms: string[], platformAdmin = false) {
  const gateway = fakeGateway(perms, platformAdmin);
  const session = fakeSession(gateway.fetch);
  await session.restore();
  renderWithServices(<MemoryRouter>{page}</MemoryRouter>, session);
  return { ...gateway, user: userEvent.setup() };
}

describe("ModelsPage", () => {
  it("adds an endpoint whose key goes to the secrets and never comes back, tests and deletes it", async () => {
    const { calls, user } = await renderPage(<ModelsPage />, OWNER_PERMS);
    const form = screen.getByRole("form", { name: "Add an endpoint" });
    await user.type(within(form).getByLabelText(/^Name/), "vllm");
    await user.type(within(form).getByLabelText(/^Base URL/), "http://vllm:8000/v1");
    await user.type(within(form).getByLabelText(/^Model/), "llama-3.2-1b");
    await user.type(within(form).getByLabelText(/^API key/), "sk-secret");
    await user.click(within(form).getByRole("button", { name: "Add endpoint" }));
    const row = await screen.findByTestId("endpoint-row");
    expect(row).toHaveTextContent("vllm");
    expect(row).toHaveTextContent("stored");
    expect(document.body.textContent).not.toContain("sk-secret");
    expect((within(form).getByLabelText(/^API key/) as HTMLInputElement).value).toBe("");
    expect(calls.find((c) => c.route === "PUT /api/v1/auth/secrets/endpoint-vllm")!.body).toEqual({ provider: "openai", value: "sk-secret" });
    // The endpoint before its key: a refused endpoint leaves no key stored.
    expect(calls.findIndex((c) => c.route.startsWith("PUT /api/v1/models/endpoints/")))
      .toBeLessThan(calls.findIndex((c) => c.route.startsWith("PUT /api/v1/auth/secrets/")));
    expect(calls.find((c) => c.route === "PUT /api/v1/models/endpoints/vllm")!.body).toEqual({
      base_url: "http://vllm:8000/v1", model: "llama-3.2-1b", secret: "endpoint-vllm", context_length: 8192 });

    await user.click(within(row).getByRole("button", { name: "Test endpoint vllm" }));
    expect(await screen.findByTestId("endpoint-test")).toHaveTextContent("vllm answered: its model is there");

    await user.click(within(row).getByRole("button", { name: "Delete endpoint vllm" }));
    const dialog = await screen.findByRole("dialog");
    await user.click(within(dialog).getByRole("button", { name: "Delete" }));
    expect(await screen.findByText("No endpoints yet.")).toBeInTheDocument();
  });

  it("chooses the defaults among the platform's models and the endpoints, and shows usage", async () => {
    const { calls, user } = await renderPage(<ModelsPage />, OWNER_PERMS);
    const section = screen.getByRole("region", { name: "Default models" });
    const box = await within(section).findByRole("textbox", { name: "Answers" });
    await user.click(box);
    const listbox = await vi.waitFor(() => document.getElementById(box.getAttribute("aria-controls") ?? "")!);
    // (jsdom runs no transitions: the dropdown stays "hidden" to the accessibility tree there)
    await user.click(await within(listbox).findByRole("option", { name: "smollm2-135m", hidden: true }));
    await user.click(within(section).getByRole("button", { name: "Save defaults" }));
    expect(await within(section).findByRole("status")).toHaveTextContent("Saved.");
    expect(calls.find((c) => c.route === "PUT /api/v1/models/defaults")!.body).toEqual({ answers: "smollm2-135m", summaries: null });
    const rows = await screen.findAllByTestId("usage-row");
    expect(rows[0]).toHaveTextContent("All days");
    expect(rows[1]).toHaveTextContent("2026-12-07smollm2-135m1,2342");
  });

  it("lists the provider secrets by their last characters and deletes one after a confirmation naming its endpoint", async () => {
    const { calls, user } = await renderPage(<ModelsPage />, OWNER_PERMS);
    const section = screen.getByRole("region", { name: "Provider secrets" });
    expect(await within(section).findByTestId("secret-row")).toHaveTextContent("old-openaiopenai…9f2a");
    // An endpoint added with a key: its secret appears in the list.
    const form = screen.getByRole("form", { name: "Add an endpoint" });
    await user.type(within(form).getByLabelText(/^Name/), "vllm");
    await user.type(within(form).getByLabelText(/^Base URL/), "http://vllm:8000/v1");
    await user.type(within(form).getByLabelText(/^Model/), "llama-3.2-1b");
    await user.type(within(form).getByLabelText(/^API key/), "sk-secret");
    await user.click(within(form).getByRole("button", { name: "Add endpoint" }));
    await vi.waitFor(() => expect(within(section).getAllByTestId("secret-row")).toHaveLength(2));

    await user.click(within(section).getByRole("button", { name: "Delete secret endpoint-vllm" }));
    const dialog = await screen.findByRole("dialog", { name: "Delete this secret?" });
    expect(dialog).toHaveTextContent("The endpoint vllm will call its provider without a key");
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(calls.some((c) => c.route.startsWith("DELETE /api/v1/auth/secrets/"))).toBe(false);

    await user.click(within(section).getByRole("button", { name: "Delete secret old-openai" }));
    const second = await screen.findByRole("dialog", { name: "Delete this secret?" });
    expect(second).toHaveTextContent("No endpoint uses it.");
    await user.click(within(second).getByRole("button", { name: "Delete secret" }));
    await vi.waitFor(() => expect(within(section).getAllByTestId("secret-row")).toHaveLength(1));
    expect(within(section).getByTestId("secret-row")).toHaveTextContent("endpoint-vllm");
    expect(calls.filter((c) => c.route.startsWith("DELETE /api/v1/auth/secrets/")).map((c) => c.route))
      .toEqual(["DELETE /api/v1/auth/secrets/old-openai"]);
  });

  it("offers a viewer nothing to manage", async () => {
    const { calls } = await renderPage(<ModelsPage />, VIEWER_PERMS);
    expect(screen.getByRole("status")).toHaveTextContent("Only the organisation's owners and admins");
    expect(screen.queryByRole("form", { name: "Add an endpoint" })).toBeNull();
    expect(calls.some((c) => c.route.includes("/models/") || c.route.includes("/secrets"))).toBe(false);
    expect(screen.queryByRole("region", { name: "Provider secrets" })).toBeNull();
  });
});

describe("PlatformModelsPage", () => {
  it("lets a platform administrator load a model on the workers", async () => {
    const { calls, user } = await renderPage(<PlatformModelsPage />, OWNER_PERMS, true);
    const rows = await screen.findAllByTestId("platform-model-row");
    expect(rows[0]).toHaveTextContent("smollm2-135m default");
    expect(rows[1]).toHaveTextContent("0 of 1 workers");
    await user.click(within(rows[1]).getByRole("button", { name: "Load llama-3.2-1b" }));
    await vi.waitFor(() => expect(screen.getAllByTestId("platform-model-row")[1]).toHaveTextContent("1 of 1 workers"));
    expect(calls.some((c) => c.route === "POST /api/v1/admin/models/llama-3.2-1b/load")).toBe(true);
  });

  it("tells an org owner who is no platform administrator that it is not theirs", async () => {
    const { calls } = await renderPage(<PlatformModelsPage />, OWNER_PERMS, false);
    expect(await screen.findByRole("status")).toHaveTextContent("for platform administrators");
    expect(calls.some((c) => c.route.startsWith("GET /api/v1/admin"))).toBe(false);
  });
});
