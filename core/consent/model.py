"""The consent model: who may do what with which of a person's data, for which purpose (issue 5).

Plain frozen values, no database and no web: the storage layer builds them from its rows and hands
them to ``core.consent.rules.decide``. Constructors turn stored strings into their enums (an unknown
value is a ``ValueError``) and refuse values that cannot be meant (a naive
datetime, a validity window that ends before it starts, a consent collected by a professional without
its proof…) with ``ValueError``; everything that is a matter of *policy* is decided by the rules,
which always say why.

Times are timezone-aware instants. Windows are half-open: a consent is valid from ``valid_from``
included to ``valid_until`` excluded, and a revocation takes effect at ``revoked_at`` itself.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum

from core.identity.roles import Role


class DataCategory(StrEnum):
    """The categories a person's data are classified in."""

    ADMINISTRATIVE = "administrative"
    SOCIAL = "social"
    MEDICAL = "medical"
    FUNDING = "funding"
    DOCUMENTS = "documents"


CATEGORY_LABELS: dict[DataCategory, str] = {
    DataCategory.ADMINISTRATIVE: "données administratives",
    DataCategory.SOCIAL: "données sociales",
    DataCategory.MEDICAL: "données médicales",
    DataCategory.FUNDING: "données de financement",
    DataCategory.DOCUMENTS: "documents",
}


class Action(StrEnum):
    READ = "read"
    WRITE = "write"


ACTION_LABELS: dict[Action, str] = {Action.READ: "lecture", Action.WRITE: "écriture"}


class Purpose(StrEnum):
    """Why the data are used (RGPD art. 5.1.b: a consent is given for stated purposes)."""

    CARE_COORDINATION = "care_coordination"
    FUNDING_INSTRUCTION = "funding_instruction"
    SERVICE_DELIVERY = "service_delivery"
    STATISTICS = "statistics"


PURPOSE_LABELS: dict[Purpose, str] = {
    Purpose.CARE_COORDINATION: "coordination des soins",
    Purpose.FUNDING_INSTRUCTION: "instruction d'un financement",
    Purpose.SERVICE_DELIVERY: "réalisation d'une prestation",
    Purpose.STATISTICS: "statistiques",
}


def _require_aware(name: str, value: dt.datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} : date et heure avec fuseau horaire attendues")


# ---------------------------------------------------------------- recipients


class RecipientKind(StrEnum):
    ORGANISATION = "organisation"
    ROLE = "role"
    USER = "user"
    CARE_TEAM = "care_team"


@dataclass(frozen=True)
class Recipient:
    """Whom a consent names: an organisation, a role, one user, or the person's care team.

    Build it with ``Recipient.organisation(id)``, ``Recipient.role(role)``, ``Recipient.user(id)`` or
    ``Recipient.care_team()``; exactly the field of its kind is set.
    """

    kind: RecipientKind
    organisation_id: uuid.UUID | None = None
    named_role: Role | None = None
    user_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", RecipientKind(self.kind))
        if self.named_role is not None:
            object.__setattr__(self, "named_role", Role(self.named_role))
        present = {
            RecipientKind.ORGANISATION: self.organisation_id is not None,
            RecipientKind.ROLE: self.named_role is not None,
            RecipientKind.USER: self.user_id is not None,
        }
        expected = {kind: kind is self.kind for kind in present}
        if present != expected:
            raise ValueError(f"destinataire {self.kind.value} : champs incohérents")
        if self.named_role is Role.PERSON:
            # Every person-role user of the territory would match: a person is no recipient.
            raise ValueError("le rôle « personne accompagnée » ne peut être destinataire d'un consentement")

    @classmethod
    def organisation(cls, organisation_id: uuid.UUID) -> Recipient:
        return cls(RecipientKind.ORGANISATION, organisation_id=organisation_id)

    @classmethod
    def role(cls, role: Role) -> Recipient:
        return cls(RecipientKind.ROLE, named_role=role)

    @classmethod
    def user(cls, user_id: uuid.UUID) -> Recipient:
        return cls(RecipientKind.USER, user_id=user_id)

    @classmethod
    def care_team(cls) -> Recipient:
        return cls(RecipientKind.CARE_TEAM)


# ---------------------------------------------------------------- consents


class ConsentKind(StrEnum):
    GRANT = "grant"
    """An express consent: the recipient may do the listed actions."""
    OPPOSITION = "opposition"
    """The person refuses the care-team presumption (CSP L.1110-4 IV) for the listed categories."""


class RecordedBy(StrEnum):
    PERSON = "person"
    CARER_WITH_DELEGATION = "carer_with_delegation"
    PROFESSIONAL_WITH_PROOF = "professional_with_proof"
    """Collected on paper or orally by a professional, who records a reference to the proof."""


