"""Resolve what a routing rule asked for (a target) into who holds the proposal (an assignee).

A rule may name a user, an organisation or a role, or ask for "the care team's organisation of this
kind" or "a provider from the marketplace". The care-team kind is resolved against the person's care
team, then the territory's directory. A marketplace target (a service type code) is resolved against
the territory's **published offers** of that service type covering the person's commune (listed, or
its whole département):

1. continuity of care: a provider already in the person's care team that publishes such an offer
   keeps the action, whatever its capacity (note « déjà intervenant auprès de la personne… »);
2. otherwise the best offer with capacity left this week (the weekly quantities of its ``requested``
   and ``accepted`` orders overlapping today, against ``capacity_per_week``; none means unlimited):
   one accepting a funding programme the rule suggested first, then the shortest lead time, the
   lowest price (« sur demande » last), the title and the id; its provider holds the action, and the
   note names the offer and why (« offre « … » : couvre la commune, accepte ARDH, délai 2 jours »);
3. no such offer: the directory kind that delivers the service type, as for a care-team target, and
   the note says that no offer fitted.

The offers, the care team and the directory fallback are read by one statement (routing is bound by
round trips, see docs/performance.md, « Event routing »). When nobody fits unambiguously, the
territory's coordinators receive the proposal to dispatch it (they see why in its history).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from core import locale
from core.db.connection import scoped_connection
from core.events.model import Target, TargetKind
from core.identity.roles import ROLE_LABELS, OrganisationKind, Role
from core.marketplace.search import departement_of

SERVICE_PROVIDER_KINDS: dict[str, OrganisationKind] = {
    "home_help": OrganisationKind.HOME_HELP_PROVIDER,
    "respite": OrganisationKind.HOME_HELP_PROVIDER,
    "home_nursing": OrganisationKind.NURSING_PRACTICE,
    "pharmacy_delivery": OrganisationKind.PHARMACY,
}
"""When no published offer fits: the directory kind that delivers a service type."""

NOTE_TITLE_MAX = 80
"""Characters of an offer's title quoted in a note (the history line holds 300 in all)."""


class AssigneeKind:
    USER = "user"
    ORGANISATION = "organisation"
    ROLE = "role"


@dataclass(frozen=True)
class Assignee:
    kind: str
    value: str
    label: str
    user_id: uuid.UUID | None = None
    organisation_id: uuid.UUID | None = None
    note: str | None = None
    """Why the target was resolved this way, when it was not taken literally."""
    offer_id: uuid.UUID | None = None
    """The marketplace offer whose provider was chosen, if any (named in the note)."""


def role_assignee(role: Role, note: str | None = None) -> Assignee:
    return Assignee(AssigneeKind.ROLE, role.value, ROLE_LABELS[role], note=note)


def coordinators(note: str) -> Assignee:
    return role_assignee(Role.COORDINATOR, note)


async def organisation_assignee(organisation_id: uuid.UUID, note: str | None = None) -> Assignee | None:
    row = await scoped_connection().fetchrow(
        "SELECT id, name FROM organisation WHERE id = $1", organisation_id
    )
    if row is None:
        return None
    return Assignee(
        AssigneeKind.ORGANISATION, str(row["id"]), row["name"], organisation_id=row["id"], note=note
    )


async def user_assignee(user_id: uuid.UUID) -> Assignee | None:
    row = await scoped_connection().fetchrow(
        "SELECT u.id, u.display_name, m.organisation_id FROM membership m "
        "JOIN user_account u ON u.id = m.user_account_id "
        "WHERE m.user_account_id = $1 AND m.status = 'active' LIMIT 1",
        user_id,
    )
    if row is None:
        return None
    return Assignee(
        AssigneeKind.USER,
        str(row["id"]),
        row["display_name"],
        user_id=row["id"],
        organisation_id=row["organisation_id"],
    )


_OF_KIND = (
    "SELECT o.id, o.name, c.id IS NOT NULL AS in_team, "
    "row_number() OVER (ORDER BY (c.id IS NULL), c.since, o.name, o.id) AS rank FROM organisation o "
    "LEFT JOIN care_team_member c ON c.member_organisation_id = o.id AND c.person_id = $1 "
    "AND c.until IS NULL WHERE o.kind = $2 ORDER BY rank LIMIT 2"
)
"""The organisations of kind ``$2``, the care-team members of person ``$1`` first (two at most)."""


