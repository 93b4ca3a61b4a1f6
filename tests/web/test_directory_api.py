"""The directory API checks identifiers at the edge and names the faulty field."""

from __future__ import annotations

from core.identity.identifiers import finess_check_digit, luhn_check_digit

SCOPES = ("directory:read", "directory:write")


def valid_siret(first8: str = "99900004") -> str:
    """A fictional SIRET: Luhn-valid SIREN + establishment 0001 + Luhn key."""
    payload = first8 + luhn_check_digit(first8) + "0001"
    return payload + luhn_check_digit(payload)


def test_create_and_list_organisations(client, tenant, token_for):
    headers = token_for(tenant, scopes=SCOPES)
    finess = "40000123" + finess_check_digit("40000123")
    body = {"kind": "hospital", "name": "Clinique des Pins", "finess_et": finess, "siret": valid_siret()}
    created = client.post(f"/t/{tenant.slug}/api/v1/organisations", json=body, headers=headers)
    assert created.status_code == 201, created.text
    listed = client.get(f"/t/{tenant.slug}/api/v1/organisations", headers=headers).json()
    assert [o["finess_et"] for o in listed] == [finess]


def test_invalid_identifiers_are_422_naming_each_field(client, tenant, token_for, sql_owner):
    headers = token_for(tenant, scopes=SCOPES)
    body = {"kind": "hospital", "name": "Clinique", "finess_et": "400001230", "siret": "12345678901234"}
    response = client.post(f"/t/{tenant.slug}/api/v1/organisations", json=body, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in response.json()["errors"]} == {"finess_et", "siret"}
    rpps = "1999000000" + str((int(luhn_check_digit("1999000000")) + 1) % 10)
    response = client.post(
        f"/t/{tenant.slug}/api/v1/professionals",
        json={"profession": "infirmier", "family_name": "Dupin", "given_names": "Luc", "rpps": rpps},
        headers=headers,
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["rpps"]
    count = sql_owner.execute(
        "SELECT (SELECT count(*) FROM organisation WHERE tenant_id = %s) + "
        "(SELECT count(*) FROM professional WHERE tenant_id = %s)",
        (tenant.id, tenant.id),
    ).fetchone()[0]
    assert count == 0


def test_a_read_only_client_cannot_write(client, tenant, token_for):
    headers = token_for(tenant, scopes=("directory:read",))
    response = client.post(
        f"/t/{tenant.slug}/api/v1/organisations", json={"kind": "ccas", "name": "CCAS"}, headers=headers
    )
    assert response.status_code == 403


def test_professional_with_valid_rpps(client, tenant, token_for):
    headers = token_for(tenant, scopes=SCOPES)
    rpps = "1999000123" + luhn_check_digit("1999000123")
    body = {"profession": "infirmière", "family_name": "Lalanne", "given_names": "Inès", "rpps": rpps}
    assert (
        client.post(f"/t/{tenant.slug}/api/v1/professionals", json=body, headers=headers).status_code == 201
    )
    listed = client.get(f"/t/{tenant.slug}/api/v1/professionals", headers=headers).json()
    assert [p["rpps"] for p in listed] == [rpps]
