"""Login through the built-in OIDC provider, roles per tenant, sessions, CSRF, audit."""

from __future__ import annotations

import uuid
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from core.audit.trail import verify
from core.identity.idp.service import ensure_demo_account
from tenants.demo import seed_all
from web.authz import SESSION_COOKIE

PASSWORD = "parcours-demo"


@pytest.fixture(scope="module")
def landes(aio, runtime, client):
    """The demo territory with its organisations, IdP client and one account per role."""
    reports = aio.run(seed_all(runtime))
    return next(r for r in reports if r.tenant.slug == "landes")


@pytest.fixture
def browser(client):
    """The session's HTTP client with an empty cookie jar, as a fresh browser."""
    client.cookies.clear()
    yield client
    client.cookies.clear()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "input" and attributes.get("name"):
            self.fields[attributes["name"] or ""] = attributes.get("value") or ""


def form_fields(html: str) -> dict[str, str]:
    """The inputs of the page's forms, as a browser would submit them."""
    parser = _Inputs()
    parser.feed(html)
    return parser.fields


def idp_login(browser, authorize_url: str, username: str, password: str):
    """Fill the provider's login form as a person would; return the provider's answer."""
    page = browser.get(path_of(authorize_url))
    assert page.status_code == 200, page.text
    fields = form_fields(page.text)
    fields.update(username=username, password=password)
    return browser.post("/idp/authorize", data=fields, follow_redirects=False)


def login(browser, slug: str, username: str, password: str = PASSWORD, next_path: str | None = None):
    """The whole code flow; returns the response of the app's callback."""
    start = browser.get(
        f"/t/{slug}/login/demo", params={"next": next_path} if next_path else None, follow_redirects=False
    )
    assert start.status_code == 303, start.text
    answer = idp_login(browser, start.headers["location"], username, password)
    assert answer.status_code == 303, answer.text
    callback = answer.headers["location"]
    assert callback.startswith(f"http://localhost/t/{slug}/auth/callback?")
    return browser.get(path_of(callback), follow_redirects=False)


