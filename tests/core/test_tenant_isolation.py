"""Tenant isolation proven in SQL, as the application role, below the application code.

The data of tenant A is created through the real API; the queries then run as
``parcours_app`` on a psycopg connection, the way a bug or an injection in the
application would run them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql

from core.db.tenant_ddl import APP_ROLE
from tests.conftest import wait_for
from tests.factories import discharge

TENANT_TABLES = (
    "event",
    "person",
    "person_key",
    "action_proposal",
    "outbox_message",
    "api_client",
    "api_token",
)
PLATFORM_TABLES = {
    "tenant",
    "migration",
    "user_account",
    "web_session",
    "idp_account",
    "idp_client",
    "idp_authorization_code",
    "idp_access_token",
    "idp_signing_key",
}
"""The only tables without tenant_id: the tenant registry, Piccolo's migration log, login
accounts and sessions (a person may work in several territories) and the built-in identity
provider (a component apart, as an external IdP would be)."""


@dataclass(frozen=True)
class TenantData:
    tenant_id: uuid.UUID
    person_id: uuid.UUID
    event_id: uuid.UUID
    api_client_id: uuid.UUID
    ids: dict[str, list[uuid.UUID]]
    """Table → ids of tenant A's rows, read as the owner."""


@pytest.fixture
def tenant_a(client, make_tenant, token_for, sql_owner) -> TenantData:
    """Tenant A with a discharge declared through the API and routed into proposals."""
    tenant = make_tenant(["routing.discharge"])
    headers = token_for(tenant)
    response = client.post(
        f"/t/{tenant.slug}/api/v1/events",
        json=discharge(),
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 201, response.text
    event_id = response.json()["id"]

    def is_routed():
        body = client.get(f"/t/{tenant.slug}/api/v1/events/{event_id}", headers=headers).json()
        return body["status"] == "routed"

    wait_for(is_routed, timeout=10)
    ids = {
        table: [
            row[0] for row in sql_owner.execute(f"SELECT id FROM {table} WHERE tenant_id = %s", (tenant.id,))
        ]
        for table in TENANT_TABLES
    }
    assert len(ids["action_proposal"]) >= 3, ids
    assert all(ids.values()), f"tenant A should have rows in every table: {ids}"
    return TenantData(
        tenant_id=tenant.id,
        person_id=ids["person"][0],
        event_id=uuid.UUID(event_id),
        api_client_id=ids["api_client"][0],
        ids=ids,
    )


@pytest.fixture
def tenant_b(make_tenant) -> uuid.UUID:
    return make_tenant([]).id


def set_tenant(connection: psycopg.Connection[Any], tenant_id: uuid.UUID | str) -> None:
    connection.execute(sql.SQL("SET LOCAL app.tenant_id = {}").format(sql.Literal(str(tenant_id))))


def visible(connection: psycopg.Connection[Any], table: str, ids: list[uuid.UUID]) -> list[uuid.UUID]:
    query = sql.SQL("SELECT id FROM {} WHERE id = ANY(%s)").format(sql.Identifier(table))
    return [row[0] for row in connection.execute(query, (ids,))]


def count(connection: psycopg.Connection[Any], table: str) -> int:
    return connection.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]


def insert_person(connection: psycopg.Connection[Any], tenant_id: uuid.UUID) -> uuid.UUID:
    person_id = uuid.uuid4()
    connection.execute(
        "INSERT INTO person (id, tenant_id, ins_digest, ins_ciphertext, family_name, given_names, "
        "birth_date, commune_insee, lives_alone, is_demo, created_at, updated_at) "
        "VALUES (%s, %s, %s, %s, 'Intrus', 'Ivan', '1950-01-01', '40192', true, false, now(), now())",
        (person_id, tenant_id, uuid.uuid4().hex, b"not a ciphertext"),
    )
    return person_id


def insert_event(
    connection: psycopg.Connection[Any], tenant_id: uuid.UUID, person_id: uuid.UUID
) -> uuid.UUID:
    event_id = uuid.uuid4()
    connection.execute(
        "INSERT INTO event (id, tenant_id, person_id, type, occurred_at, details, status, "
        "idempotency_key, request_digest, declared_by, created_at) "
        "VALUES (%s, %s, %s, 'hospital_discharge', now(), '{}', 'received', %s, %s, 'intrus', now())",
        (event_id, tenant_id, person_id, uuid.uuid4().hex, "0" * 64),
    )
    return event_id


