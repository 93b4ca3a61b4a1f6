"""The readmission watch: after a discharge, a check at D+7 and one at D+30."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

from core.db.scope import tenant_scope
from core.followup.readmission import check_readmissions, readmission_status
from tests.core.test_escalation import clocked, declare, start_time
from tests.factories import discharge, nir


def admission(person: dict[str, Any], at: dt.datetime, kind: str = "hospital_admission") -> dict[str, Any]:
    return {"type": kind, "occurred_at": at.isoformat(), "person": person, "details": {}}


def checks(sql_owner: Any, discharge_id: uuid.UUID) -> dict[int, tuple]:
    rows = sql_owner.execute(
        "SELECT horizon_days, due_at, checked_at, readmitted, readmission_event_id FROM readmission_check "
        "WHERE discharge_event_id = %s",
        (discharge_id,),
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


def test_readmission_checks_at_7_and_30_days(aio, runtime, make_tenant, sql_owner):
    tenant = make_tenant(["routing.discharge"])
    t0 = start_time()
    day0 = t0 + dt.timedelta(days=1)  # in the future: the real-time watch of a running app leaves it
    watch, clock = clocked(runtime, t0)

    soon = discharge(ins=nir("2420240192101"), occurred_at=day0.isoformat())
    never = discharge(ins=nir("2420240192102"), occurred_at=day0.isoformat())
    late = discharge(ins=nir("2420240192103"), occurred_at=day0.isoformat())
    soon_id = declare(aio, watch, tenant, soon)
    never_id = declare(aio, watch, tenant, never)
    late_id = declare(aio, watch, tenant, late)
    back_soon = declare(aio, watch, tenant, admission(soon["person"], day0 + dt.timedelta(days=3)))
    back_late = declare(
        aio, watch, tenant, admission(late["person"], day0 + dt.timedelta(days=20), "emergency_visit")
    )
    # Not readmissions: an event of another type, and one before the discharge.
    declare(
        aio,
        watch,
        tenant,
        {**admission(never["person"], day0 + dt.timedelta(days=2)), "type": "fall_at_home"},
    )
    declare(aio, watch, tenant, admission(never["person"], day0 - dt.timedelta(days=2)))

    assert set(checks(sql_owner, soon_id)) == {7, 30}
    assert checks(sql_owner, soon_id)[7][0] == day0 + dt.timedelta(days=7)

    # Before D+7 nothing is due.
    clock.now = day0 + dt.timedelta(days=6)
    assert aio.run(check_readmissions(watch, tenant.id)) == 0

    clock.now = day0 + dt.timedelta(days=7, hours=1)
    assert aio.run(check_readmissions(watch, tenant.id)) == 3
    assert checks(sql_owner, soon_id)[7][1:] == (clock.now, True, back_soon)
    assert checks(sql_owner, never_id)[7][1:] == (clock.now, False, None)
    assert checks(sql_owner, late_id)[7][1:] == (clock.now, False, None)
    for discharge_id in (soon_id, never_id, late_id):  # D+30 not due yet
        assert checks(sql_owner, discharge_id)[30][1:] == (None, None, None)
    checked_at = clock.now

    # Idempotent: a checked row is never checked again.
    clock.now += dt.timedelta(hours=1)
    assert aio.run(check_readmissions(watch, tenant.id)) == 0
    assert checks(sql_owner, soon_id)[7][1] == checked_at

    clock.now = day0 + dt.timedelta(days=30, minutes=1)
    assert aio.run(check_readmissions(watch, tenant.id)) == 3
    assert checks(sql_owner, soon_id)[30][1:] == (clock.now, True, back_soon)
    assert checks(sql_owner, never_id)[30][1:] == (clock.now, False, None)
    assert checks(sql_owner, late_id)[30][1:] == (clock.now, True, back_late)
    assert checks(sql_owner, late_id)[7][1:] == (checked_at, False, None), "D+7 keeps its answer"
    assert aio.run(check_readmissions(watch, tenant.id)) == 0

    person_id = sql_owner.execute("SELECT person_id FROM event WHERE id = %s", (late_id,)).fetchone()[0]

    async def status() -> list:
        async with tenant_scope(tenant.id):
            return await readmission_status(person_id)

    lines = aio.run(status())
    assert [(line.horizon_days, line.readmitted) for line in lines] == [(7, False), (30, True)]
    assert lines[1].discharge_event_id == late_id
    assert lines[1].discharged_at == day0
    assert lines[1].due_at == day0 + dt.timedelta(days=30)
    assert (lines[1].readmission_event_id, lines[1].readmission_type) == (back_late, "emergency_visit")
    assert lines[1].readmitted_at == day0 + dt.timedelta(days=20)


def test_concurrent_checks_answer_each_check_once(aio, runtime, make_tenant, sql_owner):
    tenant = make_tenant(["routing.discharge"])
    t0 = start_time()
    watch, clock = clocked(runtime, t0)
    for n in range(3):
        declare(
            aio,
            watch,
            tenant,
            discharge(ins=nir(f"242024019211{n}"), occurred_at=(t0 + dt.timedelta(days=1)).isoformat()),
        )
    clock.now = t0 + dt.timedelta(days=40)

    async def twice() -> tuple[int, ...]:
        return tuple(
            await asyncio.gather(check_readmissions(watch, tenant.id), check_readmissions(watch, tenant.id))
        )

    assert sum(aio.run(twice())) == 6
    unchecked = sql_owner.execute(
        "SELECT count(*) FROM readmission_check WHERE tenant_id = %s AND checked_at IS NULL", (tenant.id,)
    ).fetchone()[0]
    assert unchecked == 0
