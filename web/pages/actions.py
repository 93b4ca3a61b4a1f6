"""« Mes actions »: the professional's inbox of action proposals, and one proposal's page.

Every decision is the core's (``core.proposals``): these handlers parse a form or a query, call one
service and render. The inbox is a GET form (shareable URLs, works without JavaScript); with htmx a
filter swaps only the list and pushes the URL, and the one-click moves (Prendre en compte, Accepter,
Démarrer, Marquer réalisée) swap only their row. Someone faster gets the row back with the core's
« Impossible : … » message (409); a missing reason comes back inline (422). Moves that need a coded
reason (Refuser, Déclarer non réalisée, Annuler) are made from the proposal's page.

Forms of the proposal's page answer htmx with the page's content fragment (``#action-detail``) and
plain browsers with a 303 to the page (``forms.done``). Every response carries
``Cache-Control: no-store``: a shared tablet keeps no copy of a person's name.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, replace
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import get, post
from litestar.datastructures import CacheControlHeader, FormMultiDict, UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template

from core.access.policy import Actor, Permission
from core.consent.access import AccessDenied
from core.errors import Conflict, DomainError, FieldError, Forbidden, InvalidInput, NotFound
from core.events.catalogue import Catalogue, tenant_catalogue
from core.identity.directory import OrganisationRecord, list_organisations
from core.identity.roles import ROLE_LABELS, Role
from core.proposals.comments import add_comment
from core.proposals.lifecycle import (
    MOVE_LABELS,
    MOVES,
    NEEDS_REASON,
    REASSIGNABLE,
    STATUS_LABELS,
    Move,
    allowed_moves,
    reasons_for,
)
from core.proposals.links import DEFAULT_DAYS, MAX_DAYS, create_link, revoke_link
from core.proposals.queries import (
    InboxFilters,
    counters,
    inbox,
    inbox_row,
    proposal_detail,
    purpose_for,
    timeline,
)
from core.proposals.service import (
    FUNDING_STATUSES,
    Acting,
    move,
    reassign,
    record_funding,
    set_carrier,
)
from core.records.documents import MAX_DOCUMENT_BYTES, add_document
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import current_session, requires
from web.money import parse_euros
from web.pages.forms import done, field_errors, form_text, is_fragment
from web.pages.nav import navigation

ACT = requires(Permission.PROPOSALS).opt()
NO_STORE = CacheControlHeader(no_store=True)
UPLOAD_LIMIT = MAX_DOCUMENT_BYTES + 256 * 1024
"""Request bodies above this are refused before being read (413): the file plus the form's overhead."""

ONE_CLICK = (Move.ACKNOWLEDGE, Move.ACCEPT, Move.START, Move.COMPLETE)
"""The moves a row offers as one button (no reason needed)."""
POLL_SECONDS = 30


@dataclass(frozen=True)
class Tab:
    key: str
    scope: str
    label: str


TABS = (
    Tab("a-faire", "mine", "À faire"),
    Tab("pris", "team", "Pris par moi"),
    Tab("territoire", "territory", "Territoire"),
)
STATUS_CHOICES: tuple[tuple[str, str, str], ...] = (
    ("ouvertes", "open", "Ouvertes"),
    ("terminees", "closed", "Terminées ou refusées"),
    ("toutes", "all", "Toutes"),
    *((status.value, status.value, label) for status, label in STATUS_LABELS.items()),
)
"""Query value, the inbox's status filter, and its label."""
DUE_CHOICES: tuple[tuple[str, str, str], ...] = (
    ("en-retard", "overdue", "En retard"),
    ("aujourdhui", "today", "Jusqu'à aujourd'hui"),
    ("7-jours", "week", "Dans les 7 jours"),
)
REASSIGN_ROLES = (
    Role.COORDINATOR,
    Role.PROFESSIONAL,
    Role.SOCIAL_WORKER,
    Role.PROVIDER_STAFF,
    Role.FUNDER_AGENT,
)
DETAIL_LABELS = {
    "ward": "Service",
    "discharge_summary_available": "Compte rendu de sortie disponible",
    "establishment_finess": "Établissement (FINESS)",
    "destination": "Destination",
    "admitted": "Hospitalisation",
    "injured": "Blessure",
    "long_lie": "Restée longtemps au sol",
    "remote_alarm": "Téléassistance",
    "reason": "Motif",
    "expected_until": "Jusqu'au",
    "domains": "Domaines",
    "urgency": "Urgence",
    "subject": "Objet",
    "preferred_date": "Date souhaitée",
    "specialty": "Spécialité",
}
"""French names of the event details' fields (the catalogue's schemas)."""
DETAIL_VALUES = {
    "home": "domicile",
    "nursing_home": "établissement d'hébergement",
    "other": "autre",
    "illness": "maladie",
    "hospitalisation": "hospitalisation",
    "routine": "habituelle",
    "urgent": "urgente",
    "mobility": "mobilité",
    "hygiene": "hygiène",
    "meals": "repas",
    "medication": "médicaments",
    "cognition": "cognition",
    "housekeeping": "entretien du logement",
}
MEDIA_LABELS = {"application/pdf": "PDF", "image/png": "image PNG", "image/jpeg": "image JPEG"}
DONE_NOTICES = {
    "reattribuee": "L'action a été réattribuée ; son nouveau détenteur est prévenu.",
    "prestataire": "Le prestataire a été enregistré.",
    "financement": "Le financement a été enregistré.",
    "lien-retire": "Le lien a été retiré : il ne permet plus rien.",
    "commentaire": "Votre message a été ajouté au fil.",
    "piece": "La pièce jointe a été ajoutée.",
}