def insert_proposal(
    connection: psycopg.Connection[Any], tenant_id: uuid.UUID, event_id: uuid.UUID, person_id: uuid.UUID
) -> None:
    connection.execute(
        "INSERT INTO action_proposal (id, tenant_id, event_id, person_id, action_type, title, assignee_kind, "
        "assignee, priority, due_at, status, source_plugin, dedup_key, created_at, status_changed_at) "
        "VALUES (%s, %s, %s, %s, 'nurse_visit', 'Visite', 'role', 'coordinator', 'urgent', now(), "
        "'requested', 'intrus', %s, now(), now())",
        (uuid.uuid4(), tenant_id, event_id, person_id, uuid.uuid4().hex),
    )


def insert_token(connection: psycopg.Connection[Any], tenant_id: uuid.UUID, api_client_id: uuid.UUID) -> None:
    connection.execute(
        "INSERT INTO api_token (id, tenant_id, api_client_id, token_digest, scopes, issued_at, expires_at) "
        "VALUES (%s, %s, %s, %s, ARRAY['events:read'], now(), %s)",
        (uuid.uuid4(), tenant_id, api_client_id, uuid.uuid4().hex, dt.datetime.now(dt.UTC)),
    )


# --- The role -----------------------------------------------------------------------------------


def test_app_role_has_no_way_around_row_level_security(sql_app, sql_owner):
    """The application connects as a role that is not superuser, cannot bypass RLS and owns nothing."""
    with sql_app.transaction(force_rollback=True):
        assert sql_app.execute("SELECT current_user").fetchone()[0] == APP_ROLE
        role = sql_app.execute(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles "
            "WHERE rolname = current_user"
        ).fetchone()
    assert role == (False, False, False, False), "parcours_app must be NOSUPERUSER NOBYPASSRLS"
    owned = sql_owner.execute(
        "SELECT schemaname || '.' || tablename FROM pg_tables WHERE tableowner = %s", (APP_ROLE,)
    ).fetchall()
    assert owned == [], f"{APP_ROLE} owns tables (owners are exempt from RLS unless forced): {owned}"
    owned_relations = sql_owner.execute(
        "SELECT relname FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = %s)",
        (APP_ROLE,),
    ).fetchall()
    assert owned_relations == []
    owners = dict(
        sql_owner.execute("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'")
    )
    assert set(TENANT_TABLES) | PLATFORM_TABLES <= set(owners)  # the check above looked at real tables
    assert APP_ROLE not in owners.values()


@pytest.mark.parametrize(
    "statement",
    [
        "SET ROLE postgres",
        "ALTER TABLE event DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE event NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON event",
        "CREATE TABLE public.parcours_escape (id int)",
        "DELETE FROM migration",
        "DELETE FROM tenant",
    ],
)
def test_app_role_cannot_disable_isolation_or_touch_the_schema(sql_app, statement):
    """The application role can neither switch role, alter policies, create tables nor erase the registry."""
    with pytest.raises(errors.InsufficientPrivilege), sql_app.transaction():
        sql_app.execute(statement)


def test_row_security_cannot_be_switched_off_by_the_app_role(sql_app):
    """``SET row_security = off`` makes queries fail for parcours_app instead of showing every row."""
    with pytest.raises(errors.InsufficientPrivilege, match="row-level security"), sql_app.transaction():
        sql_app.execute("SET LOCAL row_security = off")
        sql_app.execute("SELECT count(*) FROM event")


# --- Reading and writing across tenants --------------------------------------------------------


def test_tenant_b_sees_none_of_tenant_a_rows(sql_app, tenant_a, tenant_b):
    """With tenant B set, none of tenant A's rows can be read, even by id or tenant_id."""
    with sql_app.transaction(force_rollback=True):  # control: A sees its rows
        set_tenant(sql_app, tenant_a.tenant_id)
        for table in TENANT_TABLES:
            assert sorted(visible(sql_app, table, tenant_a.ids[table])) == sorted(tenant_a.ids[table]), table
    with sql_app.transaction(force_rollback=True):
        set_tenant(sql_app, tenant_b)
        for table in TENANT_TABLES:
            assert visible(sql_app, table, tenant_a.ids[table]) == [], f"B reads A's rows in {table}"
            query = sql.SQL("SELECT id FROM {} WHERE tenant_id = %s").format(sql.Identifier(table))
            assert sql_app.execute(query, (tenant_a.tenant_id,)).fetchall() == [], table
            assert count(sql_app, table) == 0, table


