"""May this actor read or write this category of a person's data, for this purpose, now? Pure logic.

``decide`` receives everything it needs (the person's consents, care team and carer links, the
instant of the request) and touches no database: the storage layer loads them, calls it, and writes
the decision to the audit trail. Deny by default; every decision says why, in French. The rules, in
the order they are applied, each with its French legal ground:

1. **Own file.** A user in the role ``person`` whose ``person_id`` is the person reads and writes
   every category, for any purpose. — Droit d'accès : RGPD art. 15, CSP L.1111-7.
2. **Employers.** ``employer_hr`` never gets ``medical`` nor ``documents``, for any purpose, even with
   a consent naming them (it is ignored, and the reason says so), nor by break-glass. — Consentement non
   libre face à l'employeur (RGPD considérant 43, lignes directrices CEPD 05/2020) ; discrimination
   liée à l'état de santé interdite (C. trav. L.1132-1).
3. **Statistics.** The purpose ``statistics`` never opens a named person's file to anyone else, not
   even with a consent or break-glass: statistics work on anonymised data. — RGPD art. 5.1.c
   (minimisation) et art. 89 (garanties des traitements statistiques).
4. **Carers.** A ``carer`` acts only for a person whose active carer link names them
   (``carer_id == actor.person_id``); without one, nothing (no consent, no break-glass). With one,
   they read the ``administrative``, ``social`` and ``funding`` data (basis ``carer_delegation``);
   anything else (medical, documents, any write) needs an express consent (rule 6). — Proche aidant
   choisi par la personne (CASF L.113-1-3) ; le secret médical ne se partage qu'avec son accord (CSP
   L.1110-4).
5. **Care-team presumption.** An active member of the person's care team, matched by user or by
   organisation in the actor's role, whose role is ``professional`` or ``coordinator``, reads and
   writes ``medical``, ``administrative`` and ``social`` data for ``care_coordination``, unless the
   person's opposition in force covers the request. — Informations réputées confiées à toute l'équipe
   de soins (CSP L.1110-4 III, L.1110-12), sauf opposition (CSP L.1110-4 IV).
6. **Express consent.** Everyone else needs a ``grant`` in force at ``at`` naming them (their
   organisation, their role, themselves, or the care team they belong to) and covering the action,
   the category and the purpose. A grant to the care team yields to the person's opposition covering
   the request. In force: recorded by then, ``valid_from <= at < valid_until``, and ``at <
   revoked_at`` — a request at the instant of the revocation is already refused. — Consentement
   préalable hors équipe de soins (CSP L.1110-4 III) ; consentement explicite aux données de santé
   (RGPD art. 9.2.a), retirable à tout moment (RGPD art. 7.3).
7. **Break-glass.** When nothing above allows, a ``BreakGlass`` declared within the last hour with a
   written justification of at least 15 characters allows the access (basis ``break_glass``, flagged
   for the person and the DPO) — never for employers (rule 2), statistics (rule 3), carers (rule 4),
   nor a ``person`` outside their own file. — Sauvegarde des intérêts vitaux d'une personne hors
   d'état de consentir (RGPD art. 9.2.c), tracée (RGPD art. 5.2).
8. **Deny by default**, saying what was missing (no consent, a revoked or expired one, an
   opposition, a refused break-glass). — Protection des données par défaut (RGPD art. 25).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from core import locale
from core.consent.model import (
    ACTION_LABELS,
    CATEGORY_LABELS,
    PURPOSE_LABELS,
    Action,
    Actor,
    Basis,
    BreakGlass,
    CarerLink,
    CareTeamMembership,
    Consent,
    ConsentKind,
    DataCategory,
    Decision,
    Purpose,
    RecipientKind,
)
from core.identity.roles import ROLE_LABELS, Role

PRESUMPTION_ROLES = frozenset({Role.PROFESSIONAL, Role.COORDINATOR})
"""Medical and paramedical roles: the care-team presumption applies to them only."""
PRESUMPTION_CATEGORIES = frozenset({DataCategory.MEDICAL, DataCategory.ADMINISTRATIVE, DataCategory.SOCIAL})
CARER_READABLE = frozenset({DataCategory.ADMINISTRATIVE, DataCategory.SOCIAL, DataCategory.FUNDING})
EMPLOYER_FORBIDDEN = frozenset({DataCategory.MEDICAL, DataCategory.DOCUMENTS})
BREAK_GLASS_EXCLUDED_ROLES = frozenset({Role.EMPLOYER_HR, Role.CARER, Role.PERSON})
MIN_JUSTIFICATION_LENGTH = 15
BREAK_GLASS_VALIDITY = dt.timedelta(hours=1)
"""A break-glass declaration covers the requests of the hour that follows it."""


def decide(
    actor: Actor,
    person_id: uuid.UUID,
    category: DataCategory,
    action: Action,
    purpose: Purpose,
    *,
    consents: Iterable[Consent],
    care_team: Iterable[CareTeamMembership],
    carer_links: Iterable[CarerLink],
    at: dt.datetime,
    break_glass: BreakGlass | None = None,
) -> Decision:
    """May ``actor`` do ``action`` on ``category`` of ``person_id``'s file for ``purpose`` at ``at``?

    ``consents``, ``care_team`` and ``carer_links`` may hold other people's entries: only the
    person's count.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at : date et heure avec fuseau horaire attendues")
    category, action, purpose = DataCategory(category), Action(action), Purpose(purpose)
    what = _describe(action, category, purpose)

    # 1. Own file.
    if actor.role is Role.PERSON and actor.person_id is not None and actor.person_id == person_id:
        return Decision(True, f"la personne accède à son propre dossier ({what})", Basis.OWN_FILE)

    own = [c for c in consents if c.person_id == person_id]
    team = [m for m in care_team if m.person_id == person_id]
    in_team = _in_care_team(actor, team, at)

    # 2. Employers.
    if actor.role is Role.EMPLOYER_HR and category in EMPLOYER_FORBIDDEN:
        reason = f"un employeur n'a jamais accès aux {CATEGORY_LABELS[category]} ({what})"
        ignored = _grants_in_force(actor, in_team, own, action, category, purpose, at)
        if ignored:
            reason += f" ; le consentement {ignored[0].id} qui le désigne est sans effet"
        return _deny(reason)

    # 3. Statistics.
    if purpose is Purpose.STATISTICS:
        return _deny(
            "les statistiques portent sur des données anonymisées, jamais sur le dossier nominatif "
            f"d'une personne ({what})"
        )

    # 4. Carers.
    if actor.role is Role.CARER:
        link = _active_carer_link(actor, person_id, carer_links, at)
        if link is None:
            return _deny(f"aucun lien d'aidant en cours avec cette personne ({what})")
        if action is Action.READ and category in CARER_READABLE:
            return Decision(
                True,
                f"aidant reconnu par la personne depuis le {_when(link.granted_at)} ({what})",
                Basis.CARER_DELEGATION,
            )

    oppositions = [
        c
        for c in own
        if c.kind is ConsentKind.OPPOSITION and c.in_force(at) and c.covers(action, category, purpose)
    ]

    # 5. Care-team presumption.
    presumption_applies = (
        in_team
        and actor.role in PRESUMPTION_ROLES
        and category in PRESUMPTION_CATEGORIES
        and purpose is Purpose.CARE_COORDINATION
    )
    if presumption_applies and not oppositions:
        return Decision(
            True,
            f"membre de l'équipe de soins ({ROLE_LABELS[actor.role]}), partage présumé "
            f"en l'absence d'opposition de la personne ({what})",
            Basis.CARE_TEAM_PRESUMPTION,
        )

    # 6. Express consent.
    in_force = _grants_in_force(actor, in_team, own, action, category, purpose, at)
    grants = [c for c in in_force if not (oppositions and c.recipient.kind is RecipientKind.CARE_TEAM)]
    if grants:
        grant = grants[0]
        return Decision(
            True,
            f"consentement exprès de la personne, enregistré le {_when(grant.recorded_at)} ({what})",
            Basis.EXPRESS_CONSENT,
            grant.id,
        )

    # Why nothing allowed: the opposition, when it took something away; else the missing grant.
    if oppositions and (presumption_applies or in_force):
        missing = (
            f"la personne s'est opposée au partage avec l'équipe de soins (opposition {oppositions[0].id}) "
            f"et aucun autre consentement exprès ne couvre : {what}"
        )
    else:
        missing = _why_no_grant(actor, in_team, own, action, category, purpose, at, what)

    # 7. Break-glass.
    if break_glass is None:
        return _deny(missing)
    refused = _break_glass_refusal(actor, break_glass, at)
    if refused is not None:
        return _deny(f"bris de glace refusé : {refused} ; {missing}")
    return Decision(
        True,
        f"accès en urgence (bris de glace) déclaré le {_when(break_glass.at)}, justification : "
        f"« {break_glass.justification.strip()} » ({what})",
        Basis.BREAK_GLASS,
    )


