"""The person's and carers' portal: my file, who can see what, requests, my access log.

Every page works on one person, ``?personne=<uuid>`` among those the user manages
(``core.records.portal.people_i_manage``; the first by default). Forms carry that id in a hidden
field ``personne``. A domain refusal on a form (invalid input, conflict, not found, forbidden) is
shown inline with a 422, as the administration forms do; success sends the browser back to the
page (303, or a client-side redirect for htmx). A consent switch posted by htmx answers with the
cell alone, plus the consent list swapped out of band.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import urlencode

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template

from core.access.policy import Actor, Permission
from core.consent.model import CATEGORY_LABELS, PURPOSE_LABELS, ConsentKind, DataCategory, Purpose
from core.consent.service import (
    ConsentView,
    answer_request,
    list_consents,
    pending_requests,
    revoke_consent,
)
from core.consent.toggles import (
    TOGGLE_PURPOSES,
    access_matrix,
    parse_purpose,
    set_access,
    set_opposition,
)
from core.errors import DomainError, FieldError, InvalidInput
from core.records.access_log import access_log
from core.records.file import read_file
from core.records.portal import OWN_FILE, ManagedPerson, choose_person
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import requires
from web.pages.forms import done, is_fragment
from web.pages.nav import navigation

PORTAL = requires(Permission.PORTAL).opt()
BASE = "/t/{slug:str}/mon-dossier"
COLUMN_LABELS: dict[DataCategory, str] = {
    DataCategory.ADMINISTRATIVE: "Administratif",
    DataCategory.SOCIAL: "Social",
    DataCategory.MEDICAL: "Médical",
    DataCategory.FUNDING: "Financement",
    DataCategory.DOCUMENTS: "Documents",
}
INS_STATUS_LABELS = {
    "provisional": "provisoire",
    "recovered": "récupérée",
    "verified": "vérifiée",
    "qualified": "qualifiée",
}
ASSIGNEE_LABELS = {
    "home_help_provider": "le service d'aide à domicile",
    "nurse": "un infirmier ou une infirmière",
    "general_practitioner": "le médecin traitant",
}
"""Who an action proposal is for, in words (the routing plugins name roles)."""
_TRUE = {"1", "true", "on", "oui"}


# ---------------------------------------------------------------- shared helpers


def portal_url(tenant: TenantRecord, suffix: str = "", **query: str) -> str:
    """``/t/{slug}/mon-dossier{suffix}?…``, empty query values left out."""
    kept = {key: value for key, value in query.items() if value}
    return f"/t/{tenant.slug}/mon-dossier{suffix}" + (f"?{urlencode(kept)}" if kept else "")


async def portal_context(
    request: HTMXRequest,
    tenant: TenantRecord,
    subject: ManagedPerson,
    people: list[ManagedPerson],
    page: str,
    **extra: Any,
) -> dict[str, Any]:
    """What every portal template needs: menu, CSRF, the person shown and the portal's links."""
    return {
        **await navigation(request, tenant),
        "tenant": tenant,
        "subject": subject,
        "people": people,
        "own_file": subject.relation == OWN_FILE,
        "page": page,
        "portal": f"/t/{tenant.slug}/mon-dossier",
        "who": urlencode({"personne": str(subject.id)}),
        "category_labels": CATEGORY_LABELS,
        "column_labels": COLUMN_LABELS,
        "purpose_labels": PURPOSE_LABELS,
        "error": None,
        **extra,
    }


def portal_message(error: DomainError) -> str:
    """The refusal in one sentence, with the fields it names."""
    details = "; ".join(e.message for e in error.errors)
    return f"{error.detail} : {details}" if details else error.detail


def _purpose(value: str | None) -> Purpose:
    """The grid's purpose tab; anything unknown shows care coordination."""
    try:
        return parse_purpose(value or Purpose.CARE_COORDINATION.value)
    except InvalidInput:
        return Purpose.CARE_COORDINATION


def _uuid(value: str | None, field: str, message: str) -> uuid.UUID:
    try:
        return uuid.UUID(value or "")
    except ValueError:
        raise InvalidInput(message, [FieldError(field, message)]) from None


# ---------------------------------------------------------------- my file


