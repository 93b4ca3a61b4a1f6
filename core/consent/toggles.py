"""« Qui peut voir quoi » : the person's consents as a grid of switches, one per organisation and category.

A cell is (organisation, category, purpose) for the action ``read``. Its semantics, kept by
``set_access``:

- **on**: a grant in force names the organisation and covers (read, category, purpose); if none
  does, one is recorded (``core.consent.service.record_consent``), limited to exactly that cell;
- **off**: every grant naming the organisation that covers the cell and is in force or still to
  come is revoked (``revoke_consent``); when a revoked grant covered more (other categories,
  purposes or actions), a new grant is recorded for the remaining coverage, with the same window, so
  nothing but that cell changes.

Both happen in one transaction, under a per-person lock so two switches of the same person never
interleave. Care-team members share medical, administrative and social data by presumption for
care coordination (CSP L.1110-4 III); the grid shows it, and ``set_opposition`` records or lifts the
person's opposition for medical data (CSP L.1110-4 IV). Switches that no consent could open are
refused: the purpose ``statistics`` (never a named file) and an employer's access to medical data or
documents (rules 2 and 3 of ``core.consent.rules``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from core.access.policy import Actor as SessionActor
from core.consent.access import ensure_person
from core.consent.model import (
    Action,
    Consent,
    ConsentKind,
    DataCategory,
    Purpose,
    Recipient,
    RecipientKind,
)
from core.consent.rules import EMPLOYER_FORBIDDEN, PRESUMPTION_CATEGORIES, PRESUMPTION_ROLES
from core.consent.service import ConsentInput, manager_basis, record_consent, revoke_consent
from core.consent.store import load_context
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import FieldError, Forbidden, InvalidInput
from core.identity.roles import ORGANISATION_LABELS, OrganisationKind, Role
from core.runtime import Runtime

TOGGLE_PURPOSES = (Purpose.CARE_COORDINATION, Purpose.FUNDING_INSTRUCTION, Purpose.SERVICE_DELIVERY)
"""The purposes a person may open to an organisation (statistics never concern a named file)."""
OPPOSITION_CATEGORY = DataCategory.MEDICAL
Coverage = tuple[frozenset[Action], frozenset[DataCategory], frozenset[Purpose]]


# ---------------------------------------------------------------- the grid


@dataclass(frozen=True)
class Cell:
    """One switch: may this organisation read this category for the grid's purpose?"""

    organisation_id: uuid.UUID
    category: DataCategory
    granted: bool
    """An express grant in force covers it."""
    presumed: bool
    """The organisation is in the care team in a presumption role, and the person did not oppose."""
    never: bool
    """No consent can open it (an employer and medical data or documents): no switch."""


@dataclass(frozen=True)
class OrganisationRow:
    id: uuid.UUID
    name: str
    kind: str
    care_team_function: str | None
    """« médecin traitant »… when the organisation is an active member of the person's care team."""
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class OrganisationGroup:
    kind: str
    label: str
    rows: tuple[OrganisationRow, ...]


@dataclass(frozen=True)
class Matrix:
    """The tenant directory's organisations, grouped by kind, against the data categories."""

    person_id: uuid.UUID
    purpose: Purpose
    categories: tuple[DataCategory, ...]
    groups: tuple[OrganisationGroup, ...]
    opposed: bool
    """The person's opposition to sharing medical data with the care team is in force."""

    def cell(self, organisation_id: uuid.UUID, category: DataCategory) -> Cell | None:
        for group in self.groups:
            for row in group.rows:
                if row.id == organisation_id:
                    return next((c for c in row.cells if c.category is category), None)
        return None

    def row(self, organisation_id: uuid.UUID) -> OrganisationRow | None:
        rows = (row for group in self.groups for row in group.rows)
        return next((row for row in rows if row.id == organisation_id), None)


async def access_matrix(
    runtime: Runtime, actor: SessionActor, person_id: uuid.UUID, purpose: Purpose | str
) -> Matrix:
    """The grid for ``purpose``, for the person or one of their carers."""
    chosen = parse_purpose(purpose)
    at = runtime.clock()
    async with tenant_scope(_tenant(actor)):
        await ensure_person(person_id)
        await manager_basis(actor, person_id, at)
        context = await load_context(person_id)
        organisations = await scoped_connection().fetch(
            "SELECT id, kind, name FROM organisation ORDER BY name, id"
        )
        team = await _care_team_organisations(person_id, at)
    opposed = {category for category in DataCategory if _opposition_in_force(context.consents, category, at)}
    rows = [
        _row(org["id"], org["name"], org["kind"], team.get(org["id"]), context.consents, chosen, opposed, at)
        for org in organisations
    ]
    return Matrix(person_id, chosen, tuple(DataCategory), _group(rows), OPPOSITION_CATEGORY in opposed)


