"""The administrators' accounts page: create, deactivate, reactivate, reset, audit."""

from __future__ import annotations

import pytest

from server.auth import accounts, audit
from tests.auth.conftest import PASSWORD, signed_in

NEW = {"username": "Lupita", "display_name": "Guadalupe Ruiz", "role": "counter",
       "agency": "sat", "password": "frase de paso bastante larga",
       "password_again": "frase de paso bastante larga"}


@pytest.fixture
def admin(staff, new_browser):
    staff("root", role="admin", agency=None, display_name="Raíz")
    return signed_in(new_browser, "root")


def test_the_page_lists_every_account_with_its_role_agency_and_state(staff, admin, ctx):
    staff("ana", display_name="Ana López")
    beto = staff("beto", role="manager", agency=None)
    accounts.set_active(ctx, beto.id, False, actor=accounts.CLI)
    page = admin.get("/admin/staff").text
    assert "Cuentas del personal" in page
    ana = page[page.index('data-username="ana"'):]
    assert "Ana López" in ana[:ana.index("</tr>")]
    assert "Personal de ventanilla" in ana[:ana.index("</tr>")]
    assert "Registro Civil" in ana[:ana.index("</tr>")]
    assert 'data-username="beto" data-active="no"' in page


def test_an_administrator_creates_an_account_that_can_sign_in(admin, new_browser, ctx):
    response = admin.post("/admin/staff", NEW)
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/staff?done=created&who=lupita"
    assert "Cuenta lupita creada." in admin.get(response.headers["Location"]).text
    created = accounts.find_account(ctx, "lupita")
    assert (created.role, created.agency_id, created.display_name) == (
        "counter", "sat", "Guadalupe Ruiz")
    assert new_browser().login("lupita", NEW["password"]).status_code == 303
    entry = next(e for e in audit.recent(ctx) if e.action == "staff.created")
    assert (entry.actor, entry.role, entry.target) == ("root", "admin", "lupita")


@pytest.mark.parametrize("change, message", [
    ({"agency": ""}, "El personal de ventanilla pertenece a una dependencia"),
    ({"password_again": "otra cosa distinta"}, "Las dos contraseñas no coinciden."),
    ({"password": "corta", "password_again": "corta"}, "La contraseña debe tener de 12"),
    ({"username": "con espacios"}, "Un nombre de usuario tiene"),
    ({"role": "superuser"}, "Elija un rol."),
    ({"username": "root"}, "Ya existe una cuenta con ese nombre de usuario."),
])
def test_a_bad_new_account_is_refused_with_the_reason_and_the_form_kept(admin, ctx, change,
                                                                        message):
    response = admin.post("/admin/staff", {**NEW, **change})
    assert response.status_code == 422
    assert message in response.text
    assert 'value="Guadalupe Ruiz"' in response.text
    assert [a.username for a in accounts.list_accounts(ctx)] == ["root"]


def test_deactivating_ends_the_accounts_sessions_and_reactivating_lets_it_back(
    staff, admin, new_browser, ctx
):
    ana = staff("ana")
    ana_browser = signed_in(new_browser, "ana")
    assert admin.post(f"/admin/staff/{ana.id}/deactivate").status_code == 303
    assert ana_browser.get("/auth/session").status_code == 401
    assert new_browser().login("ana").status_code == 401

    assert admin.post(f"/admin/staff/{ana.id}/reactivate").status_code == 303
    assert ana_browser.get("/auth/session").status_code == 401  # the old session stays ended
    assert new_browser().login("ana").status_code == 303
    actions = [e.action for e in audit.recent(ctx) if e.target == "ana"]
    assert "staff.deactivated" in actions and "staff.reactivated" in actions


def test_an_administrator_cannot_deactivate_their_own_account(admin, ctx):
    root = accounts.find_account(ctx, "root")
    response = admin.post(f"/admin/staff/{root.id}/deactivate")
    assert response.status_code == 422
    assert accounts.find_account(ctx, "root").active


def test_a_password_reset_replaces_the_password_and_is_audited(staff, admin, new_browser, ctx):
    ana = staff("ana")
    response = admin.post(f"/admin/staff/{ana.id}/password",
                          {"password": "una nueva frase larga"})
    assert response.status_code == 303
    assert new_browser().login("ana", PASSWORD).status_code == 401
    assert new_browser().login("ana", "una nueva frase larga").status_code == 303
    assert any(e.action == "staff.password_reset" and e.actor == "root"
               for e in audit.recent(ctx))


def test_actions_on_an_unknown_account_are_404(admin):
    assert admin.post("/admin/staff/9999/unlock").status_code == 404


def test_the_audit_page_shows_the_newest_entries_first(staff, admin):
    staff("ana")
    page = admin.get("/admin/audit").text
    assert "Bitácora de auditoría" in page
    rows = page[page.index("<tbody>"):]
    # root was created, then signed in, then created ana: newest first.
    assert rows.index('data-action="staff.created"') < rows.index(
        'data-action="staff.signed_in"')
    assert ">ana<" in rows[:rows.index('data-action="staff.signed_in"')]