# ---------------------------------------------------------------- helpers


def _version(form: FormMultiDict) -> int | None:
    """The version the form displayed (an outdated one is refused by the core: 409)."""
    value = form_text(form, "version")
    return int(value) if value.isdigit() else None


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def _catalogue(runtime: Runtime, tenant: TenantRecord) -> Catalogue:
    return await tenant_catalogue(runtime.plugins, tenant.enabled_plugins)


async def _acting(request: HTMXRequest, actor: Actor) -> Acting:
    """The signed-in user as history lines name them: « Marc Darrieutort, Cabinet médical … »."""
    session = await current_session(request)
    name = session.account.display_name if session else "utilisateur"
    organisation = ""
    if actor.organisation_id is not None and actor.tenant_id is not None:
        organisation = next(
            (o.name for o in await list_organisations(actor.tenant_id) if o.id == actor.organisation_id), ""
        )
    return Acting.user(actor, f"{name}, {organisation}" if organisation else name)


def _inbox_url(tenant: TenantRecord) -> str:
    return f"/t/{tenant.slug}/actions"


def _detail_url(tenant: TenantRecord, proposal_id: uuid.UUID, done_what: str = "") -> str:
    """The proposal's page; ``done_what`` names the change its notice confirms (``?fait=``)."""
    url = f"/t/{tenant.slug}/actions/{proposal_id}"
    return url + (f"?fait={done_what}" if done_what else "")


def _return_to(tenant: TenantRecord, value: str) -> str:
    """Where a row's form sends a plain browser back: an inbox address, nothing else."""
    base = _inbox_url(tenant)
    if (value == base or value.startswith(base + "?")) and not re.search(r"[\s\\]", value):
        return value
    return base


async def _refused(request: HTMXRequest, tenant: TenantRecord, error: Forbidden) -> Template:
    """The French « not allowed » page (403), with the menu."""
    return Template(
        "actions/refused.html",
        context={"tenant": tenant, "detail": error.detail, **await navigation(request, tenant)},
        status_code=403,
    )


# ---------------------------------------------------------------- the inbox