@get(BASE, opt=PORTAL, include_in_schema=False)
async def my_file(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    personne: FromQuery[str | None] = None,
) -> Template:
    """The person's file for care coordination; refused sections say why."""
    subject, people = await choose_person(actor, personne)
    file = await read_file(runtime, actor, subject.id, Purpose.CARE_COORDINATION)
    return Template(
        "portal/file.html",
        context=await portal_context(
            request,
            tenant,
            subject,
            people,
            "file",
            file=file,
            Category=DataCategory,
            ins_status_labels=INS_STATUS_LABELS,
            assignee_labels=ASSIGNEE_LABELS,
        ),
    )


# ---------------------------------------------------------------- who can see what


def _consent_state(view: ConsentView, now: dt.datetime) -> tuple[str, bool]:
    """(« en vigueur » | « à venir » | « expiré » | « retiré », may it still be withdrawn?)."""
    consent = view.consent
    if consent.revoked_at is not None:
        return "retiré", False
    if consent.valid_until is not None and consent.valid_until <= now:
        return "expiré", False
    if view.in_force:
        return "en vigueur", True
    return "à venir", True


async def _consent_rows(runtime: Runtime, actor: Actor, person_id: uuid.UUID) -> list[dict[str, Any]]:
    now = runtime.clock()
    rows = []
    for view in await list_consents(runtime, actor, person_id):
        state, revocable = _consent_state(view, now)
        rows.append(
            {
                "view": view,
                "state": state,
                "revocable": revocable,
                "opposition": view.consent.kind is ConsentKind.OPPOSITION,
            }
        )
    return rows


async def _consents_context(
    request: HTMXRequest,
    tenant: TenantRecord,
    runtime: Runtime,
    actor: Actor,
    subject: ManagedPerson,
    people: list[ManagedPerson],
    purpose: Purpose,
    **extra: Any,
) -> dict[str, Any]:
    return await portal_context(
        request,
        tenant,
        subject,
        people,
        "consents",
        matrix=await access_matrix(runtime, actor, subject.id, purpose),
        purposes=TOGGLE_PURPOSES,
        requests=await pending_requests(runtime, actor, subject.id),
        consents=await _consent_rows(runtime, actor, subject.id),
        **extra,
    )


@get(BASE + "/consentements", opt=PORTAL, include_in_schema=False)
async def consents_page(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    personne: FromQuery[str | None] = None,
    finalite: FromQuery[str | None] = None,
) -> Template:
    """« Qui peut voir quoi » : the grid of switches, the opposition, pending requests, all consents."""
    subject, people = await choose_person(actor, personne)
    context = await _consents_context(request, tenant, runtime, actor, subject, people, _purpose(finalite))
    return Template("portal/consents.html", context=context)


async def _consents_refused(
    request: HTMXRequest,
    tenant: TenantRecord,
    runtime: Runtime,
    actor: Actor,
    subject: ManagedPerson,
    people: list[ManagedPerson],
    purpose: Purpose,
    error: DomainError,
) -> Template:
    """The page again with the refusal stated at the top (422)."""
    context = await _consents_context(
        request, tenant, runtime, actor, subject, people, purpose, error=portal_message(error)
    )
    return Template("portal/consents.html", context=context, status_code=422)


@post(BASE + "/consentements", opt=PORTAL, include_in_schema=False)
async def consents_toggle(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    data: URLEncodedBody[dict[str, str]],
) -> Template | Redirect | ClientRedirect:
    """One switch of the grid: ``organisation_id``, ``category``, ``purpose``, ``allowed`` (1 or 0)."""
    subject, people = await choose_person(actor, data.get("personne"))
    purpose = _purpose(data.get("purpose"))
    error: DomainError | None = None
    organisation_id: uuid.UUID | None = None
    try:
        organisation_id = _uuid(data.get("organisation_id"), "organisation_id", "organisation inconnue")
        allowed = data.get("allowed", "").lower() in _TRUE
        await set_access(
            runtime,
            actor,
            subject.id,
            organisation_id,
            data.get("category", ""),
            data.get("purpose", ""),
            allowed,
        )
    except DomainError as refused:
        error = refused
    if is_fragment(request):
        return await _cell_fragment(
            request, tenant, runtime, actor, subject, people, purpose, organisation_id, data, error
        )
    if error is not None:
        return await _consents_refused(request, tenant, runtime, actor, subject, people, purpose, error)
    return done(
        request, portal_url(tenant, "/consentements", personne=str(subject.id), finalite=purpose.value)
    )