def _kind_choice(rows: Sequence[asyncpg.Record], what: str, prefix: str = "") -> Assignee:
    """The care team's organisation of the kind; else the territory's only one; else the coordinators.

    ``rows``: what :data:`_OF_KIND` read (``id``, ``name``, ``in_team``); ``prefix`` starts the note.
    """
    if rows and (rows[0]["in_team"] or len(rows) == 1):
        note = (
            "membre de l'équipe de soins"
            if rows[0]["in_team"]
            else "seule structure de ce type sur le territoire"
        )
        return Assignee(
            AssigneeKind.ORGANISATION,
            str(rows[0]["id"]),
            rows[0]["name"],
            organisation_id=rows[0]["id"],
            note=prefix + note,
        )
    if rows:
        return coordinators(
            f"{prefix}plusieurs structures possibles ({what}) : à attribuer par la coordination"
        )
    return coordinators(
        f"{prefix}aucune structure de ce type dans l'annuaire ({what}) : à attribuer par la coordination"
    )


async def _of_kind(person_id: uuid.UUID, kind: str, what: str) -> Assignee:
    """The care team's organisation of ``kind``; else the territory's only one; else the coordinators.

    One query: the organisations of that kind, the person's care-team members first.
    """
    return _kind_choice(await scoped_connection().fetch(_OF_KIND, person_id, kind), what)


_FROM_OFFERS = f"""
    WITH offers AS (
        SELECT o.id, o.title, o.provider_organisation_id, o.lead_time_days, o.price_cents,
               o.accepted_programmes,
               o.accepted_programmes && $6::varchar[] AS accepts,
               EXISTS (SELECT 1 FROM offer_coverage c WHERE c.tenant_id = o.tenant_id AND c.offer_id = o.id
                       AND c.commune_insee = $4::text) AS lists_commune,
               EXISTS (SELECT 1 FROM care_team_member m WHERE m.tenant_id = o.tenant_id
                       AND m.person_id = $1 AND m.member_organisation_id = o.provider_organisation_id
                       AND m.until IS NULL) AS in_team,
               (o.capacity_per_week IS NULL OR o.capacity_per_week > (
                   SELECT coalesce(sum(s.quantity), 0) FROM service_order s
                   WHERE s.tenant_id = o.tenant_id AND s.offer_id = o.id AND s.status = ANY($8::text[])
                   AND s.start_date <= $7::date AND s.end_date >= $7::date)) AS has_room
        FROM service_offer o
        WHERE o.status = 'published' AND o.service_type = $3::text
          AND (EXISTS (SELECT 1 FROM offer_coverage c WHERE c.tenant_id = o.tenant_id AND c.offer_id = o.id
                       AND c.commune_insee = $4::text)
               OR EXISTS (SELECT 1 FROM offer_coverage c WHERE c.tenant_id = o.tenant_id AND c.offer_id = o.id
                          AND c.departement = $5::text))
    ),
    chosen AS (
        SELECT f.*, g.name AS provider_name FROM offers f
        JOIN organisation g ON g.id = f.provider_organisation_id
        WHERE f.in_team OR f.has_room
        ORDER BY f.in_team DESC, f.accepts DESC, f.lead_time_days, f.price_cents ASC NULLS LAST,
                 f.title, f.id
        LIMIT 1
    ),
    directory AS ({_OF_KIND})
    SELECT s.covering, ch.id AS offer_id, ch.title, ch.provider_organisation_id, ch.provider_name,
           ch.in_team AS offer_in_team, ch.accepted_programmes, ch.lists_commune, ch.lead_time_days,
           d.id, d.name, d.in_team
    FROM (SELECT count(*) AS covering FROM offers) s
    LEFT JOIN chosen ch ON true
    LEFT JOIN directory d ON ch.id IS NULL
    ORDER BY d.rank
"""
"""One statement for a marketplace target: the chosen offer with its provider (one row), or, when no
offer fits, the directory's organisations of the fallback kind (``$2``) as :data:`_OF_KIND` reads
them; ``covering`` counts the published offers of the type covering the commune, room or not.

$1 person, $2 directory kind (or null), $3 service type, $4 commune, $5 its département,
$6 suggested programmes, $7 today, $8 statuses holding capacity."""


