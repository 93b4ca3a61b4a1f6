"""Funding requests for the requester (social worker, professional) and the person's own view.

``/t/{slug}/financements`` (``Permission.FUNDING``): my requests and how to start one.
``…/financements/nouvelle?personne=…[&proposition=…][&offre=…]``: the request form — the person's
situation (prefilled from their file), the needs, the quote (an offer of the marketplace covering
the person's commune, or an amount in euros), documents of the file, and the eligibility of every
programme of the territory, computed again on each change (htmx ``POST …/financements/eligibilite``
swaps ``#eligibilite``; without JavaScript, « Recalculer l'éligibilité » posts the whole form). A
routed « demande de financement » already has a draft request: the form then opens it instead.
``…/financements/{id}``: every funder's line (status, deadline, decision, question and answer,
withdrawal, history), the remaining share, adding funders in one click, completing and sending a
draft.

``/t/{slug}/mon-dossier/financements`` (``Permission.PORTAL``): the person's (or their carer's)
phone-first view of every request: each funder's answer and the remaining share.

Every decision is the core's (``core.financing``): a refused access shows the French « not
allowed » page (403), bad input comes back inline with a 422, never a 500. Responses carry
``Cache-Control: no-store``.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlencode

from litestar import get, post
from litestar.datastructures import CacheControlHeader, FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template

from core import locale
from core.access.policy import Actor, Permission
from core.consent.access import check
from core.consent.model import Action, DataCategory, Purpose
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Conflict, DomainError, FieldError, Forbidden, InvalidInput, NotFound
from core.financing.lines import REQUESTER_MOVES, STATUS_LABELS, LineMove, LineStatus
from core.financing.registry import TerritoryFunders, territory_funders
from core.financing.requests import (
    RequestInput,
    add_programmes,
    complete_draft,
    create_request,
    move_line,
    require_funding,
    situation_from_file,
    submit,
)
from core.financing.situation import Situation
from core.financing.views import RequestView, request_view, requests_by_me, requests_of_person
from core.funders import VERDICT_LABELS
from core.identity.roles import ROLE_LABELS, Role
from core.marketplace.public import public_offer
from core.marketplace.search import OfferHit, search_offers
from core.records.file import DOCUMENT_TITLE_FIELD
from core.records.portal import OWN_FILE, choose_person
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import current_session, requires
from web.money import parse_euros
from web.pages.forms import done, field_errors, form_text, form_texts
from web.pages.funding_form import (
    FIELDS,
    GIR_CHOICES,
    HOUSEHOLDS,
    INCOME_CHOICES,
    PENSION_CHOICES,
    assess_all,
    checked_programmes,
    parse_situation,
    read_values,
    reference_quote,
    situation_values,
)
from web.pages.nav import navigation

FUNDING = requires(Permission.FUNDING).opt()
PORTAL = requires(Permission.PORTAL).opt()
NO_STORE = CacheControlHeader(no_store=True)
CORE_FIELDS = {"quote": "devis", "amount": "devis", "offer": "offre", "needs": "besoins", "situation": "form"}
"""Fields the core names, as the form names them."""
NOTICES = {
    "envoyee": "La demande a été envoyée à chaque financeur choisi.",
    "brouillon": "Le brouillon est enregistré : complétez-le et envoyez-le quand vous êtes prêt(e).",
    "ajout": "Les financeurs ajoutés ont reçu la demande.",
    "ajout-brouillon": "Les financeurs sont ajoutés au brouillon : ils la recevront à l'envoi.",
    "reponse": "Votre réponse a été transmise au financeur.",
    "retrait": "La demande a été retirée auprès de ce financeur.",
}
FORM_EXTRA = ("besoins", "devis", "offre")
ACTOR_LABEL = re.compile(r"^([a-z_]+):([0-9a-f-]{36})$")


# ---------------------------------------------------------------- helpers


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value and len(value) <= 36 else None
    except ValueError:
        return None


async def _funders(runtime: Runtime, tenant: TenantRecord) -> TerritoryFunders:
    return await territory_funders(runtime.plugins, tenant.id, tenant.enabled_plugins)


async def _my_label(request: HTMXRequest, actor: Actor) -> str:
    """« Sandrine Castaing, CCAS de Mont-de-Marsan » as the request and its history name the user."""
    session = await current_session(request)
    name = session.account.display_name if session else "utilisateur"
    organisation = None
    if actor.organisation_id is not None and actor.tenant_id is not None:
        async with tenant_scope(actor.tenant_id):
            organisation = await scoped_connection().fetchval(
                "SELECT name FROM organisation WHERE id = $1", actor.organisation_id
            )
    return f"{name}, {organisation}" if organisation else name


def _request_url(tenant: TenantRecord, request_id: uuid.UUID, notice: str = "") -> str:
    url = f"/t/{tenant.slug}/financements/{request_id}"
    return url + (f"?fait={notice}" if notice else "")


async def _refused(request: HTMXRequest, tenant: TenantRecord, error: Forbidden) -> Template:
    return Template(
        "funding/refused.html",
        context={"tenant": tenant, "detail": error.detail, **await navigation(request, tenant)},
        status_code=403,
    )


def _status(error: DomainError) -> int:
    return 409 if isinstance(error, Conflict) else 422


def _errors(error: DomainError) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, message in field_errors(error).items():
        found.setdefault(CORE_FIELDS.get(name, name), message)
    return found


def _choices_context() -> dict[str, Any]:
    return {
        "pension_choices": PENSION_CHOICES,
        "income_choices": INCOME_CHOICES,
        "gir_choices": GIR_CHOICES,
        "households": [(code, label) for code, (label, _h, _alone) in HOUSEHOLDS.items()],
        "fields": FIELDS,
    }


async def offers_of_commune(tenant: TenantRecord, commune: str | None) -> list[OfferHit]:
    """The published offers covering ``commune`` (the first 100), for the quote's select."""
    if not commune:
        return []
    hits: list[OfferHit] = []
    for page in range(1, 6):
        results = await search_offers(tenant.id, commune=commune, page=page)
        hits += results.hits
        if page >= results.pages:
            break
    return hits


