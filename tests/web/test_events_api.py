"""The walking skeleton through HTTP: a partner declares a discharge, proposals appear."""

from __future__ import annotations

import uuid

from tests.conftest import wait_for
from tests.factories import discharge, nir


def post_event(client, tenant, headers, body, key=None):
    return client.post(
        f"/t/{tenant.slug}/api/v1/events",
        json=body,
        headers={**headers, "Idempotency-Key": key or uuid.uuid4().hex},
    )


def routed(client, tenant, headers, event_id):
    def check():
        body = client.get(f"/t/{tenant.slug}/api/v1/events/{event_id}", headers=headers).json()
        return body if body["status"] == "routed" else None

    return wait_for(check, timeout=10)


def test_discharge_of_a_fragile_person_yields_the_discharge_proposals(client, tenant, token_for):
    headers = token_for(tenant)
    response = post_event(client, tenant, headers, discharge())
    assert response.status_code == 201
    assert response.json()["status"] == "received"
    event = routed(client, tenant, headers, response.json()["id"])
    kinds = {p["action_type"]: p for p in event["proposals"]}
    assert {"home_help_assessment", "nurse_visit", "gp_follow_up_call"} <= set(kinds)
    assert all(p["status"] == "requested" for p in event["proposals"])
    # A territory without a nursing practice in its directory: the coordinators dispatch it.
    nurse = kinds["nurse_visit"]
    assert (nurse["assignee_kind"], nurse["assignee"]) == ("role", "coordinator")
    assert kinds["gp_follow_up_call"]["source_plugin"] == "routing.discharge"


def test_same_idempotency_key_returns_same_event_and_creates_nothing(client, tenant, token_for, sql_owner):
    headers = token_for(tenant)
    body = discharge()
    first = post_event(client, tenant, headers, body, key="hospital-42")
    event = routed(client, tenant, headers, first.json()["id"])
    again = post_event(client, tenant, headers, body, key="hospital-42")
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    count = sql_owner.execute("SELECT count(*) FROM event WHERE tenant_id = %s", (tenant.id,)).fetchone()[0]
    assert count == 1
    later = routed(client, tenant, headers, first.json()["id"])
    assert len(later["proposals"]) == len(event["proposals"]) >= 3


def test_same_key_with_another_body_is_refused(client, tenant, token_for):
    headers = token_for(tenant)
    post_event(client, tenant, headers, discharge(), key="k-1")
    response = post_event(client, tenant, headers, discharge(lives_alone=False), key="k-1")
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/idempotency-key-reused"


def test_person_neither_old_nor_alone_gets_no_proposal(client, tenant, token_for):
    headers = token_for(tenant)
    response = post_event(client, tenant, headers, discharge(birth_date="1966-05-01", lives_alone=False))
    event = routed(client, tenant, headers, response.json()["id"])
    assert event["proposals"] == []


def test_disabled_plugin_is_never_called(client, make_tenant, token_for):
    tenant = make_tenant(plugins=[])
    headers = token_for(tenant)
    response = post_event(client, tenant, headers, discharge())
    assert routed(client, tenant, headers, response.json()["id"])["proposals"] == []


def assert_nothing_stored(sql_owner, tenant):
    for table in ("event", "person", "outbox_message"):
        count = sql_owner.execute(
            f"SELECT count(*) FROM {table} WHERE tenant_id = %s", (tenant.id,)
        ).fetchone()[0]
        assert count == 0, table


def test_invalid_ins_key_is_a_422_naming_the_field(client, tenant, token_for, sql_owner):
    headers = token_for(tenant)
    good = nir()
    bad = good[:13] + f"{(int(good[13:]) + 1) % 100:02d}"
    response = post_event(client, tenant, headers, discharge(ins=bad))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    assert [e["field"] for e in problem["errors"]] == ["person.ins"]
    assert "clé" in problem["errors"][0]["message"]
    assert_nothing_stored(sql_owner, tenant)


