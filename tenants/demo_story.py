"""The demo territory's complete discharge story, replayed at the dates it happened (idempotent).

Jeanne Lafitte left hospital twelve days ago. Routing proposed the home-return actions; each was
taken by its holder (the home-help provider, the GP practice, the CCAS social worker) or, for the
nurses and the pharmacy who have no account, through a signed link; the provider is recorded as
carrier, the CARSAT approved the ARDH, and the D+7 readmission check found no return to hospital.
Every step goes through the same services as in production, with a clock set to the story's dates,
so the history, the audit trail and the follow-up record read as they would have.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import msgspec

from core.access.policy import Actor as SessionActor
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.events.catalogue import tenant_catalogue
from core.events.intake import receive_event
from core.events.routing import route_event
from core.events.schemas import EventIn
from core.financing.lines import LineMove, LineStatus
from core.financing.registry import territory_funders
from core.financing.requests import complete_draft, move_line, submit
from core.financing.situation import Household, PensionScheme, Situation
from core.followup.readmission import check_readmissions
from core.identity.accounts import upsert_account
from core.identity.directory import memberships_at_login
from core.identity.idp.service import find_account
from core.identity.roles import Role
from core.proposals.lifecycle import Move
from core.proposals.service import Acting, move, set_carrier
from core.runtime import Runtime
from core.tenancy.service import TenantRecord


def at(runtime: Runtime, instant: dt.datetime) -> Runtime:
    """The runtime with its clock stopped at ``instant``."""
    return dataclasses.replace(runtime, clock=lambda: instant)


async def seed_story(runtime: Runtime, tenant: TenantRecord, spec: dict[str, Any]) -> bool:
    """Play the story once; return True when it was played now."""
    story = spec.get("story")
    if story is None:
        return False
    person = next(item["person"] for item in spec["events"] if item["person"]["ins"] == story["person_ins"])
    now = runtime.clock()
    discharged = (now - dt.timedelta(days=story["discharged_days_ago"])).replace(
        hour=11, minute=0, second=0, microsecond=0
    )
    event = msgspec.convert(
        {
            "type": "hospital_discharge",
            "occurred_at": discharged.isoformat(),
            "person": person,
            "details": {"ward": story["ward"], "discharge_summary_available": True, "destination": "home"},
        },
        EventIn,
    )
    declared = discharged - dt.timedelta(days=2)
    catalogue = await tenant_catalogue(runtime.plugins, tenant.enabled_plugins)
    received = await receive_event(
        tenant.id,
        event,
        story["idempotency_key"],
        "demo-seed",
        runtime.keyring,
        runtime.vault,
        declared,
        catalogue=catalogue,
    )
    if not received.created:
        return False
    async with tenant_scope(tenant.id):
        await route_event(at(runtime, declared), received.event_id)
        rows = await scoped_connection().fetch(
            "SELECT p.id, p.action_type, o.name FROM action_proposal p "
            "LEFT JOIN organisation o ON o.id = p.assignee_organisation_id WHERE p.event_id = $1",
            received.event_id,
        )
        organisations = {
            row["name"]: row["id"]
            for row in await scoped_connection().fetch("SELECT id, name FROM organisation")
        }
    proposals = {row["action_type"]: (row["id"], row["name"]) for row in rows}
    steps = _steps(organisations, story, discharged)
    for action_type, when, what, acting, extra in steps:
        if action_type not in proposals:
            continue
        proposal_id = proposals[action_type][0]
        clock = at(runtime, when)
        if what == "carrier":
            await set_carrier(clock, tenant.id, proposal_id, acting, organisation_id=extra)
        elif what == "funding":
            await fund_through_single_window(clock, tenant, proposal_id, acting, extra, discharged)
        else:
            await move(clock, tenant.id, proposal_id, Move(what), acting)
    await check_readmissions(at(runtime, discharged + dt.timedelta(days=7, hours=1)), tenant.id)
    return True


async def sign_in_demo_account(runtime: Runtime, tenant: TenantRecord, username: str) -> SessionActor | None:
    """The demo account ``username`` as if it had signed in through the demo identity provider (same
    issuer and subject as a real sign-in, so the later real sign-in finds the same account)."""
    idp_account = await find_account(username)
    if idp_account is None:
        return None
    account = await upsert_account(
        f"{runtime.settings.base_url}/idp",
        idp_account.subject,
        idp_account.email,
        f"{idp_account.given_name} {idp_account.family_name}",
    )
    memberships = await memberships_at_login(tenant.id, account)
    if not memberships:
        return None
    membership = memberships[0]
    return SessionActor(
        user_id=account.id,
        is_platform_admin=False,
        tenant_id=tenant.id,
        role=Role(membership.role),
        membership_id=membership.id,
        organisation_id=membership.organisation_id,
    )


async def fund_through_single_window(
    runtime: Runtime,
    tenant: TenantRecord,
    proposal_id: uuid.UUID,
    acting: Acting,
    amount_cents: int,
    discharged: dt.datetime,
) -> None:
    """The social worker completes the ARDH request routing prepared, sends it, and the CARSAT's
    agent grants it in its console (the follow-up record reads the answer)."""
    funders = await territory_funders(runtime.plugins, tenant.id, tenant.enabled_plugins)
    social_worker = await sign_in_demo_account(runtime, tenant, "assistante-sociale.landes")
    agent = await sign_in_demo_account(runtime, tenant, "financeur.landes")
    async with tenant_scope(tenant.id):
        request = await scoped_connection().fetchrow(
            "SELECT r.id, l.id AS line_id FROM funding_request r JOIN funding_line l ON l.request_id = r.id "
            "WHERE r.proposal_id = $1 AND l.programme = 'ardh'",
            proposal_id,
        )
    if social_worker is None or agent is None or request is None:
        return
    situation = Situation(
        age=84,
        commune_insee="40192",
        household=Household.SINGLE,
        lives_alone=True,
        pension_scheme=PensionScheme.GENERAL,
        agirc_arrco=True,
        income_min_cents=140_000,
        income_max_cents=140_000,
        days_since_discharge=0,
        has_mutuelle=True,
    )
    needs = "Aide pour le lever, la toilette et les repas pendant les semaines qui suivent la sortie."
    await complete_draft(runtime, social_worker, request["id"], situation, needs, amount_cents)
    await submit(runtime, social_worker, request["id"], funders)
    start = discharged.date()
    grant = LineMove(
        LineStatus.APPROVED,
        amount_cents=amount_cents,
        hours=40,
        period_start=start,
        period_end=start + dt.timedelta(days=90),
        conditions="Aide à domicile après hospitalisation, 40 heures sur 3 mois.",
    )
    await move_line(runtime, agent, "Fanny Dufau — CARSAT Aquitaine", request["line_id"], grant, funders)


def _by_name(organisations: dict[str, uuid.UUID], start: str) -> uuid.UUID | None:
    return next((oid for name, oid in organisations.items() if name.startswith(start)), None)


def _steps(
    organisations: dict[str, uuid.UUID], story: dict[str, Any], discharged: dt.datetime
) -> list[tuple[str, dt.datetime, str, Acting, Any]]:
    """Who did what when, in the story (labels as the history shows them)."""
    provider = _by_name(organisations, "Aide et présence Landes")
    gp = _by_name(organisations, "Cabinet médical du Sablar")
    ccas = _by_name(organisations, "CCAS de Mont-de-Marsan")
    paul = Acting(
        "user", "Paul Bordes — Aide et présence Landes", role=Role.PROVIDER_STAFF, organisation_id=provider
    )
    marc = Acting(
        "user", "Dr Marc Darrieutort — Cabinet médical du Sablar", role=Role.PROFESSIONAL, organisation_id=gp
    )
    sandrine = Acting(
        "user", "Sandrine Castaing — CCAS de Mont-de-Marsan", role=Role.SOCIAL_WORKER, organisation_id=ccas
    )
    nurses = Acting(
        "link",
        "Cabinet infirmier des Arènes (par lien)",
        organisation_id=_by_name(organisations, "Cabinet infirmier"),
    )
    pharmacy = Acting(
        "link",
        "Pharmacie du Marsan (par lien)",
        organisation_id=_by_name(organisations, "Pharmacie du Marsan"),
    )
    day = dt.timedelta(days=1)
    hour = dt.timedelta(hours=1)
    return [
        ("home_help_assessment", discharged - 2 * day + 2 * hour, "accept", paul, None),
        ("home_help_assessment", discharged - day, "complete", paul, None),
        ("home_help_assessment", discharged - day, "carrier", paul, provider),
        ("funding_request", discharged - 2 * day + 3 * hour, "accept", sandrine, None),
        ("funding_request", discharged - day + 4 * hour, "funding", sandrine, story["ardh_amount_cents"]),
        ("funding_request", discharged - day + 5 * hour, "complete", sandrine, None),
        ("pharmacy_delivery", discharged - hour, "accept", pharmacy, None),
        ("pharmacy_delivery", discharged + 5 * hour, "complete", pharmacy, None),
        ("nurse_visit", discharged + 2 * hour, "acknowledge", nurses, None),
        ("nurse_visit", discharged + 3 * hour, "accept", nurses, None),
        ("nurse_visit", discharged + day + 6 * hour, "complete", nurses, None),
        ("gp_follow_up_call", discharged + 5 * day, "accept", marc, None),
        ("gp_follow_up_call", discharged + 7 * day, "complete", marc, None),
    ]
