"""The demo territory loads once, with fictional people flagged as demo data."""

from __future__ import annotations

from core.identity.roles import Role
from tenants.demo import seed_all


def test_demo_seed_is_idempotent_and_flags_demo_people(aio, runtime, sql_owner, client):
    first = aio.run(seed_all(runtime))
    second = aio.run(seed_all(runtime))
    landes = next(r for r in second if r.tenant.slug == "landes")
    assert landes.created_tenant is False
    assert landes.events_created == 0
    assert landes.tenant.is_demo
    assert landes.tenant.enabled_plugins[0] == "routing.discharge"
    assert "routing.fall" in landes.tenant.enabled_plugins
    tenant_id = landes.tenant.id
    events = sql_owner.execute(
        "SELECT count(*) FROM event WHERE tenant_id = %s AND declared_by = 'demo-seed'", (tenant_id,)
    ).fetchone()[0]
    assert events == 4  # three declared, one discharge story replayed
    people = sql_owner.execute(
        "SELECT count(*), bool_and(is_demo) FROM person WHERE tenant_id = %s AND is_demo", (tenant_id,)
    ).fetchone()
    assert people == (4, True)  # three declared in events, one carer
    carers = sql_owner.execute(
        "SELECT count(*) FROM carer_link WHERE tenant_id = %s AND revoked_at IS NULL", (tenant_id,)
    ).fetchone()[0]
    assert carers == 1
    roles = sql_owner.execute(
        "SELECT array_agg(DISTINCT role ORDER BY role) FROM membership WHERE tenant_id = %s", (tenant_id,)
    ).fetchone()[0]
    assert set(roles) == {role.value for role in Role}  # one demo account per role
    team, notes = sql_owner.execute(
        # Other tests add members and notes to the shared demo files: count what the seed wrote.
        "SELECT (SELECT count(*) FROM care_team_member WHERE tenant_id = %s AND function IN "
        "('médecin traitant', 'service de médecine gériatrique', 'coordination du parcours')), "
        "(SELECT count(*) FROM person_note WHERE tenant_id = %s AND author_user_id IS NULL)",
        (tenant_id, tenant_id),
    ).fetchone()
    assert (team, notes) == (3, 2)  # seeded once although the seed ran twice
    bodies = sql_owner.execute(
        "SELECT body_ciphertext FROM person_note WHERE tenant_id = %s", (tenant_id,)
    ).fetchall()
    assert not any(b"Insuffisance" in bytes(body) for (body,) in bodies)
    assert len(landes.logins) == 14
    funders = sql_owner.execute(
        "SELECT count(*) FROM tenant_setting WHERE tenant_id = %s AND key = 'organisation'", (tenant_id,)
    ).fetchone()
    assert funders == (6,)  # each enabled funder has its instructing organisation, once
    # the demo API client works with its published secret
    response = client.post(
        "/t/landes/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(first[0].api_clients[0]["client_id"], first[0].api_clients[0]["client_secret"]),
    )
    assert response.status_code == 200


def test_demo_ins_are_stored_encrypted(aio, runtime, sql_owner):
    aio.run(seed_all(runtime))
    rows = sql_owner.execute(
        "SELECT p.ins_ciphertext, p.ins_digest FROM person p JOIN tenant t ON t.id = p.tenant_id "
        "WHERE t.slug = 'landes'"
    ).fetchall()
    assert rows
    for ciphertext, digest in rows:
        assert b"242024019212329" not in bytes(ciphertext)
        assert "242024019212329" not in digest
