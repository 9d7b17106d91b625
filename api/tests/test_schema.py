"""The OpenAPI 3 schema: it validates against the OpenAPI 3 meta-schema, and it names every endpoint
and move the API has."""

import yaml
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from api.moves import API_MOVES


def test_the_schema_validates_and_describes_every_endpoint(api_as, rep):
    response = api_as(rep).get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate_schema(schema)  # raises on anything the OpenAPI 3 meta-schema refuses
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/leads/",
        "/api/v1/leads/{id}/",
        "/api/v1/leads/{id}/moves/",
        "/api/v1/leads/{id}/assignment/",
        "/api/v1/campaigns/",
        "/api/v1/campaigns/{id}/",
        "/api/v1/deadlines/",
        "/api/v1/deals/",
        "/api/v1/deals/{id}/",
        "/api/v1/deals/{id}/stage/",
    }
    moves = schema["components"]["schemas"]["MoveRequest"]["properties"]["move"]
    names = moves.get("enum") or schema["components"]["schemas"][moves["$ref"].rsplit("/", 1)[1]]["enum"]
    assert set(names) == set(API_MOVES)
    assert schema["components"]["securitySchemes"]["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["apiToken"]["description"],
    }


def test_the_schema_is_for_signed_in_callers(db):
    assert APIClient().get("/api/v1/schema/").status_code == 401


def test_the_schema_comes_as_yaml_when_asked(api_as, rep):
    response = api_as(rep).get("/api/v1/schema/", {"format": "yaml"})
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert response.content.startswith(b"openapi: 3.")
