"""Helpers for the API tests (`from tests.integration.api.api_testkit import ...`)."""
from __future__ import annotations

import json
from typing import Any

API_KEY = "test-api-key-0123456789"


def release(n: int, **over: Any) -> dict[str, Any]:
    base = {
        "id": f"isbn:97840000000{n:02d}",
        "source": "previewsworld" if n % 2 else "openbd",
        "title": f"Space Cats #{n}" if n % 2 else f"ワンピース {n}巻",
        "series": "Space Cats" if n % 2 else "ワンピース",
        "volume": str(n),
        "publisher": "Image Comics" if n % 2 else "集英社",
        "release_date": f"2026-{(n % 3) + 1:02d}-{(n % 27) + 1:02d}",
        "price": "3.99",
        "currency": "USD",
        "url": f"https://example.test/{n}",
        "flags": ["variant"] if n == 3 else [],
        # crawled releases always carry their source ref (queries.get needs it: see the report)
        "source_refs": [f"{'previewsworld' if n % 2 else 'openbd'}:ITEM{n}"],
    }
    base.update(over)
    return base


RELEASES = [release(n) for n in range(1, 11)]


def auth(key: str = API_KEY) -> dict[str, str]:
    return {"X-Api-Key": key}


def json_headers(key: str = API_KEY) -> dict[str, str]:
    return {"X-Api-Key": key, "Content-Type": "application/json"}


def hdr(response: Any, name: str) -> str | None:
    """A response header, case-insensitively."""
    return {k.lower(): v for k, v in response.headers.items()}.get(name.lower())


def body_of(response: Any) -> Any:
    return json.loads(response.body) if response.body else None


def assert_problem(response: Any, status: int, param: str | None) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.body)
    assert hdr(response, "content-type") == "application/problem+json"
    problem = body_of(response)
    assert problem["status"] == status and problem["title"] and problem["detail"]
    assert problem.get("param") == param, problem
    assert_schema(problem, "Problem")
    return problem


def assert_schema(instance: Any, name: str) -> None:
    """Validate against a component schema of the served OpenAPI document."""
    from jsonschema import Draft202012Validator

    from chalicelib.api.openapi import document

    root = {"$ref": f"#/components/schemas/{name}", "components": document()["components"]}
    errors = sorted(Draft202012Validator(root).iter_errors(instance), key=str)
    assert not errors, [e.message for e in errors[:5]]
