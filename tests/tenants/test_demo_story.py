"""The demo territory shows a whole discharge story: event → proposals → done → provider, funding, D+7."""

from __future__ import annotations

from tenants.demo import seed_all


def test_the_demo_discharge_story_is_followed_to_the_end(aio, runtime, sql_owner):
    reports = aio.run(seed_all(runtime))
    tenant_id = next(r for r in reports if r.tenant.slug == "landes").tenant.id
    event_id = sql_owner.execute(
        "SELECT id FROM event WHERE tenant_id = %s AND idempotency_key = 'demo-landes-story-0001'",
        (tenant_id,),
    ).fetchone()[0]
    rows = sql_owner.execute(
        "SELECT p.action_type, p.status, o.name, p.carrier_label, p.completed_at IS NOT NULL "
        "FROM action_proposal p LEFT JOIN organisation o ON o.id = p.assignee_organisation_id "
        "WHERE p.event_id = %s ORDER BY p.action_type",
        (event_id,),
    ).fetchall()
    by_type = {row[0]: row for row in rows}
    assert set(by_type) == {
        "funding_request",
        "gp_follow_up_call",
        "home_help_assessment",
        "nurse_visit",
        "pharmacy_delivery",
    }
    assert all(row[1] == "completed" and row[4] for row in rows), rows
    assert by_type["gp_follow_up_call"][2].startswith("Cabinet médical du Sablar")  # the care team's GP
    assert by_type["nurse_visit"][2].startswith("Cabinet infirmier des Arènes")
    assert by_type["home_help_assessment"][3] == "Aide et présence Landes (démo)"
    assert by_type["nurse_visit"][3] == "Cabinet infirmier des Arènes (par lien)"
    funding = sql_owner.execute(
        "SELECT f.programme, f.status, f.amount_cents FROM proposal_funding f "
        "JOIN action_proposal p ON p.id = f.proposal_id WHERE p.event_id = %s",
        (event_id,),
    ).fetchall()
    assert funding == [("ardh", "approved", 145000)]  # decided by the CARSAT in the single window
    checks = sql_owner.execute(
        "SELECT horizon_days, checked_at IS NOT NULL, readmitted FROM readmission_check "
        "WHERE discharge_event_id = %s ORDER BY horizon_days",
        (event_id,),
    ).fetchall()
    assert checks == [(7, True, False), (30, False, None)]
    vias = sql_owner.execute(
        "SELECT DISTINCT h.via FROM proposal_history h JOIN action_proposal p ON p.id = h.proposal_id "
        "WHERE p.event_id = %s",
        (event_id,),
    ).fetchall()
    assert {via for (via,) in vias} == {"system", "user", "link"}