DELETE_ORDER = (
    "api_token",
    "api_client",
    "action_proposal",
    "event",
    "person_key",
    "person",
    "outbox_message",
)
"""Referencing tables first (the single-column foreign keys restrict deletes)."""


def test_tenant_b_cannot_change_or_delete_tenant_a_rows(sql_app, sql_owner, tenant_a, tenant_b):
    """With tenant B set, UPDATE and DELETE of tenant A's rows touch nothing."""
    assert set(DELETE_ORDER) == set(TENANT_TABLES)

    def delete(table):
        query = sql.SQL("DELETE FROM {} WHERE id = ANY(%s)").format(sql.Identifier(table))
        return sql_app.execute(query, (tenant_a.ids[table],)).rowcount

    with sql_app.transaction(force_rollback=True):
        set_tenant(sql_app, tenant_b)
        for table in DELETE_ORDER:
            if sql_app.execute("SELECT has_table_privilege(%s, 'UPDATE')", (table,)).fetchone()[0]:
                update = sql.SQL("UPDATE {} SET id = id WHERE tenant_id = %s").format(sql.Identifier(table))
                assert sql_app.execute(update, (tenant_a.tenant_id,)).rowcount == 0, f"B updated {table}"
            assert delete(table) == 0, f"B deleted from {table}"
    # The application may not delete history or readmission checks (append-only for it): the owner
    # clears them so that the control below can delete the rows they reference.
    for table in ("proposal_history", "readmission_check"):
        query = sql.SQL("DELETE FROM {} WHERE tenant_id = %s").format(sql.Identifier(table))
        sql_owner.execute(query, (tenant_a.tenant_id,))
    with sql_app.transaction(force_rollback=True):  # control: the same DELETEs work for A
        set_tenant(sql_app, tenant_a.tenant_id)
        for table in DELETE_ORDER:
            assert delete(table) == len(tenant_a.ids[table]), table
    for table in TENANT_TABLES:
        query = sql.SQL("SELECT count(*) FROM {} WHERE id = ANY(%s)").format(sql.Identifier(table))
        assert sql_owner.execute(query, (tenant_a.ids[table],)).fetchone()[0] == len(tenant_a.ids[table])


def test_insert_for_tenant_a_while_tenant_b_is_set_is_refused(sql_app, tenant_a, tenant_b):
    """Rows cannot be written into another tenant: the RLS check refuses them."""
    with pytest.raises(errors.InsufficientPrivilege, match="row-level security"), sql_app.transaction():
        set_tenant(sql_app, tenant_b)
        insert_person(sql_app, tenant_a.tenant_id)
    with pytest.raises(errors.InsufficientPrivilege, match="row-level security"), sql_app.transaction():
        set_tenant(sql_app, tenant_b)
        insert_event(sql_app, tenant_a.tenant_id, tenant_a.person_id)
    with sql_app.transaction(force_rollback=True):  # control: the same rows are valid for A itself
        set_tenant(sql_app, tenant_a.tenant_id)
        insert_person(sql_app, tenant_a.tenant_id)
        insert_event(sql_app, tenant_a.tenant_id, tenant_a.person_id)


def test_rows_cannot_be_moved_to_another_tenant(sql_app, tenant_a, tenant_b):
    """An UPDATE that would hand tenant A's row to tenant B is refused."""
    with pytest.raises(errors.InsufficientPrivilege, match="row-level security"), sql_app.transaction():
        set_tenant(sql_app, tenant_a.tenant_id)
        sql_app.execute("UPDATE person SET tenant_id = %s WHERE id = %s", (tenant_b, tenant_a.person_id))


def test_no_tenant_set_means_no_rows_and_no_writes(sql_app, sql_owner, tenant_a):
    """A connection that never set a tenant sees nothing and can write nothing."""
    with sql_app.transaction(force_rollback=True):
        assert sql_app.execute("SELECT current_setting('app.tenant_id', true)").fetchone()[0] is None
        for table in TENANT_TABLES:
            assert count(sql_app, table) == 0, table
            assert visible(sql_app, table, tenant_a.ids[table]) == [], table
    assert sql_owner.execute("SELECT count(*) FROM event").fetchone()[0] > 0  # there was something to see
    with pytest.raises(errors.InsufficientPrivilege, match="row-level security"), sql_app.transaction():
        insert_person(sql_app, tenant_a.tenant_id)