async def _care_team_organisations(
    person_id: uuid.UUID, at: dt.datetime
) -> dict[uuid.UUID, tuple[str, bool]]:
    """Active organisation members: their function, and whether one of their roles carries the presumption."""
    rows = await scoped_connection().fetch(
        "SELECT member_organisation_id, role, function FROM care_team_member WHERE person_id = $1 "
        "AND member_organisation_id IS NOT NULL AND since <= $2 AND (until IS NULL OR until > $2) "
        "ORDER BY since",
        person_id,
        at,
    )
    team: dict[uuid.UUID, tuple[str, bool]] = {}
    for row in rows:
        function, presumed = team.get(row["member_organisation_id"], (row["function"], False))
        team[row["member_organisation_id"]] = (function, presumed or Role(row["role"]) in PRESUMPTION_ROLES)
    return team


def _row(
    organisation_id: uuid.UUID,
    name: str,
    kind: str,
    team: tuple[str, bool] | None,
    consents: Iterable[Consent],
    purpose: Purpose,
    opposed: set[DataCategory],
    at: dt.datetime,
) -> OrganisationRow:
    grants = [c for c in _naming(consents, Recipient.organisation(organisation_id)) if c.in_force(at)]
    cells = tuple(
        Cell(
            organisation_id,
            category,
            granted=any(c.covers(Action.READ, category, purpose) for c in grants),
            presumed=team is not None
            and team[1]
            and purpose is Purpose.CARE_COORDINATION
            and category in PRESUMPTION_CATEGORIES
            and category not in opposed,
            never=_never(kind, category),
        )
        for category in DataCategory
    )
    return OrganisationRow(organisation_id, name, kind, team[0] if team else None, cells)


def _group(rows: list[OrganisationRow]) -> tuple[OrganisationGroup, ...]:
    """Rows by organisation kind, in the order of the directory's kinds (unknown kinds last)."""
    order = [kind.value for kind in OrganisationKind]
    kinds = sorted(
        {row.kind for row in rows}, key=lambda k: (order.index(k) if k in order else len(order), k)
    )
    labels = {kind.value: label for kind, label in ORGANISATION_LABELS.items()}
    return tuple(
        OrganisationGroup(kind, labels.get(kind, kind), tuple(row for row in rows if row.kind == kind))
        for kind in kinds
    )


def _never(kind: str, category: DataCategory) -> bool:
    return kind == OrganisationKind.EMPLOYER.value and category in EMPLOYER_FORBIDDEN


# ---------------------------------------------------------------- switching a cell


async def set_access(
    runtime: Runtime,
    actor: SessionActor,
    person_id: uuid.UUID,
    organisation_id: uuid.UUID,
    category: DataCategory | str,
    purpose: Purpose | str,
    allowed: bool,
) -> None:
    """Turn one cell on or off (see the module docstring); a no-op when it is already so."""
    chosen_category, chosen_purpose = parse_category(category), parse_purpose(purpose)
    async with tenant_scope(_tenant(actor)):
        await ensure_person(person_id)
        await manager_basis(actor, person_id, runtime.clock())
        kind = await _organisation_kind(organisation_id)
        if allowed and _never(kind, chosen_category):
            raise InvalidInput(
                "accès impossible",
                [
                    FieldError(
                        "category", "un employeur n'a jamais accès aux données médicales ni aux documents"
                    )
                ],
            )
        await _lock(person_id)
        consents = (await load_context(person_id)).consents
        at = runtime.clock()
        recipient = Recipient.organisation(organisation_id)
        covering = _covering(_naming(consents, recipient), chosen_category, chosen_purpose, at)
        if allowed:
            if not any(c.in_force(at) for c in covering):
                cell = ConsentInput(
                    recipient, (Action.READ.value,), (chosen_category.value,), (chosen_purpose.value,)
                )
                await record_consent(runtime, actor, person_id, cell)
            return
        for consent in covering:
            await _withdraw(runtime, actor, consent, chosen_category, chosen_purpose)


async def set_opposition(runtime: Runtime, actor: SessionActor, person_id: uuid.UUID, opposed: bool) -> None:
    """Record (or lift) the person's opposition to sharing medical data with the care team."""
    async with tenant_scope(_tenant(actor)):
        await ensure_person(person_id)
        await manager_basis(actor, person_id, runtime.clock())
        await _lock(person_id)
        consents = (await load_context(person_id)).consents
        at = runtime.clock()
        oppositions = [
            c
            for c in _covering(
                consents, OPPOSITION_CATEGORY, Purpose.CARE_COORDINATION, at, ConsentKind.OPPOSITION
            )
            if c.recipient.kind is RecipientKind.CARE_TEAM
        ]
        if opposed:
            if not any(c.in_force(at) for c in oppositions):
                given = ConsentInput(
                    Recipient.care_team(),
                    (Action.READ.value,),
                    (OPPOSITION_CATEGORY.value,),
                    (Purpose.CARE_COORDINATION.value,),
                    kind=ConsentKind.OPPOSITION,
                )
                await record_consent(runtime, actor, person_id, given)
            return
        for consent in oppositions:
            await _withdraw(runtime, actor, consent, OPPOSITION_CATEGORY, Purpose.CARE_COORDINATION)