async def _cell_fragment(
    request: HTMXRequest,
    tenant: TenantRecord,
    runtime: Runtime,
    actor: Actor,
    subject: ManagedPerson,
    people: list[ManagedPerson],
    purpose: Purpose,
    organisation_id: uuid.UUID | None,
    data: dict[str, str],
    error: DomainError | None,
) -> Template:
    """The switched cell in its new state (or with its refusal), and the consent list out of band."""
    context = await _consents_context(
        request,
        tenant,
        runtime,
        actor,
        subject,
        people,
        purpose,
        error=portal_message(error) if error else None,
    )
    matrix = context["matrix"]
    row = matrix.row(organisation_id) if organisation_id else None
    cell = None
    if row is not None and data.get("category") in {c.value for c in DataCategory}:
        cell = matrix.cell(row.id, DataCategory(data["category"]))
    return Template(
        "portal/_toggle_response.html",
        context={**context, "row": row, "cell": cell},
        status_code=422 if error else 200,
    )


@post(BASE + "/consentements/{consent_id:uuid}/retrait", opt=PORTAL, include_in_schema=False)
async def consent_withdraw(
    request: HTMXRequest,
    consent_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    data: URLEncodedBody[dict[str, str]],
) -> Template | Redirect | ClientRedirect:
    """« Retirer » : revoke one consent (or lift an opposition) with immediate effect."""
    subject, people = await choose_person(actor, data.get("personne"))
    purpose = _purpose(data.get("finalite"))
    try:
        await revoke_consent(runtime, actor, subject.id, consent_id)
    except DomainError as refused:
        return await _consents_refused(request, tenant, runtime, actor, subject, people, purpose, refused)
    return done(
        request, portal_url(tenant, "/consentements", personne=str(subject.id), finalite=purpose.value)
    )


@post(BASE + "/demandes/{request_id:uuid}", opt=PORTAL, include_in_schema=False)
async def request_answer(
    request: HTMXRequest,
    request_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    data: URLEncodedBody[dict[str, str]],
) -> Template | Redirect | ClientRedirect:
    """Accept (a consent is recorded for the requester) or decline a pending request."""
    subject, people = await choose_person(actor, data.get("personne"))
    purpose = _purpose(data.get("finalite"))
    answer = data.get("answer", "")
    try:
        if answer not in ("accept", "decline"):
            raise InvalidInput("réponse attendue", [FieldError("answer", "choisissez Accepter ou Refuser")])
        await answer_request(runtime, actor, subject.id, request_id, accept=answer == "accept")
    except DomainError as refused:
        return await _consents_refused(request, tenant, runtime, actor, subject, people, purpose, refused)
    return done(
        request, portal_url(tenant, "/consentements", personne=str(subject.id), finalite=purpose.value)
    )


@post(BASE + "/opposition", opt=PORTAL, include_in_schema=False)
async def opposition_toggle(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    data: URLEncodedBody[dict[str, str]],
) -> Template | Redirect | ClientRedirect:
    """Oppose (``opposed=1``) or stop opposing (``0``) the care team's sharing of medical data."""
    subject, people = await choose_person(actor, data.get("personne"))
    purpose = _purpose(data.get("finalite"))
    try:
        await set_opposition(runtime, actor, subject.id, data.get("opposed", "").lower() in _TRUE)
    except DomainError as refused:
        return await _consents_refused(request, tenant, runtime, actor, subject, people, purpose, refused)
    return done(
        request, portal_url(tenant, "/consentements", personne=str(subject.id), finalite=purpose.value)
    )


# ---------------------------------------------------------------- who looked at my file


@get(BASE + "/journal", opt=PORTAL, include_in_schema=False)
async def access_journal(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    personne: FromQuery[str | None] = None,
) -> Template:
    """« Qui a consulté mon dossier » : the access log, break-glass accesses flagged."""
    subject, people = await choose_person(actor, personne)
    lines = await access_log(runtime, actor, subject.id)
    return Template(
        "portal/journal.html",
        context=await portal_context(request, tenant, subject, people, "journal", lines=lines),
    )


PORTAL_PAGES: list[Any] = [
    my_file,
    consents_page,
    consents_toggle,
    consent_withdraw,
    request_answer,
    opposition_toggle,
    access_journal,
]
