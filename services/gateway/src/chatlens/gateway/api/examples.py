"""Examples in the OpenAPI document: what a request and its answer look like, tokens included.

Swagger UI shows them as the body to try and the answer to expect, and the web app's generated
client carries them as documentation. They are added to the component schemas by name once the
document is built (``docs._Spec``); ``tests/test_api_examples.py`` validates every one against
its schema, so an example cannot drift from the model it illustrates.
"""

from __future__ import annotations

from typing import Any

# Shaped like the real thing (an RS256 JWT's three parts, auth's refresh and API-key prefixes),
# and obviously not one: nothing here signs in anywhere.
ACCESS_TOKEN = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImV4YW1wbGUiLCJ0eXAiOiJKV1QifQ."
    "eyJzdWIiOiJ1c3JfN2YzYSIsIm9yZyI6Im9yZ18yYjFjIiwidHlwIjoiYWNjZXNzIn0."
    "ZXhhbXBsZS1zaWduYXR1cmU"
)
REFRESH_TOKEN = "rt_8kQ2cW5y0ZpXgH3vTn1aLr7uBs4eDf6j"
API_KEY = "clk_b3f1c9d2e7a84f60a5c1d8e2f4b7a903"
WHEN = "2025-02-14T11:15:00Z"
COLLECTION = "c7e4a1b2d3f94c5e8a6b0d1f2e3a4b5c"
MESSAGE = "wa-3f2a9c1e7b5d4a60"

EXAMPLES: dict[str, dict[str, Any]] = {
    # --- auth (relayed) ----------------------------------------------------------------------
    "AuthRegisterRequest": {
        "email": "ana@example.com",
        "password": "correct horse battery staple",
        "name": "Ana",
    },
    "AuthLoginRequest": {"email": "ana@example.com", "password": "correct horse battery staple"},
    "AuthTokenPair": {
        "access_token": ACCESS_TOKEN,
        "refresh_token": REFRESH_TOKEN,
        "token_type": "Bearer",
        "expires_in": 900,
    },
    "AuthRefreshRequest": {"refresh_token": REFRESH_TOKEN},
    "AuthLogoutRequest": {"refresh_token": REFRESH_TOKEN},
    "AuthSwitchOrgRequest": {"refresh_token": REFRESH_TOKEN, "org_id": "org_2b1c"},
    "AuthApiKeyRequest": {
        "name": "nightly export",
        "scopes": ["search:read"],
        "expires_in_days": 90,
    },
    "AuthApiKeyCreated": {
        "id": "key_5d1e",
        "name": "nightly export",
        "user_id": "usr_7f3a",
        "scopes": ["search:read"],
        "created_at": WHEN,
        "expires_at": "2025-05-15T11:15:00Z",
        "last_used_at": None,
        "revoked": False,
        "key": API_KEY,
    },
    "AuthInvitationRequest": {"email": "bruno@example.com", "role": "analyst"},
    # --- collections, uploads, jobs ------------------------------------------------------------
    "CollectionCreate": {"name": "Team Lisbon", "description": "The team's WhatsApp group"},
    "CollectionOut": {
        "id": COLLECTION,
        "name": "Team Lisbon",
        "description": "The team's WhatsApp group",
        "version": 3,
        "created_at": WHEN,
    },
    "JobOut": {
        "id": "job_91ab",
        "collection_id": COLLECTION,
        "filename": "WhatsApp Chat with Team Lisbon.txt",
        "status": "running",
        "progress": {"stage": "embedding", "done": 120, "total": 207},
        "stats": None,
        "error": None,
        "version": None,
        "created_at": WHEN,
        "updated_at": WHEN,
    },
    # --- webhooks --------------------------------------------------------------------------------
    "WebhookCreate": {
        "url": "https://hooks.example.com/chatlens",
        "events": ["job.succeeded", "job.failed", "version.created"],
        "description": "notify the data team",
    },
    "WebhookWithSecret": {
        "id": "wh_4c2d",
        "collection_id": COLLECTION,
        "url": "https://hooks.example.com/chatlens",
        "events": ["job.failed", "job.succeeded", "version.created"],
        "description": "notify the data team",
        "active": True,
        "created_at": WHEN,
        "updated_at": WHEN,
        "secret": "whsec_Q2hhdGxlbnMtZXhhbXBsZS1zZWNyZXQtbm90LXJlYWw",
    },
    "WebhookDeliveryDetail": {
        "id": "dlv_7a1f",
        "webhook_id": "wh_4c2d",
        "event": "job.succeeded",
        "status": "delivered",
        "attempts": 2,
        "next_attempt_at": None,
        "last_status_code": 200,
        "last_error": None,
        "created_at": WHEN,
        "finished_at": "2025-02-14T11:15:12Z",
        "body": '{"id":"dlv_7a1f","type":"job.succeeded","created_at":"2025-02-14T11:15:00Z",'
        '"org_id":"org_2b1c","collection_id":"' + COLLECTION + '","webhook_id":'
        '"wh_4c2d","data":{"id":"job_91ab","status":"succeeded","version":4}}',
        "attempt_log": [
            {"number": 1, "at": WHEN, "status_code": 503, "error": "HTTP 503", "duration_ms": 41},
            {
                "number": 2,
                "at": "2025-02-14T11:15:12Z",
                "status_code": 200,
                "error": None,
                "duration_ms": 38,
            },
        ],
    },
    # --- search and answers --------------------------------------------------------------------
    "SearchRequest": {"query": "venue from:marta after:2025-02-01", "mode": "hybrid", "k": 10},
    "SearchFiltersIn": {
        "platform": "whatsapp",
        "sender": ["Marta", "Jonas"],
        "since": "2025-02-01",
        "until": "2025-03-01",
    },
    "SearchResult": {
        "message_id": MESSAGE,
        "platform": "whatsapp",
        "chat": "Team Lisbon",
        "sender": "Marta",
        "sent_at": WHEN,
        "text": "Booked the venue in Lisbon for the offsite, 12 to 14 March",
        "score": 0.0325,
        "semantic_score": 0.71,
        "keyword_score": 7.4,
        "highlights": [[11, 16]],
        "highlighted": "Booked the <mark>venue</mark> in Lisbon for the offsite, 12 to 14 March",
        "context": [],
    },
    "AskRequest": {"question": "Where is the team offsite?", "k": 8},
    "Citation": {
        "n": 1,
        "message_id": MESSAGE,
        "sender": "Marta",
        "sent_at": WHEN,
        "text": "Booked the venue in Lisbon for the offsite, 12 to 14 March",
        "chat": "Team Lisbon",
    },
    "SummaryRequest": {"chat": "Team Lisbon", "since": "2025-02-01", "until": "2025-03-01"},
    "TagCreate": {"name": "before-cleanup", "version": 3},
    "DeletionIn": {"sender": "Tom", "purge": False},
    "Error": {"error": {"code": "collection_not_found", "message": "no such collection"}},
}


def add_to(document: dict[str, Any]) -> dict[str, Any]:
    """Put each example on its component schema (where the document has that schema)."""
    schemas = document.get("components", {}).get("schemas", {})
    for name, example in EXAMPLES.items():
        if name in schemas:
            schemas[name]["examples"] = [example]
    return document