def test_reset_tenant_setting_means_no_rows_without_error(sql_app, tenant_a):
    """After a tenant transaction, the setting reads '' on that connection: no rows, and no cast error."""
    with sql_app.transaction():
        set_tenant(sql_app, tenant_a.tenant_id)
        assert count(sql_app, "event") >= 1  # control: the tenant's rows were visible
    with sql_app.transaction(force_rollback=True):
        # The reset value of a custom setting once set in a session is '' (not NULL);
        # cast to uuid it would fail, hence NULLIF in the policy.
        assert sql_app.execute("SELECT current_setting('app.tenant_id', true)").fetchone()[0] == ""
        for table in TENANT_TABLES:
            assert count(sql_app, table) == 0, table
    with pytest.raises(errors.InvalidTextRepresentation), sql_app.transaction():
        sql_app.execute("SELECT current_setting('app.tenant_id', true)::uuid")
    with sql_app.transaction(force_rollback=True):
        set_tenant(sql_app, "")
        assert count(sql_app, "event") == 0
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"), sql_app.transaction():
            insert_person(sql_app, tenant_a.tenant_id)


# --- Composite foreign keys -----------------------------------------------------------------


def test_event_cannot_point_at_a_person_of_another_tenant(sql_app, sql_owner, tenant_a, tenant_b):
    """An event of tenant B naming tenant A's person is refused by the composite key."""
    assert sql_owner.execute("SELECT 1 FROM person WHERE id = %s", (tenant_a.person_id,)).fetchone()
    with pytest.raises(errors.ForeignKeyViolation) as refused, sql_app.transaction():
        set_tenant(sql_app, tenant_b)
        insert_event(sql_app, tenant_b, tenant_a.person_id)
    # The single-column key (person_id → person.id) is satisfied; the tenant-aware one is not.
    assert refused.value.diag.constraint_name == "event_person_id_tenant_fkey"
    with sql_app.transaction(force_rollback=True):  # control: B's own person is accepted
        set_tenant(sql_app, tenant_b)
        insert_event(sql_app, tenant_b, insert_person(sql_app, tenant_b))


def test_proposal_and_token_cannot_point_at_another_tenant(sql_app, tenant_a, tenant_b):
    """Proposals and tokens of tenant B cannot reference tenant A's event or API client."""
    with pytest.raises(errors.ForeignKeyViolation) as refused, sql_app.transaction():
        set_tenant(sql_app, tenant_b)
        insert_proposal(sql_app, tenant_b, tenant_a.event_id, insert_person(sql_app, tenant_b))
    assert refused.value.diag.constraint_name == "action_proposal_event_id_tenant_fkey"
    with pytest.raises(errors.ForeignKeyViolation) as refused, sql_app.transaction():
        set_tenant(sql_app, tenant_b)
        insert_token(sql_app, tenant_b, tenant_a.api_client_id)
    assert refused.value.diag.constraint_name == "api_token_api_client_id_tenant_fkey"
    with sql_app.transaction(force_rollback=True):  # control: A may reference its own rows
        set_tenant(sql_app, tenant_a.tenant_id)
        insert_proposal(sql_app, tenant_a.tenant_id, tenant_a.event_id, tenant_a.person_id)
        insert_token(sql_app, tenant_a.tenant_id, tenant_a.api_client_id)


# --- The catalogue ------------------------------------------------------------------------------

CONSTRAINTS = """
SELECT c.conname, c.contype, c.confrelid::regclass::text,
       ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, i)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.i),
       ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, i)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.i)
FROM pg_constraint c
WHERE c.conrelid = %s::regclass AND c.contype IN ('u', 'p', 'f')
"""


