"""The built-in OpenID Connect provider at /idp, driven as a browser and a relying party would."""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import uuid
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from core.identity.idp.service import (
    ensure_client,
    ensure_demo_account,
    find_account,
    find_client,
    register_client,
)

ISSUER = "http://localhost/idp"
PASSWORD = "mot-de-passe-de-démo"
SCOPE = "openid profile email"


@dataclass(frozen=True)
class Relying:
    client_id: str
    secret: str
    redirect_uri: str


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str


@pytest.fixture
def account(aio):
    username = "medecin-" + uuid.uuid4().hex[:10]
    claims = {
        "given_name": "Camille",
        "family_name": "Martin",
        "email": f"{username}@exemple.fr",
        "rpps": "10001234567",
    }
    return aio.run(ensure_demo_account(username, PASSWORD, claims))


@pytest.fixture
def relying(aio):
    client_id = "rp-" + uuid.uuid4().hex[:10]
    secret = secrets.token_urlsafe(24)
    redirect_uri = f"https://rp.exemple.fr/auth/callback/{client_id}"
    aio.run(ensure_client(client_id, secret, "Parcours (partie cliente)", [redirect_uri]))
    return Relying(client_id, secret, redirect_uri)


def pkce() -> Pkce:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return Pkce(verifier, challenge)


def request_params(rp: Relying, challenge: Pkce | None, **extra: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": rp.client_id,
        "redirect_uri": rp.redirect_uri,
        "scope": SCOPE,
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
    }
    if challenge is not None:
        params.update(code_challenge=challenge.challenge, code_challenge_method="S256")
    params.update(extra)
    return params