def remaining_coverage(
    actions: frozenset[Action],
    categories: frozenset[DataCategory],
    purposes: frozenset[Purpose],
    category: DataCategory,
    purpose: Purpose,
) -> list[Coverage]:
    """What a consent covers once (read, ``category``, ``purpose``) is taken out, as disjoint scopes.

    Its other actions over everything it covered; read over its other categories; read of
    ``category`` for its other purposes. Empty scopes are left out.
    """
    read = frozenset({Action.READ})
    parts: list[Coverage] = [
        (actions - read, categories, purposes),
        (actions & read, categories - {category}, purposes),
        (actions & read, categories & {category}, purposes - {purpose}),
    ]
    return [part for part in parts if all(part)]


async def _withdraw(
    runtime: Runtime, actor: SessionActor, consent: Consent, category: DataCategory, purpose: Purpose
) -> None:
    """Revoke ``consent`` and record again what it covered besides (read, category, purpose)."""
    await revoke_consent(runtime, actor, consent.person_id, consent.id)
    for actions, categories, purposes in remaining_coverage(
        consent.actions, consent.categories, consent.purposes, category, purpose
    ):
        rest = ConsentInput(
            consent.recipient,
            tuple(sorted(a.value for a in actions)),
            tuple(sorted(c.value for c in categories)),
            tuple(sorted(p.value for p in purposes)),
            valid_from=consent.valid_from,
            valid_until=consent.valid_until,
            proof_reference=consent.proof_reference,
            kind=consent.kind,
        )
        await record_consent(runtime, actor, consent.person_id, rest)


def _naming(consents: Iterable[Consent], recipient: Recipient) -> list[Consent]:
    return [c for c in consents if c.recipient == recipient]


def _covering(
    consents: Iterable[Consent],
    category: DataCategory,
    purpose: Purpose,
    at: dt.datetime,
    kind: ConsentKind = ConsentKind.GRANT,
) -> list[Consent]:
    """Consents of ``kind`` covering (read, category, purpose), in force at ``at`` or still to come."""
    return [
        c
        for c in consents
        if c.kind is kind
        and c.covers(Action.READ, category, purpose)
        and c.revoked_at is None
        and (c.valid_until is None or at < c.valid_until)
    ]


def _opposition_in_force(consents: Iterable[Consent], category: DataCategory, at: dt.datetime) -> bool:
    return any(
        c.kind is ConsentKind.OPPOSITION
        and c.in_force(at)
        and c.covers(Action.READ, category, Purpose.CARE_COORDINATION)
        for c in consents
    )


# ---------------------------------------------------------------- inputs and helpers


def parse_category(value: DataCategory | str) -> DataCategory:
    try:
        return DataCategory(value)
    except ValueError:
        raise InvalidInput("catégorie inconnue", [FieldError("category", "catégorie inconnue")]) from None


def parse_purpose(value: Purpose | str) -> Purpose:
    """A purpose a person may open to an organisation; ``statistics`` and unknown values are refused."""
    try:
        purpose = Purpose(value)
    except ValueError:
        raise InvalidInput("finalité inconnue", [FieldError("purpose", "finalité inconnue")]) from None
    if purpose not in TOGGLE_PURPOSES:
        raise InvalidInput(
            "finalité impossible",
            [FieldError("purpose", "les statistiques ne portent jamais sur un dossier nominatif")],
        )
    return purpose


def _tenant(actor: SessionActor) -> uuid.UUID:
    if actor.tenant_id is None or actor.role is None:
        raise Forbidden("aucun rôle dans ce territoire")
    return actor.tenant_id


async def _organisation_kind(organisation_id: uuid.UUID) -> str:
    kind: str | None = await scoped_connection().fetchval(
        "SELECT kind FROM organisation WHERE id = $1", organisation_id
    )
    if kind is None:
        raise InvalidInput("destinataire inconnu", [FieldError("organisation_id", "organisation inconnue")])
    return kind


async def _lock(person_id: uuid.UUID) -> None:
    """Serialise the consent switches of one person until the transaction ends."""
    await scoped_connection().execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('consent-toggle:' || $1, 0))", str(person_id)
    )