# ---------------------------------------------------------------- helpers


def _deny(reason: str) -> Decision:
    return Decision(False, reason, Basis.DENIED)


def _describe(action: Action, category: DataCategory, purpose: Purpose) -> str:
    return f"{ACTION_LABELS[action]} des {CATEGORY_LABELS[category]}, finalité « {PURPOSE_LABELS[purpose]} »"


def _when(instant: dt.datetime) -> str:
    """« 3 déc. 2026 à 10:42 », Paris time: reasons are read by people."""
    return locale.when(instant)


def _in_care_team(actor: Actor, team: list[CareTeamMembership], at: dt.datetime) -> bool:
    """Is the actor, or their organisation, an active member of the team in the actor's role?"""
    ids = {actor.user_id} if actor.organisation_id is None else {actor.user_id, actor.organisation_id}
    return any(m.member_id in ids and m.role is actor.role and m.active(at) for m in team)


def _names(actor: Actor, in_team: bool, consent: Consent) -> bool:
    recipient = consent.recipient
    match recipient.kind:
        case RecipientKind.ORGANISATION:
            return actor.organisation_id is not None and recipient.organisation_id == actor.organisation_id
        case RecipientKind.ROLE:
            return recipient.named_role is actor.role
        case RecipientKind.USER:
            return recipient.user_id == actor.user_id
        case RecipientKind.CARE_TEAM:
            return in_team


