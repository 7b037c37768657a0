"""Opening a message (a citation or a hit): the whole message and its neighbours, in the org."""

from __future__ import annotations

import pytest

from chatlens.shared import schemas
from chatlens.shared.bus import PermanentError

from .test_search import MESSAGE, FakeServices, create_collection, set_version


@pytest.fixture
def services(amqp_url):
    started = []
    yield lambda index: started.append(FakeServices(amqp_url, index)) or started[-1]
    for fake in started:
        fake.stop()


NEIGHBOUR = MESSAGE.model_copy(update={"message_id": "m0", "text": "earlier", "seq": 0})


def index(request):
    if not isinstance(request, schemas.MessageRequested):
        raise PermanentError("unexpected")
    if request.version not in (None, 2):
        raise PermanentError("no such version", code="version_not_found")
    if request.message_id != "m1":
        raise PermanentError(f"no message {request.message_id!r}", code="message_not_found")
    return schemas.MessageFound(version=2, message=MESSAGE, before=[NEIGHBOUR], after=[])


def test_a_message_opens_whole_with_its_neighbours(app, client, auth, services):
    headers = auth()
    collection_id = create_collection(client, headers)
    set_version(app, collection_id, 2)
    fake = services(index)
    response = client.get(
        f"/api/v1/collections/{collection_id}/messages/m1?context=3", headers=headers
    )
    assert response.status_code == 200, response.json
    assert response.json["message"]["message_id"] == "m1"
    assert response.json["message"]["source_file"] == "a.txt"  # the whole normalised message
    assert [m["text"] for m in response.json["before"]] == ["earlier"]
    assert response.json["version"] == 2
    [asked] = fake.of(schemas.MessageRequested)
    assert (asked.org_id, asked.collection_id, asked.context) == ("org-a", collection_id, 3)
    pinned = client.get(
        f"/api/v1/collections/{collection_id}/messages/m1?version=2", headers=headers
    )
    assert pinned.status_code == 200 and fake.of(schemas.MessageRequested)[-1].version == 2


@pytest.mark.parametrize(
    "path, status, code",
    [
        ("messages/nope", 404, "message_not_found"),
        ("messages/m1?version=7", 404, "version_not_found"),
        ("messages/m1?context=51", 422, "validation_error"),
        ("messages/m1?context=-1", 422, "validation_error"),
        ("messages/m1?colour=red", 422, "validation_error"),
    ],
)
def test_bad_requests_get_a_code(app, client, auth, services, path, status, code):
    headers = auth()
    collection_id = create_collection(client, headers)
    set_version(app, collection_id, 2)
    services(index)
    response = client.get(f"/api/v1/collections/{collection_id}/{path}", headers=headers)
    assert (response.status_code, response.json["error"]["code"]) == (status, code)


def test_another_orgs_collection_or_an_empty_one_is_a_404(app, client, auth, services):
    fake = services(index)
    owner = auth()
    collection_id = create_collection(client, owner)
    set_version(app, collection_id, 2)
    other = auth(org="org-b")
    response = client.get(f"/api/v1/collections/{collection_id}/messages/m1", headers=other)
    assert (response.status_code, response.json["error"]["code"]) == (404, "collection_not_found")
    empty = create_collection(client, owner)
    response = client.get(f"/api/v1/collections/{empty}/messages/m1", headers=owner)
    assert (response.status_code, response.json["error"]["code"]) == (404, "message_not_found")
    assert fake.of(schemas.MessageRequested) == []
