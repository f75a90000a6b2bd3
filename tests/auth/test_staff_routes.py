"""Who may open which staff page or call. The routes come from the URL map, so a new route
fails here until it is given a policy below (the JSON API under /api/v1 has its own table in
tests/server/test_api_auth.py; the kiosk and follow pages are the citizens'; the hall
display's device routes have theirs in tests/display/test_display_access.py)."""

from __future__ import annotations

import re

import pytest
from flask import Blueprint, Flask

from server.auth import accounts
from server.auth.access import (
    StaffPrincipal,
    can_act_on_counter,
    can_act_on_service,
    can_issue_ticket,
    requires_staff_json,
)
from server.config_types import Counter, Service
from tests.auth.conftest import ACCOUNTS, Browser

ALL = {"counter", "orientation", "manager", "admin"}
COUNTER_STAFF = {"counter", "manager", "admin"}
COUNTER_ROUTES = [
    ("GET", "/counter/{counter_id}"),
    ("GET", "/counter/{counter_id}/state"),
    *[("POST", f"/counter/{{counter_id}}/{action}")
      for action in ("call-next", "call", "open", "pause", "close")],
    *[("POST", f"/counter/{{counter_id}}/ticket/{action}")
      for action in ("recall", "start", "complete", "no-show", "cancel", "transfer")],
    ("POST", "/counter/{counter_id}/receipt/print-slip"),
]
COVERED_ELSEWHERE = {"api", "kiosk", "follow", "display"}
MANAGERS = {"manager", "admin"}