async def _existing_request(tenant: TenantRecord, proposal_id: uuid.UUID | None) -> uuid.UUID | None:
    """The request a routed proposal already has (its draft, or the request sent since)."""
    if proposal_id is None:
        return None
    async with tenant_scope(tenant.id):
        found: uuid.UUID | None = await scoped_connection().fetchval(
            "SELECT id FROM funding_request WHERE proposal_id = $1", proposal_id
        )
    return found


async def _person_label(runtime: Runtime, actor: Actor, person_id: uuid.UUID) -> str:
    """The person's name and age when consent lets the user read their identity to instruct a funding."""
    decision = await check(
        runtime,
        actor,
        person_id,
        DataCategory.ADMINISTRATIVE,
        Action.READ,
        Purpose.FUNDING_INSTRUCTION,
        access="funding",
    )
    if not decision.allowed:
        return "la personne (identité non accessible sans son consentement)"
    assert actor.tenant_id is not None
    async with tenant_scope(actor.tenant_id):
        row = await scoped_connection().fetchrow(
            "SELECT given_names, family_name FROM person WHERE id = $1", person_id
        )
    return f"{row['given_names']} {row['family_name']}" if row else "la personne"


async def _documents(
    runtime: Runtime, actor: Actor, person_id: uuid.UUID
) -> list[tuple[uuid.UUID, str]] | None:
    """(id, title) of the documents of the file, or None when consent does not allow reading them."""
    decision = await check(
        runtime,
        actor,
        person_id,
        DataCategory.DOCUMENTS,
        Action.READ,
        Purpose.FUNDING_INSTRUCTION,
        access="funding",
    )
    if not decision.allowed:
        return None
    assert actor.tenant_id is not None
    async with tenant_scope(actor.tenant_id):
        cipher = await runtime.vault.person_cipher(person_id)
        rows = await scoped_connection().fetch(
            "SELECT id, title_ciphertext FROM person_document WHERE person_id = $1 "
            "AND content_ciphertext IS NOT NULL ORDER BY created_at DESC",
            person_id,
        )
    return [
        (row["id"], cipher.decrypt_text(DOCUMENT_TITLE_FIELD, bytes(row["title_ciphertext"]))) for row in rows
    ]