@dataclass(frozen=True)
class InboxQuery:
    """The inbox's address: tab, filters and page, as French query parameters."""

    tab: str = "a-faire"
    status: str = "ouvertes"
    due: str = ""
    action_type: str = ""
    person: str = ""
    page: int = 1

    @classmethod
    def parse(
        cls,
        tab: str | None,
        status: str | None,
        due: str | None,
        action_type: str | None,
        person: str | None,
        page: str | None,
        catalogue: Catalogue,
    ) -> InboxQuery:
        """Unknown values fall back to the defaults (an old or mistyped link still opens)."""
        return cls(
            tab=tab if tab in {t.key for t in TABS} else "a-faire",
            status=status if status in {c[0] for c in STATUS_CHOICES} else "ouvertes",
            due=due if due in {c[0] for c in DUE_CHOICES} else "",
            action_type=action_type if action_type in catalogue.actions else "",
            person=str(_uuid(person)) if person and _uuid(person) else "",
            page=min(int(page), 10_000) if page and page.isdigit() and int(page) > 0 else 1,
        )

    def filters(self) -> InboxFilters:
        return InboxFilters(
            scope=next(t.scope for t in TABS if t.key == self.tab),
            status=next(c[1] for c in STATUS_CHOICES if c[0] == self.status),
            due=next((c[1] for c in DUE_CHOICES if c[0] == self.due), ""),
            action_type=self.action_type,
            person_id=uuid.UUID(self.person) if self.person else None,
            page=self.page,
        )

    def params(self, **changes: Any) -> str:
        """The query string of this address with ``changes`` (defaults left out: short URLs)."""
        query = replace(self, **changes)
        pairs = [
            ("onglet", query.tab, "a-faire"),
            ("statut", query.status, "ouvertes"),
            ("echeance", query.due, ""),
            ("type", query.action_type, ""),
            ("personne", query.person, ""),
            ("page", str(query.page), "1"),
        ]
        kept = [(name, value) for name, value, default in pairs if value != default]
        return "?" + urlencode(kept) if kept else ""


async def _inbox_context(
    request: HTMXRequest,
    tenant: TenantRecord,
    actor: Actor,
    runtime: Runtime,
    query: InboxQuery,
    catalogue: Catalogue,
    *,
    list_only: bool,
) -> dict[str, Any]:
    page = await inbox(runtime, actor, query.filters(), catalogue)
    coordinator = actor.role is Role.COORDINATOR
    base = _inbox_url(tenant)
    return {
        "tenant": tenant,
        "query": query,
        "base": base,
        "here": base + query.params(),
        "page": page,
        "tabs": [tab for tab in TABS if tab.key != "territoire" or coordinator],
        "tab_label": next(t.label for t in TABS if t.key == query.tab),
        "status_choices": STATUS_CHOICES,
        "status_label": _status_caption(query.status),
        "due_label": next((c[2] for c in DUE_CHOICES if c[0] == query.due), ""),
        "due_choices": DUE_CHOICES,
        "action_choices": sorted(
            ((code, spec.label) for code, spec in catalogue.actions.items()), key=_label
        ),
        **_row_context(),
        **({} if list_only else await _counters_context(runtime, actor, tenant, tour=1, first=True)),
        **await navigation(request, tenant),
    }


def _status_caption(value: str) -> str:
    """The status filter in the list's caption: « ouvertes », « statut « Acceptée » »."""
    if value in {status.value for status in STATUS_LABELS}:
        return f"statut « {next(c[2] for c in STATUS_CHOICES if c[0] == value)} »"
    return next(c[2] for c in STATUS_CHOICES if c[0] == value).lower()


def _label(choice: tuple[str, str]) -> str:
    return choice[1]


def _row_context() -> dict[str, Any]:
    return {
        "one_click": ONE_CLICK,
        "needs_reason": NEEDS_REASON,
        "move_labels": MOVE_LABELS,
        "row_error": None,
        "row_swapped": False,
    }


