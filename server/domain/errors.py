"""Domain errors: each carries a stable machine code that the API returns as-is."""

from __future__ import annotations


class DomainError(Exception):
    """A request the rules refuse; `code` is stable, `message` is for people."""

    code = "domain_error"
    http_status = 409

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class IllegalTransition(DomainError):
    code = "illegal_transition"


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class CounterBusy(DomainError):
    code = "counter_busy"


class RecallsExhausted(DomainError):
    code = "recalls_exhausted"


class NoShowTooEarly(DomainError):
    code = "no_show_too_early"


class NotServedHere(DomainError):
    code = "not_served_here"
    http_status = 403


class InvalidRequest(DomainError):
    code = "invalid_request"
    http_status = 422