def test_coordinator_reaches_admin_of_her_territory_only(browser, landes, make_tenant):
    """The acceptance path: redirected to login, real code flow, admin of A, refused in B."""
    first = browser.get("/t/landes/admin/", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/t/landes/login?next=/t/landes/admin"
    page = browser.get("/t/landes/login")
    assert "Se connecter avec un compte de démonstration" in page.text
    done = login(browser, "landes", "coordinatrice.landes", next_path="/t/landes/admin")
    assert done.status_code == 303
    assert done.headers["location"] == "/t/landes/admin"
    cookie = done.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    admin = browser.get("/t/landes/admin/")
    assert admin.status_code == 200
    assert "Administration du territoire" in admin.text
    other = make_tenant()
    refused = browser.get(f"/t/{other.slug}/admin/", follow_redirects=False)
    assert refused.status_code == 403
    assert "Administration" not in refused.text


def test_professional_has_a_profile_but_no_admin(browser, landes):
    login(browser, "landes", "medecin.landes")
    profile = browser.get("/t/landes/moi")
    assert profile.status_code == 200
    assert "Marc Darrieutort" in profile.text
    assert "Professionnel de santé" in profile.text
    assert 'href="/t/landes/admin/"' not in profile.text
    assert browser.get("/t/landes/admin/", follow_redirects=False).status_code == 403


def test_wrong_password_gives_no_code_and_login_still_works_after(browser, landes):
    start = browser.get("/t/landes/login/demo", follow_redirects=False)
    answer = idp_login(browser, start.headers["location"], "coordinatrice.landes", "wrong")
    assert answer.status_code in (200, 401)
    assert "location" not in answer.headers
    assert "Identifiant ou mot de passe incorrect" in answer.text
    assert login(browser, "landes", "coordinatrice.landes").status_code == 303


def test_callback_state_is_single_use(browser, landes):
    start = browser.get("/t/landes/login/demo", follow_redirects=False)
    answer = idp_login(browser, start.headers["location"], "medecin.landes", PASSWORD)
    callback = path_of(answer.headers["location"])
    assert browser.get(callback, follow_redirects=False).status_code == 303
    replay = browser.get(callback, follow_redirects=False)
    assert replay.status_code == 401
    assert "Connexion impossible" in replay.text


def test_logout_ends_the_session(browser, landes):
    login(browser, "landes", "medecin.landes")
    profile = browser.get("/t/landes/moi")
    csrf = form_fields(profile.text)["_csrf"]
    out = browser.post("/t/landes/logout", data={"_csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    again = browser.get("/t/landes/moi", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"].startswith("/t/landes/login")


def test_a_stolen_cookie_stops_working_after_logout(browser, landes):
    login(browser, "landes", "medecin.landes")
    token = browser.cookies.get(SESSION_COOKIE)
    csrf = form_fields(browser.get("/t/landes/moi").text)["_csrf"]
    browser.post("/t/landes/logout", data={"_csrf": csrf})
    browser.cookies.set(SESSION_COOKIE, token)
    assert browser.get("/t/landes/moi", follow_redirects=False).status_code == 303


def test_forms_without_the_csrf_token_are_refused(browser, landes, sql_owner):
    login(browser, "landes", "admin.landes")
    name = f"Pharmacie {uuid.uuid4().hex[:6]}"
    refused = browser.post(
        "/t/landes/admin/organisations", data={"kind": "pharmacy", "name": name}, follow_redirects=False
    )
    assert refused.status_code == 403
    assert sql_owner.execute("SELECT count(*) FROM organisation WHERE name = %s", (name,)).fetchone()[0] == 0
    csrf = form_fields(browser.get("/t/landes/admin/organisations").text)["_csrf"]
    created = browser.post(
        "/t/landes/admin/organisations",
        data={"kind": "pharmacy", "name": name, "_csrf": csrf},
        follow_redirects=False,
    )
    assert created.status_code == 303
    assert name in browser.get("/t/landes/admin/organisations").text


def test_invalid_identifiers_in_the_admin_form_are_named_inline(browser, landes, sql_owner):
    login(browser, "landes", "admin.landes")
    csrf = form_fields(browser.get("/t/landes/admin/organisations").text)["_csrf"]
    name = f"Hôpital {uuid.uuid4().hex[:6]}"
    response = browser.post(
        "/t/landes/admin/organisations",
        data={"kind": "hospital", "name": name, "finess_et": "400009998", "siret": "123", "_csrf": csrf},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert 'id="org-finess_et-error"' in response.text
    assert 'id="org-siret-error"' in response.text
    assert "<html" not in response.text  # htmx gets the form fragment only
    assert sql_owner.execute("SELECT count(*) FROM organisation WHERE name = %s", (name,)).fetchone()[0] == 0


def test_an_invited_user_gets_the_role_at_first_login(browser, landes, aio):
    login(browser, "landes", "admin.landes")
    email = f"nouvelle-{uuid.uuid4().hex[:6]}@demo.parcours.test"
    page = browser.get("/t/landes/admin/membres")
    csrf = form_fields(page.text)["_csrf"]
    invited = browser.post(
        "/t/landes/admin/membres",
        data={"email": email, "role": "social_worker", "organisation_id": "", "_csrf": csrf},
        follow_redirects=False,
    )
    assert invited.status_code == 303
    assert email in browser.get("/t/landes/admin/membres").text
    username = email.split("@")[0]
    aio.run(
        ensure_demo_account(
            username, PASSWORD, {"given_name": "Nina", "family_name": "Nouvelle", "email": email}
        )
    )
    browser.cookies.clear()
    assert login(browser, "landes", username).status_code == 303
    profile = browser.get("/t/landes/moi")
    assert "Travailleur social" in profile.text


def test_someone_without_a_role_is_told_so(browser, landes, aio):
    username = f"inconnu-{uuid.uuid4().hex[:6]}"
    aio.run(ensure_demo_account(username, PASSWORD, {"given_name": "Ivan", "family_name": "Inconnu"}))
    response = login(browser, "landes", username)
    assert response.status_code == 403
    assert "pas encore de rôle" in response.text


def test_logins_and_failures_are_in_the_audit_trail(browser, landes, aio, sql_owner):
    login(browser, "landes", "medecin.landes")
    browser.cookies.clear()
    start = browser.get("/t/landes/login/demo", follow_redirects=False)
    callback = path_of(start.headers["location"]).replace("/idp/authorize", "/t/landes/auth/callback")
    browser.get("/t/landes/auth/callback?state=forged&code=forged")
    rows = sql_owner.execute(
        "SELECT outcome FROM audit_entry WHERE tenant_id = %s AND action = 'login' ORDER BY seq",
        (landes.tenant.id,),
    ).fetchall()
    outcomes = {outcome for (outcome,) in rows}
    assert {"success", "failure"} <= outcomes
    assert callback  # the flow reached the provider
    assert aio.run(verify(landes.tenant.id)).intact


def test_one_session_works_in_every_territory_where_the_user_has_a_role(browser, landes, aio, make_tenant):
    """Switching territory needs no new login: the role there is picked from the same session."""
    other = make_tenant()
    email = "coordinatrice.landes@demo.parcours.test"
    from core.identity.directory import invite_member

    aio.run(invite_member(other.id, email, "coordinator", None, "test"))
    login(browser, "landes", "coordinatrice.landes")
    assert browser.get("/t/landes/admin/").status_code == 200
    # the invitation in the other territory is matched to the account on its first visit
    assert browser.get(f"/t/{other.slug}/admin/").status_code == 200
    assert browser.get("/t/landes/admin/").status_code == 200


def test_idle_sessions_expire(browser, landes, sql_owner):
    login(browser, "landes", "medecin.landes")
    assert browser.get("/t/landes/moi").status_code == 200
    token = browser.cookies.get(SESSION_COOKIE)
    import hashlib

    sql_owner.execute(
        "UPDATE web_session SET last_seen_at = now() - interval '31 minutes' WHERE token_digest = %s",
        (hashlib.sha256(token.encode()).hexdigest(),),
    )
    expired = browser.get("/t/landes/moi", follow_redirects=False)
    assert expired.status_code == 303
    assert expired.headers["location"].startswith("/t/landes/login")


def test_login_endpoints_are_rate_limited(runtime, landes):
    """A burst of login attempts from one address is answered 429, other pages are not."""
    from dataclasses import replace

    from litestar.testing import TestClient

    from web.app import create_app

    strict = replace(runtime, settings=runtime.settings.model_copy(update={"login_attempts_per_minute": 3}))
    with TestClient(create_app(strict, start_jobs=False), base_url="http://localhost") as limited:
        codes = [limited.get("/t/landes/login").status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200]
        assert codes[3:] == [429, 429]
        assert limited.get("/t/landes/").status_code == 200


def test_several_roles_in_a_territory_ask_which_one(browser, landes, aio):
    """Someone who is both coordinator and social worker chooses, and can switch later."""
    from core.identity.directory import invite_member
    from core.identity.directory import list_memberships as memberships_of

    username = f"double-{uuid.uuid4().hex[:6]}"
    email = f"{username}@demo.parcours.test"
    aio.run(
        ensure_demo_account(
            username, PASSWORD, {"given_name": "Dora", "family_name": "Double", "email": email}
        )
    )
    coordinator = aio.run(invite_member(landes.tenant.id, email, "coordinator", None, "test"))
    aio.run(invite_member(landes.tenant.id, email, "social_worker", None, "test"))
    done = login(browser, "landes", username, next_path="/t/landes/admin")
    assert done.headers["location"].startswith("/t/landes/compte/choisir")
    page = browser.get(path_of(done.headers["location"]))
    fields = form_fields(page.text)
    assert "Coordinateur de parcours" in page.text and "Travailleur social" in page.text
    fields["membership_id"] = str(coordinator.id)
    chosen = browser.post("/t/landes/compte/choisir", data=fields, follow_redirects=False)
    assert chosen.status_code == 303
    assert chosen.headers["location"] == "/t/landes/admin"
    assert browser.get("/t/landes/admin/").status_code == 200
    profile = browser.get("/t/landes/moi")
    assert "Changer de rôle" in profile.text
    assert 'href="/t/landes/admin/"' in profile.text  # the coordinator's menu offers administration
    social = next(
        m
        for m in aio.run(memberships_of(landes.tenant.id))
        if m.invited_email == email and m.role == "social_worker"
    )
    fields = {**form_fields(profile.text), "membership_id": str(social.id)}
    browser.post("/t/landes/compte/choisir", data=fields)
    assert browser.get("/t/landes/admin/", follow_redirects=False).status_code == 403


def test_professional_form_names_a_bad_rpps_inline(browser, landes, sql_owner):
    login(browser, "landes", "admin.landes")
    csrf = form_fields(browser.get("/t/landes/admin/professionnels").text)["_csrf"]
    name = f"Testeur{uuid.uuid4().hex[:6]}"
    data = {
        "family_name": name,
        "given_names": "Léa",
        "profession": "kinésithérapeute",
        "rpps": "19990000003",
        "_csrf": csrf,
    }
    refused = browser.post("/t/landes/admin/professionnels", data=data, headers={"HX-Request": "true"})
    assert refused.status_code == 422
    assert 'id="pro-rpps-error"' in refused.text and "RPPS" in refused.text
    assert (
        sql_owner.execute("SELECT count(*) FROM professional WHERE family_name = %s", (name,)).fetchone()[0]
        == 0
    )
    data["rpps"] = ""  # an RPPS is optional
    assert (
        browser.post("/t/landes/admin/professionnels", data=data, follow_redirects=False).status_code == 303
    )
    assert name in browser.get("/t/landes/admin/professionnels").text


def test_a_callback_link_forged_by_someone_else_does_not_log_this_browser_in(browser, landes, client):
    """Login CSRF: the attacker's own callback URL, opened in the victim's browser, is refused."""
    start = browser.get("/t/landes/login/demo", follow_redirects=False)
    answer = idp_login(browser, start.headers["location"], "medecin.landes", PASSWORD)
    forged = path_of(answer.headers["location"])
    browser.cookies.clear()  # the victim's browser never started this login
    response = browser.get(forged, follow_redirects=False)
    assert response.status_code == 401
    assert "pas été commencée dans ce navigateur" in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_a_coordinator_cannot_appoint_a_territory_admin(browser, landes, sql_owner):
    login(browser, "landes", "coordinatrice.landes")
    csrf = form_fields(browser.get("/t/landes/admin/membres").text)["_csrf"]
    email = f"chef-{uuid.uuid4().hex[:6]}@demo.parcours.test"
    response = browser.post(
        "/t/landes/admin/membres",
        data={"email": email, "role": "territory_admin", "organisation_id": "", "_csrf": csrf},
    )
    assert response.status_code == 422
    assert "seul un administrateur du territoire" in response.text
    assert (
        sql_owner.execute("SELECT count(*) FROM membership WHERE invited_email = %s", (email,)).fetchone()[0]
        == 0
    )


def test_administrative_changes_are_audited(browser, landes, sql_owner, aio):
    login(browser, "landes", "admin.landes")
    csrf = form_fields(browser.get("/t/landes/admin/membres").text)["_csrf"]
    email = f"audit-{uuid.uuid4().hex[:6]}@demo.parcours.test"
    browser.post(
        "/t/landes/admin/membres",
        data={"email": email, "role": "carer", "organisation_id": "", "_csrf": csrf},
        follow_redirects=False,
    )
    actions = [
        action
        for (action,) in sql_owner.execute(
            "SELECT action FROM audit_entry WHERE tenant_id = %s ORDER BY seq DESC LIMIT 3",
            (landes.tenant.id,),
        ).fetchall()
    ]
    assert actions[0] == "membership.invite"
    assert aio.run(verify(landes.tenant.id)).intact


def test_revoking_a_role_is_audited_and_admin_roles_are_protected(browser, landes, sql_owner, aio):
    from core.identity.directory import invite_member

    email = f"retrait-{uuid.uuid4().hex[:6]}@demo.parcours.test"
    admin = aio.run(invite_member(landes.tenant.id, email, "territory_admin", None, "test"))
    helper = aio.run(invite_member(landes.tenant.id, email, "carer", None, "test"))
    login(browser, "landes", "coordinatrice.landes")
    csrf = form_fields(browser.get("/t/landes/admin/membres").text)["_csrf"]
    refused = browser.post(
        f"/t/landes/admin/membres/{admin.id}/retirer", data={"_csrf": csrf}, follow_redirects=False
    )
    assert refused.status_code == 403
    done = browser.post(
        f"/t/landes/admin/membres/{helper.id}/retirer", data={"_csrf": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    status = dict(
        sql_owner.execute(
            "SELECT id::text, status FROM membership WHERE id IN (%s, %s)", (admin.id, helper.id)
        ).fetchall()
    )
    assert status == {str(admin.id): "invited", str(helper.id): "revoked"}
    last = sql_owner.execute(
        "SELECT action, target_id FROM audit_entry WHERE tenant_id = %s ORDER BY seq DESC LIMIT 1",
        (landes.tenant.id,),
    ).fetchone()
    assert last == ("membership.revoke", str(helper.id))