class _Form(HTMLParser):
    """The inputs of the page's login form, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.inputs: dict[str, str] = {}
        self.labels: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.action = attributes.get("action")
        elif tag == "input" and "name" in attributes:
            self.inputs[attributes["name"]] = attributes.get("value", "")
        elif tag == "label":
            self.labels.add(attributes.get("for", ""))


def text(response: Any) -> str:
    """The page as a reader sees it (entities decoded)."""
    return html.unescape(response.text)


def login_form(response: Any) -> _Form:
    form = _Form()
    form.feed(response.text)
    return form


def authorize(client, params: dict[str, str]) -> Any:
    return client.get("/idp/authorize", params=params, follow_redirects=False)


def submit_login(client, page: Any, username: str, password: str) -> Any:
    form = login_form(page)
    assert form.action == "/idp/authorize"
    fields = {**form.inputs, "username": username, "password": password}
    return client.post(form.action, data=fields, follow_redirects=False)


def code_from(response: Any, rp: Relying, state: str) -> str:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(rp.redirect_uri + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [state]
    return query["code"][0]


def log_in(client, rp: Relying, username: str, challenge: Pkce, **extra: str) -> tuple[str, dict[str, str]]:
    params = request_params(rp, challenge, **extra)
    page = authorize(client, params)
    assert page.status_code == 200, page.text
    response = submit_login(client, page, username, PASSWORD)
    return code_from(response, rp, params["state"]), params


def exchange(client, rp: Relying, code: str, verifier: str, *, basic: bool = True) -> Any:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": rp.redirect_uri,
        "code_verifier": verifier,
    }
    if basic:
        return client.post("/idp/token", data=data, auth=(rp.client_id, rp.secret))
    return client.post("/idp/token", data={**data, "client_id": rp.client_id, "client_secret": rp.secret})


def verified_claims(client, id_token: str, rp: Relying, nonce: str) -> dict[str, Any]:
    """Check the ID token as a relying party does: signature against the JWKS, then claims."""
    discovery = client.get("/idp/.well-known/openid-configuration").json()
    jwks = client.get(urlsplit(discovery["jwks_uri"]).path).json()
    token = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=["RS256"])
    assert token.header["kid"] == jwks["keys"][0]["kid"]
    JWTClaimsRegistry(
        iss={"essential": True, "value": discovery["issuer"]},
        aud={"essential": True, "value": rp.client_id},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        auth_time={"essential": True},
    ).validate(token.claims)
    return dict(token.claims)


# --------------------------------------------------------------------------- discovery and keys


def test_discovery_document(client):
    response = client.get("/idp/.well-known/openid-configuration")
    assert response.status_code == 200
    document = response.json()
    assert document["issuer"] == ISSUER
    assert document["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert document["token_endpoint"] == f"{ISSUER}/token"
    assert document["userinfo_endpoint"] == f"{ISSUER}/userinfo"
    assert document["jwks_uri"] == f"{ISSUER}/jwks"
    assert document["response_types_supported"] == ["code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(document["scopes_supported"]) == {"openid", "profile", "email"}
    assert set(document["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    OpenIDProviderMetadata(document).validate()  # authlib's checks of OpenID Connect Discovery


def test_jwks_has_one_rsa_signing_key(client):
    response = client.get("/idp/jwks")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert key["kty"] == "RSA"
    assert key["kid"]
    assert key["use"] == "sig" and key["alg"] == "RS256"
    assert "d" not in key and "p" not in key  # public part only
    assert client.get("/idp/jwks").json() == response.json()  # the same key, not a new one


# --------------------------------------------------------------------------- the flow


def test_full_authorization_code_flow(client, account, relying):
    challenge = pkce()
    params = request_params(relying, challenge)

    page = authorize(client, params)
    assert page.status_code == 200
    assert "Connexion — fournisseur d'identité de démonstration" in text(page)
    assert "démonstrations et les tests" in text(page)
    assert "Parcours (partie cliente)" in text(page)
    form = login_form(page)
    assert {"username", "password"} <= form.labels
    for name, value in params.items():
        assert form.inputs[name] == value  # the request travels in hidden fields
    assert "form-action 'self' https://rp.exemple.fr" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"

    response = submit_login(client, page, account.username, PASSWORD)
    code = code_from(response, relying, params["state"])

    token_response = exchange(client, relying, code, challenge.verifier)
    assert token_response.status_code == 200, token_response.text
    assert token_response.headers["cache-control"] == "no-store"
    tokens = token_response.json()
    assert tokens["token_type"] == "Bearer"
    assert set(tokens["scope"].split()) == {"openid", "profile", "email"}
    assert "refresh_token" not in tokens

    claims = verified_claims(client, tokens["id_token"], relying, params["nonce"])
    assert claims["sub"] == str(account.id)
    assert claims["email"] == account.email and claims["email_verified"] is True
    assert claims["given_name"] == "Camille" and claims["family_name"] == "Martin"
    assert claims["rpps"] == "10001234567"
    assert claims["exp"] - claims["iat"] == 300

    userinfo = client.get("/idp/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert userinfo.status_code == 200, userinfo.text
    info = userinfo.json()
    assert info["sub"] == claims["sub"]
    assert info["email"] == account.email
    assert info["family_name"] == "Martin"
    assert info["rpps"] == "10001234567"


def test_client_secret_post_and_narrower_scope(client, account, relying):
    challenge = pkce()
    code, params = log_in(client, relying, account.username, challenge, scope="openid")
    response = exchange(client, relying, code, challenge.verifier, basic=False)
    assert response.status_code == 200, response.text
    claims = verified_claims(client, response.json()["id_token"], relying, params["nonce"])
    assert "email" not in claims and "family_name" not in claims  # only what the scopes release
    assert claims["sub"] == str(account.id)


def test_login_hint_prefills_the_username(client, account, relying):
    page = authorize(client, request_params(relying, pkce(), login_hint=account.username))
    assert login_form(page).inputs["username"] == account.username


# --------------------------------------------------------------------------- refusals


def test_wrong_password_shows_an_error_and_no_code_then_the_right_one_works(client, account, relying):
    challenge = pkce()
    params = request_params(relying, challenge)
    page = authorize(client, params)

    failed = submit_login(client, page, account.username, "pas-le-bon")
    assert failed.status_code == 200
    assert "location" not in failed.headers
    assert "Identifiant ou mot de passe incorrect" in text(failed)
    assert "code=" not in text(failed)
    assert login_form(failed).inputs["username"] == account.username

    unknown = submit_login(client, failed, "personne-" + uuid.uuid4().hex[:8], PASSWORD)
    assert "Identifiant ou mot de passe incorrect" in text(unknown)

    response = submit_login(client, failed, account.username, PASSWORD)  # the re-rendered form
    code = code_from(response, relying, params["state"])
    assert exchange(client, relying, code, challenge.verifier).status_code == 200


def test_repeated_failures_block_that_username_for_a_while(client, aio, account, relying):
    page = authorize(client, request_params(relying, pkce()))
    for _ in range(5):
        assert "Identifiant ou mot de passe incorrect" in text(
            submit_login(client, page, account.username, "x")
        )
    blocked = submit_login(client, page, account.username, PASSWORD)
    assert blocked.status_code == 429
    assert "Trop de tentatives" in text(blocked)
    assert "location" not in blocked.headers

    other = aio.run(
        ensure_demo_account(
            "autre-" + uuid.uuid4().hex[:8], PASSWORD, {"given_name": "A", "family_name": "B"}
        )
    )
    assert submit_login(client, page, other.username, PASSWORD).status_code == 303


def test_a_code_works_once_and_a_replay_revokes_its_token(client, account, relying):
    challenge = pkce()
    code, _ = log_in(client, relying, account.username, challenge)
    first = exchange(client, relying, code, challenge.verifier)
    assert first.status_code == 200
    bearer = {"Authorization": f"Bearer {first.json()['access_token']}"}
    assert client.get("/idp/userinfo", headers=bearer).status_code == 200

    second = exchange(client, relying, code, challenge.verifier)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    assert "access_token" not in second.text
    assert client.get("/idp/userinfo", headers=bearer).status_code == 401


def test_wrong_code_verifier_is_invalid_grant(client, account, relying):
    challenge = pkce()
    code, _ = log_in(client, relying, account.username, challenge)
    response = exchange(client, relying, code, pkce().verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    # A failed attempt does not burn the code for its rightful holder.
    assert exchange(client, relying, code, challenge.verifier).status_code == 200


def test_missing_code_verifier_is_refused(client, account, relying):
    challenge = pkce()
    code, _ = log_in(client, relying, account.username, challenge)
    response = client.post(
        "/idp/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": relying.redirect_uri},
        auth=(relying.client_id, relying.secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_pkce_is_required_and_s256_only(client, relying):
    for params in (
        request_params(relying, None),
        request_params(relying, pkce(), code_challenge_method="plain"),
    ):
        response = authorize(client, params)
        assert response.status_code == 303
        query = parse_qs(urlsplit(response.headers["location"]).query)
        assert query["error"] == ["invalid_request"]
        assert query["state"] == [params["state"]]
        assert "code" not in query


def test_nonce_and_state_are_required(client, relying):
    for missing in ("nonce", "state"):
        params = request_params(relying, pkce())
        del params[missing]
        response = authorize(client, params)
        assert response.status_code == 303
        assert parse_qs(urlsplit(response.headers["location"]).query)["error"] == ["invalid_request"]


def test_openid_scope_is_required(client, relying):
    response = authorize(client, request_params(relying, pkce(), scope="profile"))
    assert parse_qs(urlsplit(response.headers["location"]).query)["error"] == ["invalid_scope"]


def test_unknown_redirect_uri_or_client_shows_a_page_and_never_redirects(client, relying):
    for params in (
        request_params(relying, pkce(), redirect_uri="https://attaquant.exemple/callback"),
        request_params(relying, pkce(), client_id="inconnu-" + uuid.uuid4().hex[:6]),
        {k: v for k, v in request_params(relying, pkce()).items() if k != "redirect_uri"},
    ):
        response = authorize(client, params)
        assert response.status_code == 400
        assert "location" not in response.headers
        assert "Demande de connexion refusée" in text(response)
        assert "attaquant.exemple" not in text(response)
        assert 'name="password"' not in text(response)

    # A tampered form is refused the same way, before any credential check.
    page = authorize(client, request_params(relying, pkce()))
    form = login_form(page)
    tampered = {
        **form.inputs,
        "redirect_uri": "https://attaquant.exemple/cb",
        "username": "x",
        "password": "y",
    }
    response = client.post("/idp/authorize", data=tampered, follow_redirects=False)
    assert response.status_code == 400
    assert "location" not in response.headers


def test_expired_code_is_refused(client, account, relying, sql_owner):
    challenge = pkce()
    code, _ = log_in(client, relying, account.username, challenge)
    sql_owner.execute(
        "UPDATE idp_authorization_code SET expires_at = now() - interval '1 second' WHERE code_digest = %s",
        (hashlib.sha256(code.encode()).hexdigest(),),
    )
    response = exchange(client, relying, code, challenge.verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_code_of_another_client_or_redirect_uri_is_refused(client, aio, account, relying):
    challenge = pkce()
    code, _ = log_in(client, relying, account.username, challenge)
    other = Relying("rp-" + uuid.uuid4().hex[:10], "secret-" + uuid.uuid4().hex, "https://autre.exemple/cb")
    aio.run(ensure_client(other.client_id, other.secret, "Autre", [other.redirect_uri]))
    assert exchange(client, other, code, challenge.verifier).json()["error"] == "invalid_grant"
    moved = Relying(relying.client_id, relying.secret, relying.redirect_uri + "/ailleurs")
    assert exchange(client, moved, code, challenge.verifier).json()["error"] == "invalid_grant"
    assert exchange(client, relying, code, challenge.verifier).status_code == 200


def test_wrong_client_secret_is_invalid_client(client, account, relying):
    challenge = pkce()
    code, _ = log_in(client, relying, account.username, challenge)
    impostor = Relying(relying.client_id, "pas-le-secret", relying.redirect_uri)
    response = exchange(client, impostor, code, challenge.verifier)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_userinfo_needs_a_valid_bearer_token(client):
    missing = client.get("/idp/userinfo")
    assert missing.status_code == 401
    assert "Bearer" in missing.headers["www-authenticate"]
    invalid = client.get("/idp/userinfo", headers={"Authorization": "Bearer pas-un-jeton"})
    assert invalid.status_code == 401
    assert invalid.json()["error"] == "invalid_token"


def test_token_endpoint_wants_a_form(client):
    response = client.post("/idp/token", json={"grant_type": "authorization_code"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


# --------------------------------------------------------------------------- storage


def test_secrets_are_stored_hashed_digested_or_encrypted(client, aio, account, relying, sql_owner):
    challenge = pkce()
    code, _ = log_in(client, relying, account.username, challenge)
    access_token = exchange(client, relying, code, challenge.verifier).json()["access_token"]

    password_hash = sql_owner.execute(
        "SELECT password_hash FROM idp_account WHERE id = %s", (account.id,)
    ).fetchone()[0]
    assert password_hash.startswith("$argon2id$")
    secret_hash = sql_owner.execute(
        "SELECT client_secret_hash FROM idp_client WHERE client_id = %s", (relying.client_id,)
    ).fetchone()[0]
    assert secret_hash.startswith("$argon2id$") and relying.secret not in secret_hash
    for table, column, value in (
        ("idp_authorization_code", "code_digest", code),
        ("idp_access_token", "token_digest", access_token),
    ):
        stored = sql_owner.execute(f"SELECT {column} FROM {table}").fetchall()
        assert (hashlib.sha256(value.encode()).hexdigest(),) in stored
        assert (value,) not in stored
    ciphertext, public_jwk = sql_owner.execute(
        "SELECT private_jwk_ciphertext, public_jwk FROM idp_signing_key WHERE retired_at IS NULL"
    ).fetchone()
    assert b'"d"' not in bytes(ciphertext) and "d" not in public_jwk


def test_ensure_functions_are_idempotent(aio):
    username = "demo-" + uuid.uuid4().hex[:8]
    claims = {"given_name": "Lou", "family_name": "Durand", "email": f"{username}@exemple.fr"}
    first = aio.run(ensure_demo_account(username, PASSWORD, claims))
    again = aio.run(ensure_demo_account(username, PASSWORD, {**claims, "rpps": "10000000001"}))
    assert again.id == first.id and again.extra_claims == {"rpps": "10000000001"}
    assert aio.run(find_account(username.upper())) == again

    client_id = "demo-rp-" + uuid.uuid4().hex[:6]
    one = aio.run(ensure_client(client_id, "s3cret-démo", "Démo", ["https://rp.exemple.fr/cb"]))
    two = aio.run(ensure_client(client_id, "s3cret-démo", "Démo", ["https://rp.exemple.fr/cb"]))
    assert one == two  # same secret: not re-hashed
    assert aio.run(find_client(client_id)) == two

    new = aio.run(register_client("Nouveau client", ["https://rp.exemple.fr/cb"]))
    record = aio.run(find_client(new.client_id))
    assert record is not None and record.verify_secret(new.client_secret)
