"""The audit trail is append-only for the app and any tampering is detected."""

from __future__ import annotations

import psycopg
import pytest

from core.audit.trail import Actor, Outcome, Record, record, verify
from tests.support.processes import PARCOURS, ROOT, command_env


def fill(aio, tenant, count: int = 5) -> None:
    for i in range(count):
        aio.run(
            record(tenant.id, Record(Actor("user", f"u{i}"), "file.read", Outcome.ALLOWED, "person", f"p{i}"))
        )


def test_a_fresh_chain_verifies(aio, tenant):
    fill(aio, tenant)
    result = aio.run(verify(tenant.id))
    assert result.intact and result.entries == 5


def test_editing_an_entry_as_superuser_is_detected(aio, tenant, sql_owner):
    fill(aio, tenant)
    sql_owner.execute(
        "UPDATE audit_entry SET actor_id = 'quelquun' WHERE tenant_id = %s AND seq = 3", (tenant.id,)
    )
    result = aio.run(verify(tenant.id))
    assert not result.intact and result.first_broken == 3


def test_deleting_an_entry_as_superuser_is_detected(aio, tenant, sql_owner):
    fill(aio, tenant)
    sql_owner.execute("DELETE FROM audit_entry WHERE tenant_id = %s AND seq = 2", (tenant.id,))
    assert aio.run(verify(tenant.id)).first_broken == 3


def test_rewriting_the_tail_consistently_is_still_detected_at_the_edit(aio, tenant, sql_owner):
    """Recomputing one entry's own hash does not help: the next entry's link breaks."""
    fill(aio, tenant)
    sql_owner.execute(
        "UPDATE audit_entry SET outcome = 'denied', hash = repeat('0', 64) WHERE tenant_id = %s AND seq = 4",
        (tenant.id,),
    )
    assert aio.run(verify(tenant.id)).first_broken == 4


def test_the_application_role_cannot_update_or_delete(aio, tenant, sql_app):
    fill(aio, tenant, 1)
    for statement in ("UPDATE audit_entry SET action = 'x'", "DELETE FROM audit_entry"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), sql_app.transaction():
            sql_app.execute(f"SET LOCAL app.tenant_id = '{tenant.id}'")
            sql_app.execute(statement)


@pytest.mark.slow
def test_cli_names_the_first_broken_entry(aio, tenant, settings, sql_owner):
    import subprocess

    fill(aio, tenant)
    run = [PARCOURS, "audit", "verify", "--tenant", tenant.slug]
    ok = subprocess.run(run, env=command_env(settings), cwd=ROOT, capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "Journal intact" in ok.stdout
    sql_owner.execute("UPDATE audit_entry SET detail = '{}' WHERE tenant_id = %s AND seq = 2", (tenant.id,))
    sql_owner.execute(
        "UPDATE audit_entry SET target_id = 'autre' WHERE tenant_id = %s AND seq = 2", (tenant.id,)
    )
    broken = subprocess.run(
        run, env=command_env(settings), cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert broken.returncode == 1
    assert "n° 2" in broken.stderr