def _matching_grants(
    actor: Actor,
    in_team: bool,
    consents: list[Consent],
    action: Action,
    category: DataCategory,
    purpose: Purpose,
) -> list[Consent]:
    """The grants naming the actor and covering the request, in force or not."""
    return [
        c
        for c in consents
        if c.kind is ConsentKind.GRANT and _names(actor, in_team, c) and c.covers(action, category, purpose)
    ]


def _grants_in_force(
    actor: Actor,
    in_team: bool,
    consents: list[Consent],
    action: Action,
    category: DataCategory,
    purpose: Purpose,
    at: dt.datetime,
) -> list[Consent]:
    """Matching grants in force at ``at``, the most recently recorded first (ties: by id)."""
    matching = _matching_grants(actor, in_team, consents, action, category, purpose)
    found = [c for c in matching if c.in_force(at)]
    return sorted(found, key=lambda c: (c.recorded_at, str(c.id)), reverse=True)


def _why_no_grant(
    actor: Actor,
    in_team: bool,
    consents: list[Consent],
    action: Action,
    category: DataCategory,
    purpose: Purpose,
    at: dt.datetime,
    what: str,
) -> str:
    """The refusal of rule 6, naming the latest matching grant that is not in force, if any."""
    matching = _matching_grants(actor, in_team, consents, action, category, purpose)
    if not matching:
        return f"aucun consentement exprès de la personne ne couvre : {what}"
    latest = max(matching, key=lambda c: (c.recorded_at, str(c.id)))
    if latest.revoked_at is not None and latest.revoked_at <= at:
        state = f"a été retiré le {_when(latest.revoked_at)}"
    elif latest.valid_until is not None and latest.valid_until <= at:
        state = f"a expiré le {_when(latest.valid_until)}"
    elif at < latest.recorded_at:
        state = f"n'était pas encore enregistré (il l'a été le {_when(latest.recorded_at)})"
    else:
        state = f"ne prend effet que le {_when(latest.valid_from)}"
    return f"le consentement {latest.id} {state} ; plus rien ne couvre : {what}"


def _active_carer_link(
    actor: Actor, person_id: uuid.UUID, links: Iterable[CarerLink], at: dt.datetime
) -> CarerLink | None:
    if actor.person_id is None:
        return None
    for link in links:
        if link.person_id == person_id and link.carer_id == actor.person_id and link.active(at):
            return link
    return None


def _break_glass_refusal(actor: Actor, break_glass: BreakGlass, at: dt.datetime) -> str | None:
    """Why this break-glass cannot open the file, or None when it can."""
    if actor.role in BREAK_GLASS_EXCLUDED_ROLES:
        return f"le rôle « {ROLE_LABELS[actor.role]} » ne peut pas y recourir"
    if len(break_glass.justification.strip()) < MIN_JUSTIFICATION_LENGTH:
        return f"une justification écrite d'au moins {MIN_JUSTIFICATION_LENGTH} caractères est exigée"
    if break_glass.at > at:
        return "la déclaration est postérieure à la demande"
    if at - break_glass.at >= BREAK_GLASS_VALIDITY:
        return "la déclaration date de plus d'une heure, il faut la renouveler"
    return None
