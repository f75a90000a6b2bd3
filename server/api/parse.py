"""Reading JSON bodies into typed values with errors that name the field."""

from __future__ import annotations

import json
import re
from enum import Enum
from typing import Any, TypeVar

from flask import request

from server.api.errors import ApiError

E = TypeVar("E", bound=Enum)

# Control characters other than tab and line breaks, and lone UTF-16 surrogates (which JSON
# escapes such as "\ud800" produce). PostgreSQL refuses NUL in text and JSON, and no database
# driver can encode a surrogate: let through, they failed with a 500 at the INSERT.
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def json_body(allowed: set[str]) -> dict[str, Any]:
    """The request's JSON object; an empty body counts as {}; unknown fields are refused."""
    return parse_body(request.get_data(cache=True), request.is_json, allowed)


def parse_body(data: bytes, is_json: bool, allowed: set[str]) -> dict[str, Any]:
    """`json_body` for a body already read (by Flask or by server/api/direct.py)."""
    if not data:
        return {}
    if not is_json:
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    try:
        body = json.loads(data)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(422, "unknown_field", f"unknown field(s): {', '.join(unknown)}")
    return body


def is_json_type(mimetype: str) -> bool:
    """As werkzeug's `Request.is_json`: application/json or application/*+json."""
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json"))


def text(body: dict[str, Any], name: str, *, required: bool = False, max_len: int = 200
         ) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(422, "missing_field", f"'{name}' is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise ApiError(422, "invalid_field", f"'{name}' must be a non-empty string")
    if _UNSTORABLE.search(value):
        raise ApiError(422, "invalid_field",
                       f"'{name}' contains control characters or invalid Unicode")
    if len(value) > max_len:
        raise ApiError(422, "invalid_field", f"'{name}' is longer than {max_len} characters")
    return value.strip()


def choice(body: dict[str, Any], name: str, enum: type[E], *, required: bool = False) -> E | None:
    value = text(body, name, required=required, max_len=40)
    if value is None:
        return None
    try:
        return enum(value)
    except ValueError:
        options = ", ".join(m.value for m in enum)
        raise ApiError(422, "invalid_field", f"'{name}' must be one of: {options}") from None
