"""The decision point against the database: what the rules decide, stored consents, and the audit trail.

The pure rules are tested in ``test_consent_rules.py``; here the same questions go through
``core.consent.access`` with consents recorded and revoked by the services, and every decision must
leave exactly one audit entry.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.access.policy import Actor
from core.audit.trail import Actor as AuditActor
from core.audit.trail import verify
from core.consent.access import AccessDenied, AccessRequest, check, check_all, require
from core.consent.care_team import add_member
from core.consent.model import Action, DataCategory, Purpose, Recipient
from core.consent.service import (
    ConsentInput,
    answer_request,
    declare_break_glass,
    pending_requests,
    record_consent,
    request_consent,
    revoke_consent,
)
from core.db.scope import tenant_scope
from core.errors import Forbidden, InvalidInput
from core.identity.accounts import upsert_account
from core.identity.directory import create_organisation
from core.identity.nir import Nir
from core.identity.people import PersonIdentity, grant_carer, upsert_person
from core.identity.roles import Role
from tests.factories import nir

_serial = itertools.count(1)


@dataclass
class World:
    """A territory with one person, her GP practice (care team), a CCAS and the people acting."""

    tenant: Any
    person_id: uuid.UUID
    ccas_id: uuid.UUID
    gp_practice_id: uuid.UUID
    person: Actor
    carer: Actor
    social_worker: Actor
    gp: Actor
    employer: Actor


def _account(aio: Any, name: str) -> uuid.UUID:
    account = aio.run(upsert_account("https://idp.test", f"{name}-{uuid.uuid4().hex[:8]}", None, name))
    return account.id


def _person(aio: Any, runtime: Any, tenant: Any, given_name: str) -> uuid.UUID:
    number = f"2{next(_serial) % 100:02d}0240192{uuid.uuid4().int % 999 + 1:03d}"
    identity = PersonIdentity(Nir.parse(nir(number)), "Lafitte", given_name, dt.date(1942, 2, 14), "40192")

    async def create() -> uuid.UUID:
        async with tenant_scope(tenant.id):
            return await upsert_person(identity, runtime.keyring, runtime.vault)

    return aio.run(create())


def build_world(aio: Any, runtime: Any, tenant: Any) -> World:
    person_id = _person(aio, runtime, tenant, "Jeanne")
    carer_person = _person(aio, runtime, tenant, "Sophie")
    aio.run(grant_carer(tenant.id, person_id, carer_person, "fille", "person"))
    ccas = aio.run(create_organisation(tenant.id, kind="ccas", name=f"CCAS {uuid.uuid4().hex[:6]}"))
    gp_practice = aio.run(
        create_organisation(tenant.id, kind="gp_practice", name=f"Cabinet {uuid.uuid4().hex[:6]}")
    )
    employer = aio.run(create_organisation(tenant.id, kind="employer", name=f"Usine {uuid.uuid4().hex[:6]}"))

    async def team() -> None:
        async with tenant_scope(tenant.id):
            await add_member(
                person_id,
                role=Role.PROFESSIONAL,
                function="médecin traitant",
                by=AuditActor.system(),
                organisation_id=gp_practice.id,
            )

    aio.run(team())

    def actor(role: Role, organisation: uuid.UUID | None = None, person: uuid.UUID | None = None) -> Actor:
        return Actor(_account(aio, role.value), False, tenant.id, role, None, organisation, person)

    return World(
        tenant,
        person_id,
        ccas.id,
        gp_practice.id,
        person=actor(Role.PERSON, person=person_id),
        carer=actor(Role.CARER, person=carer_person),
        social_worker=actor(Role.SOCIAL_WORKER, ccas.id),
        gp=actor(Role.PROFESSIONAL, gp_practice.id),
        employer=actor(Role.EMPLOYER_HR, employer.id),
    )


@pytest.fixture
def world(aio: Any, runtime: Any, tenant: Any) -> World:
    return build_world(aio, runtime, tenant)


def decision_entries(
    sql_owner: Any, tenant_id: uuid.UUID, person_id: uuid.UUID
) -> list[tuple[str, str, str]]:
    rows = sql_owner.execute(
        "SELECT action, outcome, detail->>'category' FROM audit_entry WHERE tenant_id = %s "
        "AND target_id = %s AND action IN ('person.read', 'person.write') ORDER BY seq",
        (tenant_id, str(person_id)),
    ).fetchall()
    return [tuple(row) for row in rows]


def grant_medical_to_ccas(aio: Any, runtime: Any, world: World) -> uuid.UUID:
    given = ConsentInput(
        Recipient.organisation(world.ccas_id), ("read",), ("medical",), ("care_coordination",)
    )
    return aio.run(record_consent(runtime, world.person, world.person_id, given))


# ---------------------------------------------------------------- the acceptance story, by services


def test_social_worker_reads_medical_notes_only_while_the_person_consents(aio, runtime, world, sql_owner):
    ask = (world.social_worker, world.person_id, DataCategory.MEDICAL, Action.READ, Purpose.CARE_COORDINATION)
    assert not aio.run(check(runtime, *ask)).allowed
    consent_id = grant_medical_to_ccas(aio, runtime, world)
    allowed = aio.run(check(runtime, *ask))
    assert allowed.allowed and allowed.consent_id == consent_id
    aio.run(revoke_consent(runtime, world.person, world.person_id, consent_id))
    assert not aio.run(check(runtime, *ask)).allowed
    assert [outcome for _, outcome, _ in decision_entries(sql_owner, world.tenant.id, world.person_id)] == [
        "denied",
        "allowed",
        "denied",
    ]


def test_the_care_team_reads_medical_data_by_presumption(aio, runtime, world):
    decision = aio.run(
        check(
            runtime, world.gp, world.person_id, DataCategory.MEDICAL, Action.READ, Purpose.CARE_COORDINATION
        )
    )
    assert decision.allowed and decision.basis.value == "care_team_presumption"


def test_an_employer_consent_is_without_effect_on_medical_data(aio, runtime, world):
    # Even a consent naming the employer's organisation does not open medical data.
    given = ConsentInput(
        Recipient.organisation(world.employer.organisation_id),
        ("read",),
        ("medical",),
        ("care_coordination",),
    )
    aio.run(record_consent(runtime, world.person, world.person_id, given))
    with pytest.raises(AccessDenied) as refused:
        aio.run(
            require(
                runtime,
                world.employer,
                world.person_id,
                DataCategory.MEDICAL,
                Action.READ,
                Purpose.CARE_COORDINATION,
            )
        )
    assert "employeur" in refused.value.decision.reason


def test_a_professional_records_a_consent_only_with_its_proof(aio, runtime, world):
    without_proof = ConsentInput(
        Recipient.organisation(world.ccas_id), ("read",), ("social",), ("funding_instruction",)
    )
    with pytest.raises(InvalidInput) as refused:
        aio.run(record_consent(runtime, world.social_worker, world.person_id, without_proof))
    assert refused.value.errors[0].field == "proof_reference"
    with_proof = ConsentInput(
        Recipient.organisation(world.ccas_id),
        ("read",),
        ("social",),
        ("funding_instruction",),
        proof_reference="formulaire papier n° 2026-118, classé au CCAS",
    )
    aio.run(record_consent(runtime, world.social_worker, world.person_id, with_proof))
    decision = aio.run(
        check(
            runtime,
            world.social_worker,
            world.person_id,
            DataCategory.SOCIAL,
            Action.READ,
            Purpose.FUNDING_INSTRUCTION,
        )
    )
    assert decision.allowed


def test_only_the_person_or_a_linked_carer_revokes(aio, runtime, world):
    consent_id = grant_medical_to_ccas(aio, runtime, world)
    with pytest.raises(Forbidden):
        aio.run(revoke_consent(runtime, world.social_worker, world.person_id, consent_id))
    aio.run(revoke_consent(runtime, world.carer, world.person_id, consent_id))


def test_a_consent_request_accepted_by_the_carer_opens_the_requested_scope(aio, runtime, world):
    request_id = aio.run(
        request_consent(
            runtime,
            world.social_worker,
            world.person_id,
            actions=["read"],
            categories=["funding"],
            purposes=["funding_instruction"],
            message="Pour instruire l'aide au retour à domicile.",
        )
    )
    pending = aio.run(pending_requests(runtime, world.person, world.person_id))
    assert [r.id for r in pending] == [request_id]
    aio.run(answer_request(runtime, world.carer, world.person_id, request_id, accept=True))
    assert aio.run(pending_requests(runtime, world.person, world.person_id)) == []
    decision = aio.run(
        check(
            runtime,
            world.social_worker,
            world.person_id,
            DataCategory.FUNDING,
            Action.READ,
            Purpose.FUNDING_INSTRUCTION,
        )
    )
    assert decision.allowed


def test_break_glass_opens_for_an_hour_and_is_recorded_without_its_justification(
    aio, runtime, world, sql_owner
):
    ask = (world.social_worker, world.person_id, DataCategory.MEDICAL, Action.READ, Purpose.CARE_COORDINATION)
    with pytest.raises(InvalidInput):
        aio.run(declare_break_glass(runtime, world.social_worker, world.person_id, "urgent"))
    justification = "Chute à domicile, personne inconsciente, traitement à connaître"
    aio.run(declare_break_glass(runtime, world.social_worker, world.person_id, justification))
    decision = aio.run(check(runtime, *ask))
    assert decision.allowed and decision.basis.value == "break_glass"
    trail = sql_owner.execute(
        "SELECT detail::text FROM audit_entry WHERE tenant_id = %s", (world.tenant.id,)
    ).fetchall()
    assert not any("inconsciente" in row[0] for row in trail)
    stored = sql_owner.execute(
        "SELECT justification_ciphertext FROM break_glass WHERE person_id = %s", (world.person_id,)
    ).fetchone()[0]
    assert b"inconsciente" not in bytes(stored)
    with pytest.raises(Forbidden):
        aio.run(declare_break_glass(runtime, world.employer, world.person_id, justification))


def test_unknown_person_is_not_found(aio, runtime, world):
    from core.errors import NotFound

    with pytest.raises(NotFound):
        aio.run(
            check(
                runtime, world.gp, uuid.uuid4(), DataCategory.MEDICAL, Action.READ, Purpose.CARE_COORDINATION
            )
        )


# ---------------------------------------------------------------- properties


ACTORS = ("person", "carer", "social_worker", "gp", "employer")
operation = st.one_of(
    st.tuples(st.just("grant"), st.sampled_from(list(DataCategory)), st.sampled_from(list(Purpose))),
    st.tuples(st.just("revoke"), st.integers(min_value=0, max_value=5)),
    st.tuples(
        st.just("check"),
        st.sampled_from(ACTORS),
        st.lists(st.sampled_from(list(DataCategory)), min_size=1, max_size=5, unique=True),
        st.sampled_from(list(Action)),
        st.sampled_from(list(Purpose)),
    ),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=12))
def test_one_audit_entry_per_decision_and_revocation_denies_the_next_request(
    aio, runtime, tenant, sql_owner, operations
):
    """For any history of grants, revocations and requests by any actor: the trail holds exactly one
    entry per decision, in order and with its outcome; a grant revoked denies the CCAS's very next
    request it alone covered; nothing is allowed to the CCAS social worker without a grant in force."""
    world = build_world(aio, runtime, tenant)
    expected: list[tuple[str, str, str]] = []
    grants: list[tuple[uuid.UUID, DataCategory, Purpose]] = []
    in_force: list[tuple[uuid.UUID, DataCategory, Purpose]] = []
    for op in operations:
        if op[0] == "grant":
            _, category, purpose = op
            given_input = ConsentInput(
                Recipient.organisation(world.ccas_id), ("read",), (category.value,), (purpose.value,)
            )
            consent_id = aio.run(record_consent(runtime, world.person, world.person_id, given_input))
            grants.append((consent_id, category, purpose))
            in_force.append((consent_id, category, purpose))
        elif op[0] == "revoke":
            if not in_force:
                continue
            consent_id, category, purpose = in_force.pop(op[1] % len(in_force))
            aio.run(revoke_consent(runtime, world.person, world.person_id, consent_id))
            if purpose is not Purpose.STATISTICS and not any(
                c == category and p == purpose for _, c, p in in_force
            ):
                # The very next request it covered is refused.
                decision = aio.run(
                    check(runtime, world.social_worker, world.person_id, category, Action.READ, purpose)
                )
                expected.append(("person.read", "denied", category.value))
                assert not decision.allowed
        else:
            _, who, categories, action, purpose = op
            actor = getattr(world, who)
            requests = [AccessRequest(category, action) for category in categories]
            decisions = aio.run(check_all(runtime, actor, world.person_id, requests, purpose))
            for request in requests:
                decision = decisions[request]
                expected.append(
                    (
                        f"person.{action.value}",
                        "allowed" if decision.allowed else "denied",
                        request.category.value,
                    )
                )
                if who == "social_worker":
                    covered = (
                        any(c == request.category and p == purpose for _, c, p in in_force)
                        and action is Action.READ
                        and purpose is not Purpose.STATISTICS
                    )
                    assert decision.allowed == covered
    assert decision_entries(sql_owner, world.tenant.id, world.person_id) == expected
    assert aio.run(verify(world.tenant.id)).intact