@dataclass(frozen=True)
class Consent:
    """One consent (or opposition) of a person, as recorded; revoking it sets ``revoked_at``.

    A request is covered when its action, category and purpose are all listed. The consent is in
    force at ``at`` when it was recorded by then (``recorded_at <= at``; ``valid_from`` may be earlier
    for a consent collected on paper), ``valid_from <= at < valid_until`` and ``at < revoked_at``.
    """

    id: uuid.UUID
    person_id: uuid.UUID
    recipient: Recipient
    actions: frozenset[Action]
    categories: frozenset[DataCategory]
    purposes: frozenset[Purpose]
    valid_from: dt.datetime
    recorded_by: RecordedBy
    recorded_at: dt.datetime
    valid_until: dt.datetime | None = None
    proof_reference: str | None = None
    revoked_at: dt.datetime | None = None
    kind: ConsentKind = ConsentKind.GRANT

    def __post_init__(self) -> None:
        for name, enum in (("actions", Action), ("categories", DataCategory), ("purposes", Purpose)):
            values = frozenset(map(enum, getattr(self, name)))
            if not values:
                raise ValueError(f"{name} : au moins une valeur")
            object.__setattr__(self, name, values)
        object.__setattr__(self, "recorded_by", RecordedBy(self.recorded_by))
        object.__setattr__(self, "kind", ConsentKind(self.kind))
        for name in ("valid_from", "valid_until", "recorded_at", "revoked_at"):
            _require_aware(name, getattr(self, name))
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError("la fin de validité doit suivre son début")
        if self.revoked_at is not None and self.revoked_at < self.recorded_at:
            raise ValueError("un consentement ne peut être retiré avant d'avoir été enregistré")
        proof = (self.proof_reference or "").strip()
        if self.recorded_by is RecordedBy.PROFESSIONAL_WITH_PROOF and not proof:
            raise ValueError("un consentement recueilli par un professionnel exige la référence de sa preuve")
        if self.kind is ConsentKind.OPPOSITION:
            if self.recipient.kind is not RecipientKind.CARE_TEAM:
                raise ValueError("une opposition porte sur le partage avec l'équipe de soins")
            if Purpose.CARE_COORDINATION not in self.purposes:
                raise ValueError("une opposition porte sur la coordination des soins")

    def covers(self, action: Action, category: DataCategory, purpose: Purpose) -> bool:
        return action in self.actions and category in self.categories and purpose in self.purposes

    def in_force(self, at: dt.datetime) -> bool:
        return (
            self.recorded_at <= at
            and self.valid_from <= at
            and (self.valid_until is None or at < self.valid_until)
            and (self.revoked_at is None or at < self.revoked_at)
        )


# ---------------------------------------------------------------- care team, carers, actors


@dataclass(frozen=True)
class CareTeamMembership:
    """A member of a person's care team: a user or a whole organisation, in one role, for a period.

    ``member_id`` is a user id or an organisation id; the membership counts for an actor who is that
    user, or works for that organisation, **in that role**.
    """

    person_id: uuid.UUID
    member_id: uuid.UUID
    role: Role
    since: dt.datetime
    until: dt.datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", Role(self.role))
        _require_aware("since", self.since)
        _require_aware("until", self.until)
        if self.until is not None and self.until <= self.since:
            raise ValueError("la fin d'appartenance doit suivre son début")

    def active(self, at: dt.datetime) -> bool:
        return self.since <= at and (self.until is None or at < self.until)


@dataclass(frozen=True)
class CarerLink:
    """``carer_id`` (a person record) is a carer of ``person_id`` from ``granted_at`` to ``revoked_at``."""

    id: uuid.UUID
    person_id: uuid.UUID
    carer_id: uuid.UUID
    granted_at: dt.datetime
    revoked_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        _require_aware("granted_at", self.granted_at)
        _require_aware("revoked_at", self.revoked_at)
        if self.person_id == self.carer_id:
            raise ValueError("une personne ne peut pas être sa propre aidante")
        if self.revoked_at is not None and self.revoked_at < self.granted_at:
            raise ValueError("un lien d'aidant ne peut être retiré avant d'avoir été accordé")

    def active(self, at: dt.datetime) -> bool:
        return self.granted_at <= at and (self.revoked_at is None or at < self.revoked_at)


@dataclass(frozen=True)
class Actor:
    """Who asks, in the role chosen for this tenant.

    ``person_id`` is the person record the user *is*: for the role ``person`` the person
    themselves, for the role ``carer`` the carer's own record (``carer_link.carer_id``).
    """

    user_id: uuid.UUID
    role: Role
    organisation_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", Role(self.role))


@dataclass(frozen=True)
class BreakGlass:
    """An emergency access (« bris de glace »): a written justification, declared at ``at``."""

    justification: str
    at: dt.datetime

    def __post_init__(self) -> None:
        _require_aware("at", self.at)


# ---------------------------------------------------------------- decisions


class Basis(StrEnum):
    """What an access rests on; ``denied`` for a refusal."""

    EXPRESS_CONSENT = "express_consent"
    CARE_TEAM_PRESUMPTION = "care_team_presumption"
    BREAK_GLASS = "break_glass"
    OWN_FILE = "own_file"
    CARER_DELEGATION = "carer_delegation"
    DENIED = "denied"


@dataclass(frozen=True)
class Decision:
    """Allowed or not, always with a reason in French; ``consent_id`` for an express consent."""

    allowed: bool
    reason: str
    basis: Basis
    consent_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError("une décision dit toujours pourquoi")
        if self.allowed == (self.basis is Basis.DENIED):
            raise ValueError("un refus a la base « denied », et elle seule")
        if (self.consent_id is not None) != (self.basis is Basis.EXPRESS_CONSENT):
            raise ValueError("un consentement est cité pour, et seulement pour, un consentement exprès")
