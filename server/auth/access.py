"""Who the signed-in staff member is, and what their role lets them do.

Roles: `counter` staff act only on their own agency's counters and services; `orientation`
staff help citizens in the hall and may issue tickets, nothing else; `manager` sees and acts
on every agency; `admin` also manages accounts and devices.

Views use the decorators: `@requires_login(*roles)` for HTML pages (anonymous: a redirect to
/login?next=...; wrong role: 403) and `@requires_staff_json(*roles)` for JSON calls from staff
pages (401 / 403 as JSON errors). Both take `counter_arg="counter_id"` to also refuse a
counter of another agency named in the URL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TypeVar
from urllib.parse import urlencode

from flask import g, redirect, render_template, request, url_for

from server.api.errors import ApiError
from server.auth import sessions
from server.config_types import Counter, Service
from server.extensions import ctx
from server.models.staff import STAFF_ROLES

F = TypeVar("F", bound=Callable)

ALL_STAFF = STAFF_ROLES
# Roles that see and act on every agency.
BUILDING_WIDE = ("manager", "admin")
_UNSET = object()


@dataclass(frozen=True, slots=True)
class StaffPrincipal:
    user_id: int
    username: str
    display_name: str
    role: str
    # The agency of counter staff (others may have one too, for information).
    agency_id: str | None
    # The counter this session works at, once chosen.
    counter_id: str | None
    session_id: str
    csrf_token: str


def current_staff() -> StaffPrincipal | None:
    """The staff member signed in on this request's session cookie, or None.

    Looked up once per request. It may write (the session's idle clock), so resolve it before
    opening a write transaction; the decorators do.
    """
    cached = g.get("_turnos_staff", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    info = sessions.load(ctx(), sessions.cookie_secret(request))
    principal = None
    if info is not None:
        principal = StaffPrincipal(
            user_id=info.user_id, username=info.username, display_name=info.display_name,
            role=info.role, agency_id=info.agency_id, counter_id=info.counter_id,
            session_id=info.id, csrf_token=info.csrf_token,
        )
    g._turnos_staff = principal
    return principal


def staff_seen() -> StaffPrincipal | None:
    """The staff member this request was found to be, without looking anything up."""
    found = g.get("_turnos_staff")
    return found if isinstance(found, StaffPrincipal) else None


def can_act_on_counter(principal: StaffPrincipal, counter: Counter) -> bool:
    """Call, recall, transfer, complete... at this counter."""
    if principal.role in BUILDING_WIDE:
        return True
    return principal.role == "counter" and counter.agency == principal.agency_id


def can_act_on_service(principal: StaffPrincipal, service: Service) -> bool:
    """Serve this service's tickets (call by number, transfer into it)."""
    if principal.role in BUILDING_WIDE:
        return True
    return principal.role == "counter" and service.agency == principal.agency_id


def can_issue_ticket(principal: StaffPrincipal, service: Service) -> bool:
    """Issue a ticket for this service on a citizen's behalf."""
    if principal.role in (*BUILDING_WIDE, "orientation"):
        return True
    return principal.role == "counter" and service.agency == principal.agency_id


def requires_login(*roles: str, counter_arg: str | None = None) -> Callable[[F], F]:
    """HTML pages: anonymous callers are sent to the login page, other roles get a 403."""
    _check_roles(roles)

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_staff()
            if principal is None:
                return redirect(login_url(request.full_path if request.method == "GET"
                                          else None), 303)
            if principal.role not in roles or not _counter_allowed(principal, counter_arg,
                                                                    kwargs):
                return render_template("auth/forbidden.html"), 403
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def requires_staff_json(*roles: str, counter_arg: str | None = None) -> Callable[[F], F]:
    """JSON calls from staff pages: 401 without a live session, 403 for other roles."""
    _check_roles(roles)

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_staff()
            if principal is None:
                raise ApiError(401, "unauthorized", "sign in again: there is no staff session")
            if principal.role not in roles:
                raise ApiError(403, "forbidden", f"the {principal.role} role may not do this")
            if not _counter_allowed(principal, counter_arg, kwargs):
                raise ApiError(403, "forbidden", "this counter belongs to another agency")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def login_url(next_path: str | None = None) -> str:
    """/login, with ?next= when there is a local page to come back to."""
    base = url_for("auth.login_page")
    if next_path and safe_next(next_path):
        return f"{base}?{urlencode({'next': next_path.rstrip('?')})}"
    return base


def safe_next(target: str | None) -> bool:
    """Only paths on this server: no scheme, no //host, no backslash tricks."""
    return (bool(target) and target.startswith("/") and not target.startswith("//")
            and "\\" not in target and all(ord(ch) >= 32 for ch in target))


def _counter_allowed(principal: StaffPrincipal, counter_arg: str | None, kwargs: dict) -> bool:
    if counter_arg is None:
        return True
    try:
        counter = ctx().config.counter(str(kwargs.get(counter_arg)))
    except KeyError:
        # An unknown counter is for the view to turn into a 404; only building-wide roles
        # get that far, so that nobody learns which ids exist elsewhere.
        return principal.role in BUILDING_WIDE
    return can_act_on_counter(principal, counter)


def _check_roles(roles: tuple[str, ...]) -> None:
    unknown = set(roles) - set(STAFF_ROLES)
    if not roles or unknown:
        raise ValueError(f"staff roles are {STAFF_ROLES}, not {sorted(unknown) or 'none'}")
