"""Every API failure is JSON {error: {code, message}}; no input can produce a 500."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from server.domain.errors import DomainError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A refusal raised by the API layer itself (auth, malformed input)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def error_response(status: int, code: str, message: str):
    return jsonify(error_body(code, message)), status


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return error_response(error.status, error.code, error.message)

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        return error_response(error.http_status, error.code, error.message)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if not wants_json():
            return error
        code = (error.name or "error").lower().replace(" ", "_")
        response, status = error_response(error.code or 500, code,
                                          error.description or error.name)
        # Keep what the exception adds, such as Allow on a 405, but not its HTML content type.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return error_response(500, "internal_error", "something went wrong on our side")
        return "Internal error", 500


def wants_json() -> bool:
    """Whether this request should get its errors as JSON rather than as a page."""
    if request.path.startswith("/api/") or request.path == "/healthz":
        return True
    if request.path.endswith(".json") or request.is_json:
        return True
    accepted = request.accept_mimetypes
    return accepted["application/json"] > accepted["text/html"]
