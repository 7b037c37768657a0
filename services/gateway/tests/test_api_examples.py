"""The OpenAPI document's examples are valid instances of the schemas they illustrate, and the
operations a newcomer tries first (sign-in, tokens, search, ask, upload) carry one."""

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from chatlens.gateway.api.examples import EXAMPLES


@pytest.fixture
def database_url(tmp_path):  # the document touches no database
    return f"sqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").json


def validator(document, name):
    """A JSON Schema 2020-12 validator (OpenAPI 3.1's dialect) of one component schema."""
    registry = Registry().with_resource(
        "urn:chatlens",
        Resource.from_contents(
            {"$schema": "https://json-schema.org/draft/2020-12/schema", **document}
        ),
    )
    return Draft202012Validator(
        {"$ref": f"urn:chatlens#/components/schemas/{name}"}, registry=registry
    )


def test_every_example_names_a_schema_and_is_valid_against_it(document):
    schemas = document["components"]["schemas"]
    assert set(EXAMPLES) <= set(schemas), sorted(set(EXAMPLES) - set(schemas))
    for name in EXAMPLES:
        [example] = schemas[name]["examples"]
        errors = [
            f"{list(e.absolute_path)}: {e.message}"
            for e in validator(document, name).iter_errors(example)
        ]
        assert not errors, (name, errors)


def test_an_invalid_example_would_be_caught(document):
    assert list(validator(document, "AuthTokenPair").iter_errors({"access_token": 1}))
    assert list(validator(document, "SearchRequest").iter_errors({"query": "x", "k": 0}))


@pytest.mark.parametrize(
    "path, method, status",
    [
        ("/api/v1/auth/login", "post", None),
        ("/api/v1/auth/login", "post", "200"),
        ("/api/v1/auth/register", "post", None),
        ("/api/v1/auth/refresh", "post", "200"),
        ("/api/v1/auth/api-keys", "post", "201"),
        ("/api/v1/collections", "post", None),
        ("/api/v1/collections/{collection_id}/search", "post", None),
        ("/api/v1/collections/{collection_id}/ask", "post", None),
    ],
)
def test_the_first_operations_a_newcomer_tries_show_an_example(document, path, method, status):
    operation = document["paths"][path][method]
    content = (operation["requestBody"] if status is None else operation["responses"][status])[
        "content"
    ]["application/json"]
    ref = content["schema"]["$ref"].rsplit("/", 1)[-1]
    assert document["components"]["schemas"][ref].get("examples"), (path, status, ref)
