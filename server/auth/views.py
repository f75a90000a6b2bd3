"""Signing in and out, and what a staff page's scripts need to know about their session."""

from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from server.auth import csrf, login, sessions
from server.auth.access import ALL_STAFF, current_staff, requires_staff_json, safe_next
from server.extensions import ctx, ext
from server.i18n import short_language

bp = Blueprint("auth", __name__)

# Where each role lands after signing in when no page asked for it.
LANDING = {"admin": "admin.staff_list", "counter": "counter.choose_counter",
           "manager": "counter.choose_counter", "orientation": "orientation.tablet"}
DEFAULT_LANDING = "pages.start_page"


@bp.app_context_processor
def _staff_context() -> dict:
    return {"current_staff": current_staff,
            "page_lang": lambda: short_language(str(get_locale()))}


@bp.get("/login")
def login_page():
    return _login_form()


@bp.post("/login")
def sign_in():
    """Check the form's token, then the credentials; on success a new session cookie."""
    if not csrf.login_token_ok():
        return _login_form(_("The form had expired. Please sign in again."), 403)
    previous = current_staff()
    result = login.sign_in(
        ctx(), request.form.get("username", "")[:200], request.form.get("password", ""),
        login.Client(ip=request.remote_addr or "unknown",
                     user_agent=request.user_agent.string or None),
        previous_session=previous.session_id if previous else None,
    )
    if result.outcome is login.Outcome.RATE_LIMITED:
        response = _login_form(_("Too many attempts. Wait a minute and try again."), 429)
        response.headers["Retry-After"] = str(result.retry_after)
        return response
    if result.outcome is login.Outcome.REFUSED:
        # The same words whatever went wrong, so that nobody learns which accounts exist.
        return _login_form(_("Incorrect username or password."), 401)
    target = request.form.get("next")
    if not safe_next(target):
        target = url_for(LANDING.get(result.role or "", DEFAULT_LANDING))
    response = redirect(target, 303)
    sessions.set_cookie(response, request, result.secret or "")
    csrf.clear_login_cookie(response)
    if previous is not None:
        ext().connections.end_session(previous.session_id)
    return response


@bp.post("/logout")
def logout():
    """End the session on the server, so no copy of its cookie works any more."""
    principal = current_staff()
    if principal is not None:
        login.sign_out(ctx(), principal.session_id, username=principal.username,
                       role=principal.role, counter_id=principal.counter_id,
                       device=request.remote_addr)
        ext().connections.end_session(principal.session_id)
    response = redirect(url_for("auth.login_page"), 303)
    sessions.clear_cookie(response, request)
    return response


@bp.get("/auth/session")
@requires_staff_json(*ALL_STAFF)
def session_info():
    """Who is signed in, and the CSRF token for the page's scripts."""
    staff = current_staff()
    assert staff is not None
    return {
        "username": staff.username,
        "display_name": staff.display_name,
        "role": staff.role,
        "agency": staff.agency_id,
        "counter": staff.counter_id,
        "csrf_token": staff.csrf_token,
    }


def _login_form(error: str | None = None, status: int = 200):
    token = csrf.new_login_token()
    next_path = request.values.get("next")
    response = make_response(render_template(
        "auth/login.html", error=error, login_token=token,
        next=next_path if safe_next(next_path) else None,
        username=request.form.get("username", "")[:80] if status == 401 else "",
    ), status)
    csrf.set_login_cookie(response, token)
    response.headers["Cache-Control"] = "no-store"
    return response