def _lead_time(days: int) -> str:
    if days <= 0:
        return "sans délai"
    return f"délai {days} jour{'s' if days > 1 else ''}"


def _quoted(title: str) -> str:
    if len(title) > NOTE_TITLE_MAX:
        title = title[: NOTE_TITLE_MAX - 1].rstrip() + "…"
    return f"« {title} »"


def _offer_note(row: asyncpg.Record, departement: str, programmes: Sequence[str]) -> str:
    """Why this offer's provider holds the action, in French."""
    if row["offer_in_team"]:
        return f"déjà intervenant auprès de la personne, offre {_quoted(row['title'])}"
    reasons = ["couvre la commune" if row["lists_commune"] else f"couvre le département {departement}"]
    accepted = set(row["accepted_programmes"] or ())
    matched = [code for code in dict.fromkeys(programmes) if code in accepted]
    if matched:
        reasons.append("accepte " + ", ".join(code.upper() for code in matched))
    reasons.append(_lead_time(row["lead_time_days"]))
    return f"offre {_quoted(row['title'])} : " + ", ".join(reasons)


async def from_offers(
    person_id: uuid.UUID,
    service_type: str,
    commune: str | None,
    programmes: Sequence[str] = (),
    today: dt.date | None = None,
) -> Assignee:
    """The provider of the best published offer of ``service_type`` covering ``commune`` (see the
    module's docstring); else the directory kind of the service type; else the coordinators."""
    # Imported here: core.marketplace.orders imports core.proposals.service, which imports this module.
    from core.marketplace.orders import HOLDING

    kind = SERVICE_PROVIDER_KINDS.get(service_type)
    departement = departement_of(commune) if commune else None
    rows = await scoped_connection().fetch(
        _FROM_OFFERS,
        person_id,
        kind.value if kind else None,
        service_type,
        commune,
        departement,
        list(programmes),
        today or locale.paris_day(dt.datetime.now(dt.UTC)),
        list(HOLDING),
    )
    first = rows[0]
    if first["offer_id"] is not None:
        return Assignee(
            AssigneeKind.ORGANISATION,
            str(first["provider_organisation_id"]),
            first["provider_name"],
            organisation_id=first["provider_organisation_id"],
            note=_offer_note(first, departement or "", programmes),
            offer_id=first["offer_id"],
        )
    if commune is None:
        why = "commune de la personne inconnue"
    elif first["covering"]:
        why = "les offres publiées couvrant la commune sont complètes cette semaine"
    else:
        why = "aucune offre publiée ne couvre la commune"
    if kind is None:
        return coordinators(
            f"{why} : prestataire à choisir ({service_type}), à attribuer par la coordination"
        )
    return _kind_choice([row for row in rows if row["id"] is not None], service_type, f"{why} : ")


async def resolve(
    target: Target,
    person_id: uuid.UUID,
    *,
    commune: str | None = None,
    programmes: Sequence[str] = (),
    today: dt.date | None = None,
) -> Assignee:
    """Who holds a new proposal, in the caller's tenant scope. Never fails: coordinators by default.

    ``commune`` (the person's INSEE code), ``programmes`` (the funding programmes the rule suggests)
    and ``today`` (the Paris day, for capacity) serve marketplace targets; without a commune no
    offer is considered.
    """
    if target.kind is TargetKind.USER:
        found = await user_assignee(uuid.UUID(target.value))
        return found or coordinators("destinataire sans compte actif : à attribuer par la coordination")
    if target.kind is TargetKind.ORGANISATION:
        found = await organisation_assignee(uuid.UUID(target.value))
        return found or coordinators("structure inconnue de l'annuaire : à attribuer par la coordination")
    if target.kind is TargetKind.ROLE:
        return role_assignee(Role(target.value))
    if target.kind is TargetKind.CARE_TEAM:
        return await _of_kind(person_id, OrganisationKind(target.value).value, target.value)
    return await from_offers(person_id, target.value, commune, programmes, today)