def _form_values(form: FormMultiDict) -> dict[str, str]:
    values = read_values(form)
    for name in FORM_EXTRA:
        values[name] = form_text(form, name).strip()[: 4000 if name == "besoins" else 40]
    return values


def _quote(values: dict[str, str], errors: list[FieldError]) -> int | None:
    try:
        return parse_euros(values["devis"])
    except InvalidInput as wrong:
        errors.append(FieldError("devis", wrong.errors[0].message if wrong.errors else wrong.detail))
        return None


async def _quote_and_offer(
    tenant: TenantRecord, values: dict[str, str], errors: list[FieldError]
) -> tuple[int | None, uuid.UUID | None]:
    """The quote in cents (typed, else the chosen offer's price for its reference quantity) and the
    offer chosen; wrong answers are added to ``errors``."""
    quote = _quote(values, errors)
    offer_id = _uuid(values["offre"])
    if values["offre"] and offer_id is None:
        errors.append(FieldError("offre", "offre inconnue dans ce territoire"))
    if offer_id is not None:
        offer = await public_offer(tenant.id, offer_id)
        if offer is None:
            errors.append(FieldError("offre", "offre inconnue dans ce territoire"))
            offer_id = None
        elif quote is None:
            reference = reference_quote(offer.price_cents, offer.price_unit)
            quote = reference[0] if reference else None
    return quote, offer_id


# ---------------------------------------------------------------- my requests


