"""The start page and the health check."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import text

from server.extensions import ctx
from server.services import queries

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/server")


@bp.get("/")
def start_page():
    config = ctx().config
    queues = {q.service: q for q in queries.queues(ctx())}
    return render_template(
        "start.html", config=config, queues=queues, counters=queries.counters(ctx())
    )


@bp.get("/healthz")
def healthz():
    with ctx().db.read() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok", "csa": ctx().config.name}