def tenant_table_problems(connection: psycopg.Connection[Any], table: str) -> tuple[list[str], int]:
    """What ``table`` lacks to be a tenant table; and how many twin foreign keys were checked."""
    problems = []
    rls, forced = connection.execute(
        "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass", (table,)
    ).fetchone()
    if not rls:
        problems.append("row-level security is not enabled")
    if not forced:
        problems.append("row-level security is not forced")
    policies = connection.execute(
        "SELECT policyname, cmd, permissive, qual, with_check FROM pg_policies "
        "WHERE schemaname = 'public' AND tablename = %s",
        (table,),
    ).fetchall()
    if len(policies) != 1:
        problems.append(f"has {len(policies)} policies instead of exactly one")
    for name, cmd, permissive, qual, with_check in policies:
        if cmd != "ALL" or permissive != "PERMISSIVE":
            problems.append(f"policy {name} is {permissive} for {cmd}, not PERMISSIVE for ALL")
        for clause, text in (("USING", qual), ("WITH CHECK", with_check)):
            if not text or "app.tenant_id" not in text or "NULLIF" not in text or "tenant_id =" not in text:
                problems.append(f"policy {name} {clause} does not compare tenant_id to app.tenant_id: {text}")

    constraints = connection.execute(CONSTRAINTS, (table,)).fetchall()
    unique = [(name, cols) for name, kind, _, cols, _ in constraints if kind in "up"]
    if not any(cols == ["tenant_id", "id"] for _, cols in unique):
        problems.append(f"no UNIQUE (tenant_id, id) constraint (has {unique})")
    foreign = [
        (name, target, cols, refcols) for name, kind, target, cols, refcols in constraints if kind == "f"
    ]
    if not any(
        (target, cols, refcols) == ("tenant", ["tenant_id"], ["id"]) for _, target, cols, refcols in foreign
    ):
        problems.append("no FOREIGN KEY (tenant_id) REFERENCES tenant (id)")
    twins = 0
    for name, target, cols, refcols in foreign:
        if len(cols) != 1 or cols == ["tenant_id"] or target in PLATFORM_TABLES:
            continue  # a reference to a platform-wide row cannot cross tenants
        twins += 1
        wanted = (target, ["tenant_id", cols[0]], ["tenant_id", *refcols])
        if not any((t, c, r) == wanted for _, t, c, r in foreign):
            problems.append(
                f"foreign key {name} ({cols[0]} → {target}.{refcols[0]}) has no composite twin "
                f"FOREIGN KEY (tenant_id, {cols[0]}) REFERENCES {target} (tenant_id, {refcols[0]})"
            )
    return problems, twins


def test_every_tenant_table_is_isolated_in_the_catalogue(sql_owner):
    """Every table with tenant_id has forced RLS, one policy, (tenant_id, id) keys and tenant-aware FKs."""
    columns = sql_owner.execute(
        "SELECT c.relname, bool_or(a.attname = 'tenant_id') FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') GROUP BY c.relname"
    ).fetchall()
    tenant_tables = sorted(name for name, has_tenant in columns if has_tenant)
    platform = {name for name, has_tenant in columns if not has_tenant}
    assert set(TENANT_TABLES) <= set(tenant_tables), tenant_tables
    assert platform == PLATFORM_TABLES, (
        f"tables without tenant_id other than {sorted(PLATFORM_TABLES)}: "
        f"{sorted(platform - PLATFORM_TABLES)} "
        "(add tenant_id and tenant_table_ddl(), or declare them platform-wide here)"
    )

    report = {}
    twins = 0
    for table in tenant_tables:
        problems, checked = tenant_table_problems(sql_owner, table)
        twins += checked
        if problems:
            report[table] = problems
    assert not report, "tables not isolated per tenant:\n" + "\n".join(
        f"  {table}: {problem}" for table, problems in report.items() for problem in problems
    )
    assert twins >= 3  # event.person_id, action_proposal.event_id, api_token.api_client_id were checked

    for table in PLATFORM_TABLES:
        rls = sql_owner.execute("SELECT relrowsecurity FROM pg_class WHERE oid = %s::regclass", (table,))
        assert rls.fetchone()[0] is False, table


def test_catalogue_check_names_what_is_missing(sql_owner):
    """The catalogue check reports a table without RLS, policy, keys or twin foreign key."""
    with sql_owner.transaction(force_rollback=True):
        sql_owner.execute(
            "CREATE TABLE isolation_probe (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, "
            "event_id uuid REFERENCES event (id))"
        )
        problems, twins = tenant_table_problems(sql_owner, "isolation_probe")
    assert twins == 1
    text = "\n".join(problems)
    for missing in (
        "row-level security is not enabled",
        "row-level security is not forced",
        "0 policies",
        "UNIQUE (tenant_id, id)",
        "REFERENCES tenant (id)",
        "FOREIGN KEY (tenant_id, event_id) REFERENCES event (tenant_id, id)",
    ):
        assert missing in text, (missing, problems)
