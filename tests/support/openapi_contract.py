"""Checking real API responses against the OpenAPI document."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.exceptions import HTTPException
from werkzeug.test import TestResponse

API = "/api/v1"
SPEC_URI = "urn:turnos:openapi"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def flask_template(rule: str) -> str:
    """/api/v1/tickets/<int(max=9):ticket_id> -> /api/v1/tickets/{ticket_id}"""
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule)


def served_routes(app: Flask) -> set[tuple[str, str]]:
    """(METHOD, path template) of every API rule in the URL map, plus the health check."""
    return {
        (method, flask_template(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(f"{API}/") or rule.rule == "/healthz"
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def documented_routes(spec: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str]]:
    """(METHOD, full path template) -> (path key, method key) in the document."""
    routes = {}
    for path, item in spec["paths"].items():
        server = (item.get("servers") or spec["servers"])[0]["url"].rstrip("/")
        for method in item.keys() & HTTP_METHODS:
            routes[(method.upper(), server + path)] = (path, method)
    return routes


def pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class Contract:
    """Checks a response's status, then its body against what the document promises."""

    def __init__(self, app: Flask, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.urls = app.url_map.bind("localhost")
        self.routes = documented_routes(spec)
        resource = Resource.from_contents(spec, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(SPEC_URI, resource)

    def __call__(self, response: TestResponse, status: int) -> Any:
        """Assert `status` and a body that validates; returns the JSON body."""
        body = response.get_data(as_text=True)
        assert response.status_code == status, body
        method, path = response.request.method, response.request.path
        schema_at = self.schema_pointer(method, path, status)
        if schema_at is None:
            assert body == "", f"{method} {path}: a {status} is documented without a body"
            return None
        assert response.mimetype == "application/json", response.mimetype
        problems = self.problems(response.get_json(), schema_at)
        assert not problems, f"{method} {path} -> {status}: {problems}"
        return response.get_json()

    def problems(self, instance: Any, schema_at: str) -> list[str]:
        """What is wrong with `instance` under the schema at this pointer into the document."""
        validator = Draft202012Validator({"$ref": SPEC_URI + schema_at}, registry=self.registry,
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in validator.iter_errors(instance)]

    def schema_pointer(self, method: str, path: str, status: int) -> str | None:
        """Where the document keeps the schema of this answer; None if it has no body."""
        try:
            rule, _ = self.urls.match(path, method=method, return_rule=True)
        except HTTPException:
            # No route matches (say, a ticket id that is not an integer): the generic error.
            assert status == 404
            return pointer("components", "schemas", "Error")
        key = (method, flask_template(rule.rule))
        assert key in self.routes, f"{method} {rule.rule} is not documented"
        path_key, method_key = self.routes[key]
        responses = self.spec["paths"][path_key][method_key]["responses"]
        assert str(status) in responses, f"{method} {path_key} does not document a {status}"
        if "content" not in responses[str(status)]:
            return None
        return pointer("paths", path_key, method_key, "responses", str(status), "content",
                       "application/json", "schema")