PUBLIC = {
    ("GET", "/"),
    ("GET", "/healthz"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    # Anyone holding a receipt (or its folio) may check it; an upload changes nothing stored.
    ("GET", "/verify/"),
    ("POST", "/verify/"),
    ("GET", "/verify/{folio}"),
    ("GET", "/verify/{folio}/receipt.pdf"),
    ("GET", "/verify/{folio}/qr.svg"),
}
# The roles each route lets in; every other role gets a 403.
ALLOWED = {
    ("GET", "/auth/session"): ALL,
    ("GET", "/admin/staff"): {"admin"},
    ("POST", "/admin/staff"): {"admin"},
    ("POST", "/admin/staff/{user_id}/deactivate"): {"admin"},
    ("POST", "/admin/staff/{user_id}/reactivate"): {"admin"},
    ("POST", "/admin/staff/{user_id}/unlock"): {"admin"},
    ("POST", "/admin/staff/{user_id}/password"): {"admin"},
    ("GET", "/admin/audit"): {"admin"},
    ("GET", "/counter/"): COUNTER_STAFF,
    ("GET", "/orientation/"): {"orientation", "manager", "admin"},
    ("POST", "/orientation/tickets"): {"orientation", "manager", "admin"},
    **{route: COUNTER_STAFF for route in COUNTER_ROUTES},
    ("GET", "/displays/"): MANAGERS,
    ("POST", "/displays/{zone_id}/message"): MANAGERS,
    ("POST", "/displays/{zone_id}/message/clear"): MANAGERS,
}
# Routes that act on one counter: counter staff of another agency get a 403 there too.
AGENCY_SCOPED: set[tuple[str, str]] = set(COUNTER_ROUTES)
# What to put in the URL variables of the routes above.
OWN_COUNTER, OTHER_AGENCY_COUNTER = "V17", "V01"  # civil registry / tax collection


def served_routes(app: Flask) -> set[tuple[str, str]]:
    """(METHOD, path template) of every rule outside the API, the kiosk and static files."""
    return {
        (method, re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if not (rule.endpoint == "static" or rule.endpoint.endswith(".static"))
        and rule.endpoint.partition(".")[0] not in COVERED_ELSEWHERE
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def secured_routes(app: Flask) -> list[tuple[str, str]]:
    return sorted(served_routes(app) - PUBLIC)


def url(template: str, values: dict[str, object]) -> str:
    names = re.findall(r"{(\w+)}", template)
    missing = [name for name in names if name not in values]
    assert not missing, f"{template}: give the test a value for {missing}"
    return template.format(**values)


@pytest.fixture
def values(ctx) -> dict[str, object]:
    """URL values: an account that only exists to be acted on, and a counter."""
    target = accounts.create_account(ctx, username="blanco", display_name="Blanco",
                                     role="orientation", agency_id=None,
                                     password="una frase bastante larga", actor=accounts.CLI)
    return {"user_id": target.id, "counter_id": OWN_COUNTER, "zone_id": "planta-alta"}


def send(browser: Browser, method: str, path: str, *, csrf: bool = True):
    headers = {"Accept": "application/json"}
    if method == "GET":
        return browser.get(path, headers=headers)
    return browser.client.open(path, method=method, headers=headers,
                               data={"csrf_token": browser.csrf_token()} if csrf else {})


def refused_anonymous(response) -> bool:
    if response.status_code == 401:
        return response.get_json()["error"]["code"] == "unauthorized"
    return response.status_code == 303 and response.headers["Location"].startswith("/login")


def test_every_staff_route_has_a_declared_policy(app):
    served = served_routes(app)
    assert served - PUBLIC - ALLOWED.keys() == set(), "declare who may use the new routes"
    assert (PUBLIC | ALLOWED.keys()) - served == set(), "these routes are gone"


def test_every_route_on_one_counter_is_declared_agency_scoped(app):
    on_a_counter = {route for route in served_routes(app) if "{counter_id}" in route[1]}
    assert on_a_counter - PUBLIC == AGENCY_SCOPED


def test_staff_routes_refuse_anonymous_callers(app, client, values):
    anonymous = Browser(client)
    for method, template in secured_routes(app):
        response = send(anonymous, method, url(template, values), csrf=False)
        assert refused_anonymous(response), f"{method} {template}: {response.status_code}"


def test_staff_routes_refuse_a_forged_or_ended_session(app, login_as, new_browser, values,
                                                      everyone):
    browser = login_as("admin")
    stale = browser.session_cookie()
    browser.logout()
    for cookie in (stale, "not-a-session"):
        replay = new_browser()
        replay.client.set_cookie("turnos_session", cookie, domain="localhost")
        for method, template in secured_routes(app):
            response = send(replay, method, url(template, values), csrf=False)
            assert refused_anonymous(response), f"{method} {template}: {response.status_code}"


def test_staff_routes_refuse_roles_that_may_not_use_them_with_403(app, login_as, values,
                                                                  everyone):
    for role, (username, _) in ACCOUNTS.items():
        browser = login_as(username)
        for method, template in secured_routes(app):
            if role in ALLOWED[(method, template)]:
                continue
            response = send(browser, method, url(template, values))
            assert response.status_code == 403, f"{role}: {method} {template}"
            if response.is_json:
                assert response.get_json()["error"]["code"] == "forbidden"


def test_roles_a_route_allows_get_past_the_access_check(app, login_as, values, everyone):
    for role, (username, _) in ACCOUNTS.items():
        browser = login_as(username)
        for method, template in secured_routes(app):
            if role not in ALLOWED[(method, template)] or template.endswith("/deactivate"):
                continue
            response = send(browser, method, url(template, values))
            assert response.status_code not in (401, 403), f"{role}: {method} {template}"
            assert not refused_anonymous(response), f"{role}: {method} {template}"


@pytest.mark.parametrize("route", sorted(AGENCY_SCOPED))
def test_counter_staff_of_another_agency_are_refused_on_agency_scoped_routes(
    route, login_as, values, everyone
):
    method, template = route
    browser = login_as("cajero")
    other = send(browser, method, url(template, {**values, "counter_id": OTHER_AGENCY_COUNTER}))
    assert other.status_code == 403
    own = send(browser, method, url(template, {**values, "counter_id": OWN_COUNTER}))
    assert own.status_code != 403


def test_the_counter_argument_refuses_counters_of_another_agency(make_app, sqlite_url,
                                                                 everyone):
    """The decorator that agency-scoped routes use, on a route made up for this test."""
    app = make_app(sqlite_url)
    probe = Blueprint("probe", __name__)
    probe.add_url_rule("/probe/<counter_id>", "probe",
                       requires_staff_json("counter", "manager", counter_arg="counter_id")(
                           lambda counter_id: {"counter": counter_id}))
    app.register_blueprint(probe)
    counter_staff = Browser(app.test_client())
    counter_staff.login("cajero")
    manager = Browser(app.test_client())
    manager.login("gerente")

    assert counter_staff.get(f"/probe/{OWN_COUNTER}").status_code == 200
    assert counter_staff.get(f"/probe/{OTHER_AGENCY_COUNTER}").status_code == 403
    assert counter_staff.get("/probe/NOPE").status_code == 403
    assert manager.get(f"/probe/{OTHER_AGENCY_COUNTER}").status_code == 200


def _principal(role: str, agency: str | None) -> StaffPrincipal:
    return StaffPrincipal(user_id=1, username="x", display_name="X", role=role,
                          agency_id=agency, counter_id=None, session_id="s", csrf_token="t")


COUNTER_RC = Counter(id="V17", name="Ventanilla 17", agency="rc", services=("ACTA",))
SERVICE_RC = Service(code="ACTA", prefix="A", name="Acta", agency="rc", target_wait_minutes=15,
                     preferential=True)
SERVICE_SAT = Service(code="RFC", prefix="R", name="RFC", agency="sat", target_wait_minutes=15,
                      preferential=True)


@pytest.mark.parametrize(
    ("role", "agency", "at_counter", "serves", "issues", "issues_elsewhere"),
    [
        ("counter", "rc", True, True, True, False),
        ("counter", "sat", False, False, False, True),
        ("orientation", None, False, False, True, True),
        ("manager", None, True, True, True, True),
        ("admin", None, True, True, True, True),
    ],
)
def test_what_each_role_may_do_with_a_civil_registry_counter_and_service(
    role, agency, at_counter, serves, issues, issues_elsewhere
):
    principal = _principal(role, agency)
    assert can_act_on_counter(principal, COUNTER_RC) is at_counter
    assert can_act_on_service(principal, SERVICE_RC) is serves
    assert can_issue_ticket(principal, SERVICE_RC) is issues
    assert can_issue_ticket(principal, SERVICE_SAT) is issues_elsewhere