@get("/t/{slug:str}/financements", opt=FUNDING, include_in_schema=False, cache_control=NO_STORE)
async def funding_home(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template:
    """« Financements »: the requests I made, newest first, and how to start one."""
    funders = await _funders(runtime, tenant)
    mine = await requests_by_me(runtime, actor, funders)
    context = {
        "tenant": tenant,
        "requests": mine,
        "programmes": [(funder.verbose_name, programme) for funder, programme in funders.programmes()],
        **await navigation(request, tenant),
    }
    return Template("funding/index.html", context=context)


# ---------------------------------------------------------------- a new request


async def _form_page(
    request: HTMXRequest,
    tenant: TenantRecord,
    actor: Actor,
    runtime: Runtime,
    person_id: uuid.UUID,
    proposal_id: uuid.UUID | None,
    *,
    values: dict[str, str] | None = None,
    chosen: list[str] | None = None,
    previously_eligible: list[str] | None = None,
    documents_chosen: list[str] | None = None,
    error: DomainError | None = None,
    offer: uuid.UUID | None = None,
) -> Template:
    try:
        await require_funding(runtime, actor, person_id, Action.READ)
    except Forbidden as refused:
        return await _refused(request, tenant, refused)
    assert actor.tenant_id is not None
    today = locale.paris_day(runtime.clock())
    if values is None:
        async with tenant_scope(actor.tenant_id):
            known = await situation_from_file(person_id, today)
        values = {**situation_values(known), "besoins": "", "devis": "", "offre": str(offer or "")}
    errors = _errors(error) if error else {}
    funders = await _funders(runtime, tenant)
    try:
        situation = parse_situation(values, tenant.departements)
    except InvalidInput:
        situation = Situation()
    quote, _offer = await _quote_and_offer(tenant, values, [])
    answers = await assess_all(funders, situation, quote)
    commune = situation.commune_insee
    context = {
        "tenant": tenant,
        "person_id": person_id,
        "person_label": await _person_label(runtime, actor, person_id),
        "proposal_id": proposal_id or "",
        "values": values,
        "errors": errors,
        "answers": answers,
        "checked": checked_programmes(answers, chosen, previously_eligible),
        "offers": await offers_of_commune(tenant, commune),
        "commune": commune,
        "documents": await _documents(runtime, actor, person_id),
        "documents_chosen": set(documents_chosen or ()),
        "action_url": f"/t/{tenant.slug}/financements/nouvelle",
        "eligibility_url": f"/t/{tenant.slug}/financements/eligibilite",
        **_choices_context(),
        **await navigation(request, tenant),
    }
    status = _status(error) if error else 200
    return Template("funding/new.html", context=context, status_code=status)


@get("/t/{slug:str}/financements/nouvelle", opt=FUNDING, include_in_schema=False, cache_control=NO_STORE)
async def new_request_page(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    personne: FromQuery[str | None] = None,
    proposition: FromQuery[str | None] = None,
    offre: FromQuery[str | None] = None,
) -> Template | Redirect:
    """The request form for one person; a proposal that already has its request opens that request."""
    person_id = _uuid(personne)
    if person_id is None:
        raise NotFound("choisissez d'abord la personne (paramètre « personne » manquant ou invalide)")
    proposal_id = _uuid(proposition)
    existing = await _existing_request(tenant, proposal_id)
    if existing is not None:
        return Redirect(_request_url(tenant, existing), status_code=303)
    return await _form_page(request, tenant, actor, runtime, person_id, proposal_id, offer=_uuid(offre))


@post(
    "/t/{slug:str}/financements/eligibilite",
    opt=FUNDING,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def eligibility_fragment(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    runtime: NamedDependency[Runtime],
) -> Template:
    """The eligibility of every programme for the answers as they stand (``#eligibilite``), with the
    fields' messages out of band. Nothing is stored."""
    form = await request.form()
    values = _form_values(form)
    errors: dict[str, str] = {}
    try:
        situation = parse_situation(values, tenant.departements)
    except InvalidInput as wrong:
        errors = {e.field: e.message for e in wrong.errors}
        situation = Situation()
    quote_errors: list[FieldError] = []
    quote, _offer = await _quote_and_offer(tenant, values, quote_errors)
    errors.update({e.field: e.message for e in quote_errors})
    answers = await assess_all(await _funders(runtime, tenant), situation, quote)
    context = {
        "tenant": tenant,
        "answers": answers,
        "checked": checked_programmes(answers, form_texts(form, "programmes"), form_texts(form, "eligibles")),
        "errors": errors,
        "exclude": (),
        "checkable": form_text(form, "mode") != "voir",
        "oob": True,
        **_choices_context(),
    }
    return Template("funding/_eligibility.html", context=context, status_code=422 if errors else 200)


@post(
    "/t/{slug:str}/financements/nouvelle",
    opt=FUNDING,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def new_request_create(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Create the request, then send it (« Envoyer ») or keep it as a draft; « Recalculer » only
    shows the eligibility again (no JavaScript)."""
    form = await request.form()
    person_id = _uuid(form_text(form, "personne"))
    if person_id is None:
        raise NotFound("personne inconnue")
    proposal_id = _uuid(form_text(form, "proposition"))
    existing = await _existing_request(tenant, proposal_id)
    if existing is not None:
        return done(request, _request_url(tenant, existing))
    values = _form_values(form)
    chosen = form_texts(form, "programmes")
    documents = form_texts(form, "documents")
    again: dict[str, Any] = {
        "values": values,
        "chosen": chosen,
        "previously_eligible": form_texts(form, "eligibles"),
        "documents_chosen": documents,
    }
    action = form_text(form, "action")
    if action == "recalculer":
        return await _form_page(request, tenant, actor, runtime, person_id, proposal_id, **again)
    funders = await _funders(runtime, tenant)
    errors: list[FieldError] = []
    situation = Situation()
    try:
        situation = parse_situation(values, tenant.departements)
    except InvalidInput as wrong:
        errors += wrong.errors
    quote, offer_id = await _quote_and_offer(tenant, values, errors)
    unknown = [code for code in chosen if funders.find(code) is None]
    if unknown:
        errors.append(FieldError("programmes", f"programme non proposé ici : {unknown[0][:60]}"))
    elif not chosen:
        errors.append(FieldError("programmes", "choisissez au moins un financeur"))
    document_ids = [_uuid(value) for value in documents]
    if any(found is None for found in document_ids):
        errors.append(FieldError("documents", "document absent du dossier"))
    try:
        if errors:
            raise InvalidInput("demande à corriger", errors)
        request_id = await create_request(
            runtime,
            actor,
            await _my_label(request, actor),
            person_id,
            RequestInput(
                programmes=tuple(chosen),
                situation=situation,
                needs=values["besoins"],
                offer_id=offer_id,
                quote_cents=quote,
                document_ids=tuple(found for found in document_ids if found is not None),
                proposal_id=proposal_id,
            ),
            funders,
        )
    except (InvalidInput, Conflict) as error:
        return await _form_page(request, tenant, actor, runtime, person_id, proposal_id, error=error, **again)
    except Forbidden as refused:
        return await _refused(request, tenant, refused)
    if action != "envoyer":
        return done(request, _request_url(tenant, request_id, "brouillon"))
    try:
        await submit(runtime, actor, request_id, funders)
    except (InvalidInput, Conflict) as error:
        return await _detail_page(request, tenant, actor, runtime, request_id, error=error, failed="envoi")
    except Forbidden as refused:
        return await _refused(request, tenant, refused)
    return done(request, _request_url(tenant, request_id, "envoyee"))


# ---------------------------------------------------------------- one request


async def _actor_names(tenant: TenantRecord, view: RequestView) -> dict[str, str]:
    """History labels the core wrote as « role:user-id », as « Name (role) »."""
    found: dict[str, tuple[str, uuid.UUID]] = {}
    for line in view.lines:
        for event in line.history:
            match = ACTOR_LABEL.match(event.actor_label)
            if match and _uuid(match[2]):
                found[event.actor_label] = (match[1], uuid.UUID(match[2]))
    if not found:
        return {}
    async with tenant_scope(tenant.id):
        rows = await scoped_connection().fetch(
            "SELECT id, display_name FROM user_account WHERE id = ANY($1::uuid[])",
            [user for _role, user in found.values()],
        )
    names = {row["id"]: row["display_name"] for row in rows}
    labels = {}
    for label, (role, user) in found.items():
        try:
            role_label = ROLE_LABELS[Role(role)]
        except ValueError:
            role_label = role
        labels[label] = f"{names.get(user) or 'utilisateur'} ({role_label.lower()})"
    return labels


async def _detail_page(
    request: HTMXRequest,
    tenant: TenantRecord,
    actor: Actor,
    runtime: Runtime,
    request_id: uuid.UUID,
    *,
    notice: str = "",
    error: DomainError | None = None,
    failed: str = "",
    values: dict[str, str] | None = None,
) -> Template:
    funders = await _funders(runtime, tenant)
    try:
        view = await request_view(runtime, actor, request_id, funders)
    except Forbidden as refused:
        return await _refused(request, tenant, refused)
    assert actor.tenant_id is not None
    on_request = {line.programme for line in view.lines}
    situation = view.situation or Situation()
    answers = await assess_all(funders, situation, view.quote_cents)
    if values is None:
        if view.situation is None:
            async with tenant_scope(actor.tenant_id):
                situation = await situation_from_file(view.person_id, locale.paris_day(runtime.clock()))
        values = {
            **situation_values(situation),
            "besoins": view.needs or "",
            "devis": "" if view.quote_cents is None else f"{view.quote_cents / 100:.2f}".replace(".", ","),
            "offre": "",
        }
    context = {
        "tenant": tenant,
        "view": view,
        "answers": answers,
        "others": [a for a in answers if a.code not in on_request],
        "others_checked": {a.code for a in answers if a.code not in on_request and a.eligible},
        "checked": set(),
        "verdict_labels": VERDICT_LABELS,
        "status_labels": {status.value: label for status, label in STATUS_LABELS.items()},
        "exclude": on_request,
        "withdrawable": {
            line.id for line in view.lines if LineStatus.WITHDRAWN in REQUESTER_MOVES.get(line.status, ())
        },
        "names": await _actor_names(tenant, view),
        "notice": notice,
        "errors": _errors(error) if error else {},
        "failed": failed,
        "values": values,
        "here": _request_url(tenant, request_id),
        "eligibility_url": f"/t/{tenant.slug}/financements/eligibilite",
        "is_draft": view.status == "draft",
        "has_draft_lines": any(line.status is LineStatus.DRAFT for line in view.lines),
        **_choices_context(),
        **await navigation(request, tenant),
    }
    status = _status(error) if error else 200
    return Template("funding/request.html", context=context, status_code=status)


@get(
    "/t/{slug:str}/financements/{request_id:uuid}",
    opt=FUNDING,
    include_in_schema=False,
    cache_control=NO_STORE,
)
async def request_page(
    request: HTMXRequest,
    request_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    fait: FromQuery[str | None] = None,
) -> Template:
    """The request: each funder's line and answer, the remaining share, adding funders."""
    notice = NOTICES.get(fait or "", "")
    return await _detail_page(request, tenant, actor, runtime, request_id, notice=notice)


@post(
    "/t/{slug:str}/financements/{request_id:uuid}/financeurs",
    opt=FUNDING,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def add_funders(
    request: HTMXRequest,
    request_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """« Ajouter des financeurs »: the ticked programmes in one click (sent at once if the request was)."""
    form = await request.form()
    funders = await _funders(runtime, tenant)
    try:
        await add_programmes(runtime, actor, request_id, tuple(form_texts(form, "programmes")), funders)
        view = await request_view(runtime, actor, request_id, funders)
    except (InvalidInput, Conflict) as error:
        return await _detail_page(request, tenant, actor, runtime, request_id, error=error, failed="ajout")
    except Forbidden as refused:
        return await _refused(request, tenant, refused)
    notice = "ajout-brouillon" if view.status == "draft" else "ajout"
    return done(request, _request_url(tenant, request_id, notice) + "#financeurs")


@post(
    "/t/{slug:str}/financements/{request_id:uuid}/envoi",
    opt=FUNDING,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def send_draft(
    request: HTMXRequest,
    request_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """« Compléter et envoyer »: store the situation, needs and quote of a draft, then send it."""
    form = await request.form()
    values = _form_values(form)
    funders = await _funders(runtime, tenant)
    errors: list[FieldError] = []
    situation = Situation()
    try:
        situation = parse_situation(values, tenant.departements)
    except InvalidInput as wrong:
        errors += wrong.errors
    quote = _quote(values, errors)
    try:
        if errors:
            raise InvalidInput("demande à corriger", errors)
        await complete_draft(runtime, actor, request_id, situation, values["besoins"], quote)
        if form_text(form, "action") == "brouillon":
            return done(request, _request_url(tenant, request_id, "brouillon"))
        await submit(runtime, actor, request_id, funders)
    except (InvalidInput, Conflict) as error:
        return await _detail_page(
            request, tenant, actor, runtime, request_id, error=error, failed="envoi", values=values
        )
    except Forbidden as refused:
        return await _refused(request, tenant, refused)
    return done(request, _request_url(tenant, request_id, "envoyee"))


def _version(form: FormMultiDict) -> int | None:
    text = form_text(form, "version")
    return int(text) if text.isdigit() and len(text) < 10 else None


@post(
    "/t/{slug:str}/financements/{request_id:uuid}/lignes/{line_id:uuid}/{move:str}",
    opt=FUNDING,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def line_move(
    request: HTMXRequest,
    request_id: FromPath[uuid.UUID],
    line_id: FromPath[uuid.UUID],
    move: FromPath[str],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Answer a funder's question (``reponse``) or withdraw the request from it (``retrait``)."""
    targets = {"reponse": LineStatus.UNDER_REVIEW, "retrait": LineStatus.WITHDRAWN}
    if move not in targets:
        raise NotFound("action inconnue")
    form = await request.form()
    note = form_text(form, "note")[:5000]
    funders = await _funders(runtime, tenant)
    try:
        view = await request_view(runtime, actor, request_id, funders)
        if all(line.id != line_id for line in view.lines):
            raise NotFound("demande de financement inconnue")
        if move == "reponse" and len(note.strip()) < 2:
            raise InvalidInput("réponse vide", [FieldError("note", "écrivez votre réponse au financeur")])
        await move_line(
            runtime,
            actor,
            await _my_label(request, actor),
            line_id,
            LineMove(targets[move], note=note, expected_version=_version(form)),
            funders,
        )
    except (InvalidInput, Conflict) as error:
        return await _detail_page(
            request, tenant, actor, runtime, request_id, error=error, failed=f"{move}-{line_id}"
        )
    except Forbidden as refused:
        return await _refused(request, tenant, refused)
    return done(request, _request_url(tenant, request_id, move) + f"#ligne-{line_id}")


# ---------------------------------------------------------------- the person's view


async def _portal_context(
    request: HTMXRequest, tenant: TenantRecord, actor: Actor, personne: str | None
) -> dict[str, Any]:
    subject, people = await choose_person(actor, personne)
    return {
        **await navigation(request, tenant),
        "tenant": tenant,
        "subject": subject,
        "people": people,
        "own_file": subject.relation == OWN_FILE,
        "page": "funding",
        "portal": f"/t/{tenant.slug}/mon-dossier",
        "who": urlencode({"personne": str(subject.id)}),
        "error": None,
    }


@get("/t/{slug:str}/mon-dossier/financements", opt=PORTAL, include_in_schema=False, cache_control=NO_STORE)
async def my_funding(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    personne: FromQuery[str | None] = None,
) -> Template:
    """« Mes financements »: each request, each funder's answer and what remains to pay."""
    context = await _portal_context(request, tenant, actor, personne)
    funders = await _funders(runtime, tenant)
    try:
        summaries = await requests_of_person(runtime, actor, context["subject"].id, funders)
        views = [await request_view(runtime, actor, summary.id, funders) for summary in summaries]
    except Forbidden as refused:
        context["error"] = f"Vos demandes de financement ne vous sont pas accessibles : {refused.detail}."
        views = []
    return Template("funding/portal.html", context={**context, "views": views, "single": False})


@get(
    "/t/{slug:str}/mon-dossier/financements/{request_id:uuid}",
    opt=PORTAL,
    include_in_schema=False,
    cache_control=NO_STORE,
)
async def my_funding_request(
    request: HTMXRequest,
    request_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template:
    """One request in the person's view; another person's request is unknown (404)."""
    funders = await _funders(runtime, tenant)
    try:
        view = await request_view(runtime, actor, request_id, funders)
    except Forbidden:
        raise NotFound("demande de financement inconnue") from None
    context = await _portal_context(request, tenant, actor, str(view.person_id))
    return Template("funding/portal.html", context={**context, "views": [view], "single": True})


FUNDING_PAGES: list[Any] = [
    funding_home,
    new_request_page,
    eligibility_fragment,
    new_request_create,
    request_page,
    add_funders,
    send_draft,
    line_move,
    my_funding,
    my_funding_request,
]