@get("/t/{slug:str}/actions", opt=ACT, include_in_schema=False, cache_control=NO_STORE)
async def inbox_page(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    onglet: FromQuery[str | None] = None,
    statut: FromQuery[str | None] = None,
    echeance: FromQuery[str | None] = None,
    action_type: Annotated[str | None, QueryParameter(name="type")] = None,
    personne: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Template:
    """« Mes actions »: a tab, the filters, one page of rows (the list alone for an htmx filter)."""
    catalogue = await _catalogue(runtime, tenant)
    query = InboxQuery.parse(onglet, statut, echeance, action_type, personne, page, catalogue)
    if query.tab == "territoire" and actor.role is not Role.COORDINATOR:
        return await _refused(
            request, tenant, Forbidden("la vue du territoire est réservée à la coordination")
        )
    list_only = is_fragment(request) and request.htmx.target == "inbox-list"
    context = await _inbox_context(request, tenant, actor, runtime, query, catalogue, list_only=list_only)
    return Template("actions/_list.html" if list_only else "actions/inbox.html", context=context)


async def _counters_context(
    runtime: Runtime, actor: Actor, tenant: TenantRecord, *, tour: int, first: bool = False
) -> dict[str, Any]:
    """The counters and how they poll: every 30 s, for half the session's idle time at most (a
    tablet left on the inbox must still be signed out when nobody uses it)."""
    tours = max(1, math.ceil(runtime.settings.session_idle_minutes * 60 / 2 / POLL_SECONDS))
    return {
        "counters": await counters(runtime, actor),
        "counters_url": f"{_inbox_url(tenant)}/compteurs?tour={tour}",
        "counters_trigger": f"load, every {POLL_SECONDS}s" if first else f"every {POLL_SECONDS}s",
        "counters_polling": tour <= tours,
    }


@get("/t/{slug:str}/actions/compteurs", opt=ACT, include_in_schema=False, cache_control=NO_STORE)
async def counters_fragment(
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    tour: FromQuery[str | None] = None,
) -> Template:
    """The live counters (à traiter, en retard, en cours), polled by the inbox."""
    count = int(tour) if tour and tour.isdigit() else 1
    context = {
        "tenant": tenant,
        **await _counters_context(runtime, actor, tenant, tour=min(count, 10_000) + 1),
    }
    return Template("actions/_counters.html", context=context)


# ---------------------------------------------------------------- moves


@post(
    "/t/{slug:str}/actions/{proposal_id:uuid}/{what:str}",
    opt=ACT,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def move_proposal(
    request: HTMXRequest,
    proposal_id: FromPath[uuid.UUID],
    what: FromPath[str],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """One status move. From a row (``vue=ligne``): the row again; from the page: the page's content."""
    try:
        chosen = Move(what)
    except ValueError:
        raise NotFound("cette adresse n'existe pas") from None
    form = await request.form()
    in_row = form_text(form, "vue") == "ligne"
    values = {"reason": form_text(form, "reason"), "note": form_text(form, "note")}
    failed = f"move-{chosen.value}"
    try:
        if chosen is Move.CANCEL and actor.role is not Role.COORDINATOR:
            raise Forbidden("seule la coordination peut annuler une action")
        target = await move(
            runtime,
            tenant.id,
            proposal_id,
            chosen,
            await _acting(request, actor),
            version=_version(form),
            reason_code=values["reason"] or None,
            note=values["note"],
        )
    except (InvalidInput, Conflict) as error:
        if in_row and is_fragment(request):
            return await _row(request, tenant, actor, runtime, proposal_id, error=error)
        return await _detail_page(
            request, tenant, actor, runtime, proposal_id, error=error, failed=failed, values=values
        )
    except Forbidden as forbidden:
        return await _refused(request, tenant, forbidden)
    if in_row:
        if is_fragment(request):
            return await _row(request, tenant, actor, runtime, proposal_id)
        return done(request, _return_to(tenant, form_text(form, "retour")))
    if is_fragment(request):
        notice = f"L'action est maintenant « {STATUS_LABELS[target]} »."
        return await _detail_page(request, tenant, actor, runtime, proposal_id, notice=notice)
    return done(request, _detail_url(tenant, proposal_id, chosen.value))


async def _row(
    request: HTMXRequest,
    tenant: TenantRecord,
    actor: Actor,
    runtime: Runtime,
    proposal_id: uuid.UUID,
    *,
    error: DomainError | None = None,
) -> Template:
    """The row as it is now, with the refusal's message if any, and the counters (out of band)."""
    try:
        row = await inbox_row(runtime, actor, proposal_id, await _catalogue(runtime, tenant))
    except Forbidden as forbidden:
        return await _refused(request, tenant, forbidden)
    message = None
    if error is not None:
        message = error.detail if isinstance(error, Conflict) else "; ".join(field_errors(error).values())
    session = await current_session(request)
    context = {
        "tenant": tenant,
        "row": row,
        "csrf": session.csrf_token if session else "",
        "here": _return_to(tenant, request.htmx.current_url_abs_path or ""),
        **_row_context(),
        "row_error": message,
        "row_swapped": True,
        **await _counters_context(runtime, actor, tenant, tour=1),
        "counters_oob": True,
    }
    status = error.status if error is not None else 200
    return Template("actions/_row.html", context=context, status_code=status)


# ---------------------------------------------------------------- one proposal


async def _detail_page(
    request: HTMXRequest,
    tenant: TenantRecord,
    actor: Actor,
    runtime: Runtime,
    proposal_id: uuid.UUID,
    *,
    error: DomainError | None = None,
    status: int | None = None,
    **extra: Any,
) -> Template:
    """The proposal's page (its content only, for htmx), with a form's errors if one failed."""
    catalogue = await _catalogue(runtime, tenant)
    try:
        detail = await proposal_detail(runtime, actor, proposal_id, catalogue)
    except Forbidden as forbidden:
        return await _refused(request, tenant, forbidden)
    row = detail.row
    moves = list(row.moves)
    if detail.is_coordinator and Move.CANCEL in allowed_moves(row.status):
        moves.append(Move.CANCEL)
    organisations: list[OrganisationRecord] = await list_organisations(tenant.id)
    context = {
        "tenant": tenant,
        "detail": detail,
        "row": row,
        "moves": moves,
        "one_click_moves": [m for m in moves if m not in NEEDS_REASON],
        "reason_moves": [m for m in moves if m in NEEDS_REASON],
        "reasons": {m: reasons_for(m) for m in NEEDS_REASON},
        "move_labels": MOVE_LABELS,
        "reassignable": detail.can_act and row.status in REASSIGNABLE,
        "organisations": organisations,
        "org_options": [(str(o.id), o.name) for o in organisations],
        "now": runtime.clock(),
        "media_labels": MEDIA_LABELS,
        "roles": [(role.value, ROLE_LABELS[role]) for role in REASSIGN_ROLES],
        "funding_statuses": FUNDING_STATUSES,
        "purpose": purpose_for(actor.role),
        "timeline": await timeline(runtime, actor, row.person_id, catalogue),
        "event_details": _event_details(detail.event_details),
        "max_days": MAX_DAYS,
        "default_days": DEFAULT_DAYS,
        "errors": field_errors(error) if error is not None else {},
        "failed": None,
        "values": {},
        "notice": None,
        "new_link_url": None,
        **await navigation(request, tenant),
        **extra,
    }
    code = status or (error.status if error is not None else 200)
    name = "actions/_detail.html" if is_fragment(request) else "actions/detail.html"
    return Template(name, context=context, status_code=code)


def _event_details(details: dict[str, Any] | None) -> list[tuple[str, str]] | None:
    """The event's details as French (label, value) pairs; None when the viewer may not read them."""
    if details is None:
        return None
    pairs = []
    for key, value in details.items():
        if value is None or value == [] or value == "":
            continue
        if isinstance(value, bool):
            shown = "oui" if value else "non"
        elif isinstance(value, list):
            shown = ", ".join(DETAIL_VALUES.get(str(item), str(item)) for item in value)
        else:
            shown = DETAIL_VALUES.get(str(value), str(value))
        pairs.append((DETAIL_LABELS.get(key, key), shown))
    return pairs


def _move_notice(what: str | None) -> str | None:
    try:
        chosen = Move(what or "")
    except ValueError:
        return DONE_NOTICES.get(what or "")
    return f"L'action est maintenant « {STATUS_LABELS[MOVES[chosen][1]]} »."


@get("/t/{slug:str}/actions/{proposal_id:uuid}", opt=ACT, include_in_schema=False, cache_control=NO_STORE)
async def proposal_page(
    request: HTMXRequest,
    proposal_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    fait: FromQuery[str | None] = None,
) -> Template:
    """What is asked, for whom, after which event; the moves, forms, thread, history and timeline."""
    return await _detail_page(request, tenant, actor, runtime, proposal_id, notice=_move_notice(fait))


@dataclass(frozen=True)
class _Form:
    """What a proposal form's handler needs to answer: success, inline errors or a refusal."""

    request: HTMXRequest
    tenant: TenantRecord
    actor: Actor
    runtime: Runtime
    proposal_id: uuid.UUID

    async def failed(self, form_id: str, values: dict[str, Any], error: DomainError) -> Template:
        """The page again with ``form_id``'s errors and values (422, 409 for a conflict); a refused
        consent is said on the form (422), any other refusal is the 403 page."""
        if isinstance(error, Forbidden) and not isinstance(error, AccessDenied):
            return await _refused(self.request, self.tenant, error)
        status = 422 if isinstance(error, AccessDenied) else error.status
        return await _detail_page(
            self.request,
            self.tenant,
            self.actor,
            self.runtime,
            self.proposal_id,
            error=error,
            status=status,
            failed=form_id,
            values=values,
        )

    async def succeeded(self, done_what: str) -> Template | Redirect | ClientRedirect:
        """The page's content with the notice (htmx), or a 303 to the page saying it (plain browsers)."""
        if is_fragment(self.request):
            return await _detail_page(
                self.request,
                self.tenant,
                self.actor,
                self.runtime,
                self.proposal_id,
                notice=DONE_NOTICES[done_what],
            )
        return done(self.request, _detail_url(self.tenant, self.proposal_id, done_what))


@post(
    "/t/{slug:str}/actions/{proposal_id:uuid}/reattribuer",
    opt=ACT,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def reassign_proposal(
    request: HTMXRequest,
    proposal_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Hand the proposal to an organisation of the directory or to a role, with a required note."""
    target = _Form(request, tenant, actor, runtime, proposal_id)
    form = await request.form()
    values = {"assignee": form_text(form, "assignee"), "note": form_text(form, "note")}
    kind, _, value = values["assignee"].partition(":")
    organisation_id = _uuid(value) if kind == "organisation" else None
    role = Role(value) if kind == "role" and value in {r.value for r in REASSIGN_ROLES} else None
    try:
        if organisation_id is None and role is None:
            raise InvalidInput(
                "destinataire requis",
                [FieldError("assignee", "choisissez une structure de l'annuaire ou un rôle")],
            )
        await reassign(
            runtime,
            tenant.id,
            proposal_id,
            await _acting(request, actor),
            organisation_id=organisation_id,
            role=role,
            note=values["note"],
            version=_version(form),
        )
    except (InvalidInput, Conflict, Forbidden) as error:
        return await target.failed("reassign", values, error)
    return await target.succeeded("reattribuee")


@post(
    "/t/{slug:str}/actions/{proposal_id:uuid}/prestataire",
    opt=ACT,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def carrier_proposal(
    request: HTMXRequest,
    proposal_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Record who carries the action out: a directory organisation, or named in words."""
    target = _Form(request, tenant, actor, runtime, proposal_id)
    form = await request.form()
    values = {"carrier": form_text(form, "carrier"), "carrier_label": form_text(form, "carrier_label")}
    try:
        organisation_id = None
        if values["carrier"]:
            organisation_id = _uuid(values["carrier"])
            if organisation_id is None:
                raise InvalidInput("prestataire inconnu", [FieldError("carrier", "structure inconnue")])
        await set_carrier(
            runtime,
            tenant.id,
            proposal_id,
            await _acting(request, actor),
            organisation_id=organisation_id,
            label=values["carrier_label"],
        )
    except (InvalidInput, Conflict, Forbidden) as error:
        return await target.failed("carrier", values, error)
    return await target.succeeded("prestataire")


@post(
    "/t/{slug:str}/actions/{proposal_id:uuid}/financement",
    opt=ACT,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def funding_proposal(
    request: HTMXRequest,
    proposal_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Where a funding request stands: programme, funder, status and amount (euros, French style)."""
    target = _Form(request, tenant, actor, runtime, proposal_id)
    form = await request.form()
    values = {
        name: form_text(form, name) for name in ("programme", "funder_label", "funding_status", "amount")
    }
    try:
        amount_cents = parse_euros(values["amount"])
        await record_funding(
            runtime,
            tenant.id,
            proposal_id,
            await _acting(request, actor),
            programme=values["programme"],
            funder_label=values["funder_label"],
            status=values["funding_status"],
            amount_cents=amount_cents,
        )
    except (InvalidInput, Conflict, Forbidden) as error:
        if isinstance(error, InvalidInput):
            error = InvalidInput(
                error.detail,
                [
                    FieldError("funding_status" if e.field == "status" else e.field, e.message)
                    for e in error.errors
                ],
            )
        return await target.failed("funding", values, error)
    return await target.succeeded("financement")


@post(
    "/t/{slug:str}/actions/{proposal_id:uuid}/liens",
    opt=ACT,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def link_create(
    request: HTMXRequest,
    proposal_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template:
    """A link for a recipient without an account; its address is shown this once (never stored)."""
    target = _Form(request, tenant, actor, runtime, proposal_id)
    form = await request.form()
    values = {
        name: form_text(form, name) for name in ("recipient", "recipient_label", "recipient_email", "days")
    }
    try:
        days = values["days"].strip() or str(DEFAULT_DAYS)
        if not days.isdigit():
            raise InvalidInput(
                "durée invalide", [FieldError("days", f"un nombre de jours, de 1 à {MAX_DAYS}")]
            )
        organisation_id = _uuid(values["recipient"]) if values["recipient"] else None
        if values["recipient"] and organisation_id is None:
            raise InvalidInput("lien non créé", [FieldError("recipient", "structure inconnue de l'annuaire")])
        new = await create_link(
            runtime,
            actor,
            proposal_id,
            organisation_id=organisation_id,
            recipient_label=values["recipient_label"],
            recipient_email=values["recipient_email"].strip() or None,
            days=int(days),
        )
    except (InvalidInput, Conflict, Forbidden) as error:
        if isinstance(error, InvalidInput):  # the core names the e-mail field « email »
            error = InvalidInput(
                error.detail,
                [
                    FieldError("recipient_email" if e.field == "email" else e.field, e.message)
                    for e in error.errors
                ],
            )
        return await target.failed("link", values, error)
    url = f"{runtime.settings.base_url}/t/{tenant.slug}/lien/{new.token}"
    # No redirect: the address exists only in this answer (a reload must not show it again).
    return await _detail_page(request, tenant, actor, runtime, proposal_id, new_link_url=url, new_link=new)


@post(
    "/t/{slug:str}/actions/{proposal_id:uuid}/liens/{link_id:uuid}/retrait",
    opt=ACT,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def link_revoke(
    request: HTMXRequest,
    proposal_id: FromPath[uuid.UUID],
    link_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Withdraw a link at once."""
    target = _Form(request, tenant, actor, runtime, proposal_id)
    try:
        await revoke_link(runtime, actor, proposal_id, link_id)
    except (Conflict, Forbidden) as error:
        return await target.failed(f"revoke-{link_id}", {}, error)
    return await target.succeeded("lien-retire")


@post(
    "/t/{slug:str}/actions/{proposal_id:uuid}/commentaires",
    opt=ACT,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def comment_create(
    request: HTMXRequest,
    proposal_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """A message in the proposal's thread (encrypted; the others are told without its text)."""
    target = _Form(request, tenant, actor, runtime, proposal_id)
    form = await request.form()
    values = {"body": form_text(form, "body")}
    try:
        await add_comment(runtime, tenant.id, proposal_id, await _acting(request, actor), values["body"])
    except (InvalidInput, Conflict, Forbidden) as error:
        return await target.failed("comment", values, error)
    return await target.succeeded("commentaire")


@post(
    "/t/{slug:str}/actions/{proposal_id:uuid}/pieces",
    opt=ACT,
    request_max_body_size=UPLOAD_LIMIT,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def attachment_create(
    request: HTMXRequest,
    proposal_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Attach a PDF, PNG or JPEG to the proposal (stored encrypted in the person's file)."""
    target = _Form(request, tenant, actor, runtime, proposal_id)
    form = await request.form()
    values = {"title": form_text(form, "title")}
    upload = form.get("file")
    content = b""
    try:
        detail = await proposal_detail(runtime, actor, proposal_id, await _catalogue(runtime, tenant))
        if not detail.can_act:
            raise Forbidden("seuls les intervenants de cette action peuvent y joindre une pièce")
        if isinstance(upload, UploadFile):
            content = await upload.read(MAX_DOCUMENT_BYTES + 1)
            await upload.close()
            if not values["title"].strip() and upload.filename:
                values["title"] = upload.filename
        await add_document(
            runtime,
            actor,
            detail.row.person_id,
            values["title"],
            content,
            purpose_for(actor.role),
            proposal_id=proposal_id,
        )
    except (InvalidInput, Forbidden) as error:
        return await target.failed("attachment", values, error)
    return await target.succeeded("piece")


ACTIONS_PAGES: list[Any] = [
    inbox_page,
    counters_fragment,
    proposal_page,
    move_proposal,
    reassign_proposal,
    carrier_proposal,
    funding_proposal,
    link_create,
    link_revoke,
    comment_create,
    attachment_create,
]
