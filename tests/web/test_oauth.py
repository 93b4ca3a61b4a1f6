"""OAuth 2.0 client credentials at /t/{slug}/oauth/token."""

from __future__ import annotations

from core.access.service import create_client


def new_client(aio, tenant, scopes=("events:write", "events:read")):
    return aio.run(create_client(tenant.id, "Partenaire", list(scopes)))


def test_token_with_basic_credentials(client, aio, tenant):
    new = new_client(aio, tenant)
    response = client.post(
        f"/t/{tenant.slug}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(new.client_id, new.client_secret),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    assert set(body["scope"].split()) == {"events:write", "events:read"}
    assert response.headers["cache-control"] == "no-store"


def test_token_with_form_credentials_and_narrowed_scope(client, aio, tenant):
    new = new_client(aio, tenant)
    response = client.post(
        f"/t/{tenant.slug}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": new.client_id,
            "client_secret": new.client_secret,
            "scope": "events:read",
        },
    )
    assert response.status_code == 200
    assert response.json()["scope"] == "events:read"


def test_wrong_secret_is_invalid_client(client, aio, tenant):
    new = new_client(aio, tenant)
    response = client.post(
        f"/t/{tenant.slug}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(new.client_id, "not-the-secret"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_client_of_another_tenant_cannot_get_a_token_here(client, aio, make_tenant):
    tenant_a, tenant_b = make_tenant(), make_tenant()
    new = new_client(aio, tenant_a)
    response = client.post(
        f"/t/{tenant_b.slug}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(new.client_id, new.client_secret),
    )
    assert response.status_code == 401
    assert "access_token" not in response.text


def test_unsupported_grant_and_unknown_scope(client, aio, tenant):
    new = new_client(aio, tenant)
    url = f"/t/{tenant.slug}/oauth/token"
    creds = (new.client_id, new.client_secret)
    response = client.post(url, data={"grant_type": "password"}, auth=creds)
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    response = client.post(url, data={"grant_type": "client_credentials", "scope": "admin"}, auth=creds)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_json_body_is_refused_with_an_oauth_error(client, tenant):
    response = client.post(f"/t/{tenant.slug}/oauth/token", json={"grant_type": "client_credentials"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_client_secret_is_stored_hashed(aio, tenant, sql_owner):
    new = new_client(aio, tenant)
    stored = sql_owner.execute(
        "SELECT secret_hash FROM api_client WHERE client_id = %s", (new.client_id,)
    ).fetchone()[0]
    assert new.client_secret not in stored
    assert stored.startswith("$argon2id$")
