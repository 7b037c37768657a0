"""The OpenAPI document's schema names are the models' own: no module hashes for the web app's
generated client, one schema per model, and no two models silently sharing a name."""

import pytest

from chatlens.gateway.api import schema_names


@pytest.fixture
def database_url(tmp_path):  # the document touches no database
    return f"sqlite:///{tmp_path / 'gateway.db'}"


def _document(schemas, ref):
    return {
        "paths": {
            "/x": {
                "get": {
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": f"#/components/schemas/{ref}"}
                                }
                            }
                        }
                    }
                }
            }
        },
        "components": {"schemas": schemas},
    }


def _citation(extra=None):
    return {"type": "object", "properties": {"text": {"type": "string"}, **(extra or {})}}


def test_hashes_go_and_one_nested_model_under_two_parents_becomes_one_schema():
    document = _document(
        {
            "AnswerOut.4ac12ce": {
                "properties": {
                    "citations": {
                        "items": {"$ref": "#/components/schemas/AnswerOut.4ac12ce.Citation"}
                    }
                }
            },
            "AnswerOut.4ac12ce.Citation": _citation(),
            "SummaryOut.4ac12ce": {
                "properties": {
                    "citations": {
                        "items": {"$ref": "#/components/schemas/SummaryOut.4ac12ce.Citation"}
                    }
                }
            },
            "SummaryOut.4ac12ce.Citation": _citation(),
        },
        "AnswerOut.4ac12ce",
    )
    schema_names.readable(document)
    assert sorted(document["components"]["schemas"]) == ["AnswerOut", "Citation", "SummaryOut"]
    ok = document["paths"]["/x"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"]["$ref"] == "#/components/schemas/AnswerOut"
    answer = document["components"]["schemas"]["AnswerOut"]
    assert answer["properties"]["citations"]["items"]["$ref"] == "#/components/schemas/Citation"


def test_nested_models_that_differ_keep_their_parents_name():
    document = _document(
        {
            "AnswerOut.4ac12ce": {
                "properties": {"c": {"$ref": "#/components/schemas/AnswerOut.4ac12ce.Citation"}}
            },
            "AnswerOut.4ac12ce.Citation": _citation(),
            "SummaryOut.4ac12ce": {
                "properties": {"c": {"$ref": "#/components/schemas/SummaryOut.4ac12ce.Citation"}}
            },
            "SummaryOut.4ac12ce.Citation": _citation({"chat": {"type": "string"}}),
        },
        "SummaryOut.4ac12ce",
    )
    schema_names.readable(document)
    assert sorted(document["components"]["schemas"]) == [
        "AnswerOut",
        "AnswerOut.Citation",
        "SummaryOut",
        "SummaryOut.Citation",
    ]
    summary = document["components"]["schemas"]["SummaryOut"]
    assert summary["properties"]["c"]["$ref"] == "#/components/schemas/SummaryOut.Citation"


def test_two_different_models_with_one_name_are_refused():
    document = _document(
        {"Error.243e36f": _citation(), "Error.d14e8ec": _citation({"x": {}})}, "Error.243e36f"
    )
    with pytest.raises(ValueError, match="both named 'Error'"):
        schema_names.readable(document)


def test_the_gateway_document_has_no_hashed_names(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    assert "AnswerOut" in schemas and "SearchFiltersIn" in schemas
    assert not [name for name in schemas if "." in name], sorted(schemas)
