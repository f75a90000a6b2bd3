"""Administrators' pages: staff accounts (create, deactivate, reactivate, unlock, reset a
password) and the audit log. Every change is a POST with the session's CSRF token, and
accounts.py audits it."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from server.auth import accounts, audit, passwords
from server.auth.access import current_staff, requires_login
from server.domain.errors import DomainError, NotFound
from server.extensions import ctx
from server.models.staff import STAFF_ROLES

bp = Blueprint("admin", __name__, url_prefix="/admin")

_CHANGES = ("created", "deactivated", "reactivated", "unlocked", "password_reset")


@bp.get("/staff")
@requires_login("admin")
def staff_list():
    return _staff_page()


@bp.post("/staff")
@requires_login("admin")
def create_staff():
    form = request.form
    if form.get("password", "") != form.get("password_again", ""):
        return _staff_page(error=_("The two passwords are not the same."), form=form,
                           status=422)
    try:
        account = accounts.create_account(
            ctx(), username=form.get("username", "")[:200],
            display_name=form.get("display_name", "")[:200], role=form.get("role", ""),
            agency_id=form.get("agency") or None, password=form.get("password", ""),
            actor=_actor(),
        )
    except DomainError as error:
        return _staff_page(error=_error_text(error), form=form, status=422)
    return _done("created", account)


@bp.post("/staff/<int:user_id>/deactivate")
@requires_login("admin")
def deactivate_staff(user_id: int):
    if _account(user_id).username == _actor().name:
        return _staff_page(error=_("You cannot deactivate your own account."), status=422)
    return _done("deactivated", accounts.set_active(ctx(), user_id, False, actor=_actor()))


@bp.post("/staff/<int:user_id>/reactivate")
@requires_login("admin")
def reactivate_staff(user_id: int):
    _account(user_id)
    return _done("reactivated", accounts.set_active(ctx(), user_id, True, actor=_actor()))


@bp.post("/staff/<int:user_id>/unlock")
@requires_login("admin")
def unlock_staff(user_id: int):
    _account(user_id)
    return _done("unlocked", accounts.unlock(ctx(), user_id, actor=_actor()))


@bp.post("/staff/<int:user_id>/password")
@requires_login("admin")
def reset_staff_password(user_id: int):
    _account(user_id)
    password = request.form.get("password", "")
    try:
        account = accounts.reset_password(ctx(), user_id, password, actor=_actor())
    except DomainError as error:
        return _staff_page(error=_error_text(error), status=422)
    return _done("password_reset", account)


@bp.get("/audit")
@requires_login("admin")
def audit_log():
    seq, head_hash = audit.head(ctx())
    return render_template("admin/audit.html", entries=audit.recent(ctx()), head_seq=seq,
                           head_hash=head_hash)


def _staff_page(*, error: str | None = None, form=None, status: int = 200):
    config = ctx().config
    done, who = request.args.get("done"), request.args.get("who", "")
    notice = _notice(done, who) if done in _CHANGES and accounts.USERNAME.match(who) else None
    return render_template(
        "admin/staff.html", accounts=accounts.list_accounts(ctx()), now=ctx().clock.now(),
        agencies={a.id: a.name for a in config.agencies}, roles=_role_names(),
        role_order=STAFF_ROLES, error=error, notice=notice, form=form or {},
    ), status


def _done(change: str, account: accounts.Account):
    """Back to the list (a reload does not post again), saying what was done."""
    return redirect(url_for("admin.staff_list", done=change, who=account.username), 303)


def _account(user_id: int) -> accounts.Account:
    try:
        return accounts.get_account(ctx(), user_id)
    except NotFound:
        abort(404)


def _actor() -> accounts.Actor:
    staff = current_staff()
    assert staff is not None  # requires_login
    return accounts.Actor(staff.username, staff.role, device=request.remote_addr)


def _role_names() -> dict[str, str]:
    return {
        "counter": _("Counter staff"),
        "orientation": _("Orientation"),
        "manager": _("Building manager"),
        "admin": _("Administrator"),
    }


def _notice(change: str, who: str) -> str:
    return {
        "created": _("Account %(name)s created.", name=who),
        "deactivated": _("Account %(name)s deactivated; its sessions were ended.", name=who),
        "reactivated": _("Account %(name)s reactivated.", name=who),
        "unlocked": _("Account %(name)s unlocked.", name=who),
        "password_reset": _("New password set for %(name)s; its sessions were ended.",
                            name=who),
    }[change]


def _error_text(error: DomainError) -> str:
    texts = {
        "invalid_username": _("A username has 2 to 80 letters, digits or . _ @ - and starts "
                              "with a letter or digit."),
        "invalid_name": _("The name is too long."),
        "invalid_role": _("Choose a role."),
        "agency_required": _("Counter staff belong to one agency: choose it."),
        "unknown_agency": _("Choose an agency from the list."),
        "weak_password": _("The password must have %(min)s to %(max)s characters.",
                           min=passwords.MIN_LENGTH, max=passwords.MAX_LENGTH),
        "account_exists": _("There is already an account with that username."),
    }
    return texts.get(error.code, error.message)
