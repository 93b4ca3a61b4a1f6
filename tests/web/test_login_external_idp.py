"""The relying party is standard: it logs in through an independent OIDC provider too.

``oidc-provider-mock`` (authlib + Flask, a different code base from ours) runs a
real HTTP server on loopback; the app talks to it over the network exactly as
it would to Pro Santé Connect or FranceConnect.
"""

from __future__ import annotations

import uuid
import warnings
from urllib.parse import urlsplit

import httpx
import pytest

from core.identity.directory import invite_member
from core.identity.oidc_client import register_provider

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from oidc_provider_mock import User, run_server_in_thread


VERIFIED = "ext-coordinatrice@hopital.test"


@pytest.fixture(scope="module")
def external_idp():
    users = [User(sub=VERIFIED, claims={"email": VERIFIED, "email_verified": True, "name": "Eva Externe"})]
    with run_server_in_thread(require_nonce=True, user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


def provider_tenant(aio, runtime, make_tenant, issuer):
    tenant = make_tenant()
    aio.run(
        register_provider(
            tenant.id,
            runtime.keyring,
            key="externe",
            label="un fournisseur externe",
            issuer=issuer,
            client_id="parcours-" + tenant.slug,
            client_secret="secret-" + uuid.uuid4().hex,
            audience="professionals",
        )
    )
    return tenant


def test_login_through_an_independent_provider(client, aio, runtime, make_tenant, external_idp):
    tenant = provider_tenant(aio, runtime, make_tenant, external_idp)
    email = VERIFIED
    aio.run(invite_member(tenant.id, email, "coordinator", None, "test"))
    client.cookies.clear()

    start = client.get(f"/t/{tenant.slug}/login/externe", follow_redirects=False)
    assert start.status_code == 303
    authorize = start.headers["location"]
    assert authorize.startswith(external_idp + "/oauth2/authorize?")
    query = dict(httpx.URL(authorize).params)
    assert query["code_challenge_method"] == "S256" and query["nonce"] and query["state"]

    # The person picks their identity at the provider (a real HTTP round trip).
    answer = httpx.post(authorize, data={"sub": email}, follow_redirects=False)
    assert answer.status_code in (302, 303)
    callback = urlsplit(answer.headers["location"])
    assert callback.path == f"/t/{tenant.slug}/auth/callback"

    done = client.get(f"{callback.path}?{callback.query}", follow_redirects=False)
    assert done.status_code == 303, done.text
    admin = client.get(f"/t/{tenant.slug}/admin/")
    assert admin.status_code == 200
    profile = client.get(f"/t/{tenant.slug}/moi")
    assert external_idp in profile.text  # the account is known by (issuer, subject)
    client.cookies.clear()


def test_an_unverified_address_does_not_claim_an_invitation(client, aio, runtime, make_tenant, external_idp):
    """A provider that does not vouch for the e-mail cannot take a role meant for that address."""
    tenant = provider_tenant(aio, runtime, make_tenant, external_idp)
    email = f"non-verifiee-{uuid.uuid4().hex[:6]}@hopital.test"
    aio.run(invite_member(tenant.id, email, "coordinator", None, "test"))
    client.cookies.clear()
    start = client.get(f"/t/{tenant.slug}/login/externe", follow_redirects=False)
    answer = httpx.post(start.headers["location"], data={"sub": email}, follow_redirects=False)
    callback = urlsplit(answer.headers["location"])
    response = client.get(f"{callback.path}?{callback.query}", follow_redirects=False)
    assert response.status_code == 403
    assert "pas encore de rôle" in response.text
    client.cookies.clear()
