"""The JSON API under /api/v1."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from server.api import catalog, counters, errors, openapi, printers, receipts, tickets  # noqa: E402,F401,E501  (routes)