def test_missing_idempotency_key_is_refused(client, tenant, token_for, sql_owner):
    headers = token_for(tenant)
    response = client.post(f"/t/{tenant.slug}/api/v1/events", json=discharge(), headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert_nothing_stored(sql_owner, tenant)


def test_malformed_json_is_a_400_problem(client, tenant, token_for, sql_owner):
    headers = {**token_for(tenant), "Idempotency-Key": "x", "Content-Type": "application/json"}
    response = client.post(f"/t/{tenant.slug}/api/v1/events", content=b'{"type": "hosp', headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "/problems/malformed-body"
    assert_nothing_stored(sql_owner, tenant)


def test_schema_violations_name_their_field(client, tenant, token_for, sql_owner):
    headers = token_for(tenant)
    body = discharge()
    body["person"]["commune_insee"] = "4019"
    response = post_event(client, tenant, headers, body)
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert any("commune_insee" in f for f in fields), fields
    naive = discharge(occurred_at="2026-12-02T10:00:00")
    assert post_event(client, tenant, headers, naive).status_code == 422
    assert_nothing_stored(sql_owner, tenant)


def test_unknown_tenant_is_a_404_problem(client):
    response = client.post("/t/nowhere/api/v1/events", json=discharge(), headers={"Idempotency-Key": "k"})
    assert response.status_code == 404
    assert response.json()["type"] == "/problems/not-found"


def test_token_of_tenant_b_cannot_read_tenant_a(client, make_tenant, token_for):
    tenant_a, tenant_b = make_tenant(["routing.discharge"]), make_tenant(["routing.discharge"])
    headers_a, headers_b = token_for(tenant_a), token_for(tenant_b)
    event_id = post_event(client, tenant_a, headers_a, discharge()).json()["id"]
    routed(client, tenant_a, headers_a, event_id)
    # B's token on A's path: not a token of A.
    response = client.get(f"/t/{tenant_a.slug}/api/v1/events/{event_id}", headers=headers_b)
    assert response.status_code == 401
    assert "Lafitte" not in response.text
    # B's token on B's path with A's event id: not found in B.
    response = client.get(f"/t/{tenant_b.slug}/api/v1/events/{event_id}", headers=headers_b)
    assert response.status_code == 404


def test_missing_or_bad_token_is_401_and_scope_is_enforced(client, tenant, token_for):
    url = f"/t/{tenant.slug}/api/v1/events"
    assert client.post(url, json=discharge(), headers={"Idempotency-Key": "a"}).status_code == 401
    bad = {"Authorization": "Bearer nope", "Idempotency-Key": "a"}
    response = client.post(url, json=discharge(), headers=bad)
    assert response.status_code == 401
    assert "invalid_token" in response.headers["www-authenticate"]
    read_only = token_for(tenant, scopes=("events:read",))
    response = client.post(url, json=discharge(), headers={**read_only, "Idempotency-Key": "a"})
    assert response.status_code == 403


def test_unknown_event_type_is_refused_with_the_known_types(client, tenant, token_for):
    headers = token_for(tenant)
    response = post_event(client, tenant, headers, {**discharge(), "type": "alien_abduction"})
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["field"] == "type"
    assert "fall_at_home" in problem["errors"][0]["message"]


def test_details_are_validated_for_their_type(client, tenant, token_for, sql_owner):
    headers = token_for(tenant)
    body = {**discharge(), "type": "fall_at_home", "details": {"injured": "beaucoup"}}
    response = post_event(client, tenant, headers, body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "details.injured"
    stored = sql_owner.execute("SELECT count(*) FROM event WHERE tenant_id = %s", (tenant.id,)).fetchone()[0]
    assert stored == 0
    body = {**discharge(), "type": "fall_at_home", "details": {"injured": True, "long_lie": False}}
    response = post_event(client, tenant, headers, body)
    assert response.status_code == 201, response.text
