"""The funder's console: the queue of its requests, one request, decisions, exports; and the
territory's settings of its funders (« Financements », for its administrators).

Every rule is the core's (``core.financing``): these handlers read forms, call one service and
render. An agent of a funder only ever sees its own organisation's lines (another's is
« introuvable », 404), and of the person only the categories the programme needs and consent
allows — never medical data; a refused category is said in French with the reason.

Decision forms answer htmx with the line's fragment (``#funder-line``) and plain browsers with a
303 to the line (``forms.done``); inline errors come back with 422, someone faster (an outdated
version) with the core's « Impossible : … » message and 409. Every response carries
``Cache-Control: no-store``; each export leaves a ``funding.export`` audit entry.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Response, get, post
from litestar.datastructures import CacheControlHeader, FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template

from core import locale
from core.access.policy import Actor, Permission
from core.consent.access import AccessDenied, audit_actor
from core.consent.model import CATEGORY_LABELS, DataCategory
from core.errors import Conflict, DomainError, FieldError, Forbidden, InvalidInput
from core.financing import console
from core.financing.lines import (
    FUNDER_MOVES,
    REFUSAL_REASONS,
    STATUS_LABELS,
    LineMove,
    LineStatus,
    check_move,
)
from core.financing.parameters import Parameter, Unit
from core.financing.registry import TerritoryFunders, territory_funders
from core.financing.requests import move_line
from core.financing.settings import load_settings, set_organisation, set_parameters
from core.financing.views import QUEUE_FILTERS, FunderLineView, funder_line, funder_queue
from core.followup.record import day_bounds
from core.funders import VERDICT_LABELS, BaseFunder
from core.identity.directory import list_organisations
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import current_session, requires
from web.money import format_euros, parse_euros
from web.pages.forms import done, field_errors, form_text, is_fragment
from web.pages.nav import navigation

DECIDE = requires(Permission.FUNDING_DECIDE).opt()
ADMIN = requires(Permission.TENANT_ADMIN).opt()
NO_STORE = CacheControlHeader(no_store=True)
LINE_ID = "funder-line"


@dataclass(frozen=True)
class View:
    key: str
    label: str
    empty: str


VIEWS = (
    View("a-traiter", "À traiter", "Aucune demande à traiter."),
    View("en-attente", "En attente du demandeur", "Aucune demande en attente d'informations."),
    View("decidees", "Décidées", "Aucune demande décidée."),
)


@dataclass(frozen=True)
class Decision:
    """One decision form of the line's page: the move, its button and what it asks."""

    key: str
    """The last segment of the form's address (French)."""
    to: LineStatus
    label: str
    fields: tuple[str, ...] = ()
    notice: str = ""


DECISIONS = (
    Decision(
        "instruire", LineStatus.UNDER_REVIEW, "Commencer l'instruction", (), "L'instruction a commencé."
    ),
    Decision(
        "question",
        LineStatus.INFORMATION_REQUESTED,
        "Demander des informations",
        ("note",),
        "Votre question a été envoyée au demandeur.",
    ),
    Decision(
        "accorder",
        LineStatus.APPROVED,
        "Accorder",
        ("amount", "hours", "period_start", "period_end", "conditions", "note"),
        "L'aide est accordée ; le demandeur est prévenu.",
    ),
    Decision(
        "accorder-en-partie",
        LineStatus.PARTIALLY_APPROVED,
        "Accorder en partie",
        ("amount", "hours", "period_start", "period_end", "conditions", "note"),
        "L'aide est accordée en partie ; le demandeur est prévenu.",
    ),
    Decision(
        "refuser",
        LineStatus.REFUSED,
        "Refuser",
        ("reason_code", "note"),
        "Le refus est enregistré ; le demandeur est prévenu.",
    ),
    Decision("versee", LineStatus.PAID, "Marquer comme versée", (), "L'aide est marquée comme versée."),
)
BY_KEY = {decision.key: decision for decision in DECISIONS}
EVENT_KINDS = {
    "status": "Statut",
    "question": "Question au demandeur",
    "answer": "Réponse du demandeur",
    "reminder": "Relance",
}


# ---------------------------------------------------------------- helpers


async def _funders(runtime: Runtime, tenant: TenantRecord) -> TerritoryFunders:
    return await territory_funders(runtime.plugins, tenant.id, tenant.enabled_plugins)


async def _label(request: HTMXRequest, actor: Actor) -> str:
    """The agent as history lines name them: « Fanny Dufau, CARSAT Aquitaine … »."""
    session = await current_session(request)
    name = session.account.display_name if session else "agent"
    organisation = ""
    if actor.organisation_id is not None and actor.tenant_id is not None:
        organisation = next(
            (o.name for o in await list_organisations(actor.tenant_id) if o.id == actor.organisation_id), ""
        )
    return f"{name}, {organisation}" if organisation else name


def _line_url(tenant: TenantRecord, line_id: uuid.UUID, done_what: str = "") -> str:
    return f"/t/{tenant.slug}/financeur/demandes/{line_id}" + (f"?fait={done_what}" if done_what else "")


def _date(value: str, field: str, errors: list[FieldError]) -> dt.date | None:
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        errors.append(FieldError(field, "date au format AAAA-MM-JJ"))
        return None


def parse_move(decision: Decision, values: dict[str, str], version: int | None) -> LineMove:
    """The form's strings as a :class:`LineMove`; ``InvalidInput`` naming each field the page reads
    itself (amount, hours, dates) — the core checks the rest (:func:`core.financing.lines.check_move`)."""
    errors: list[FieldError] = []
    amount = None
    if "amount" in decision.fields:
        try:
            amount = parse_euros(values.get("amount", ""))
        except InvalidInput as wrong:
            errors += wrong.errors
    hours = None
    text = values.get("hours", "").strip()
    if text:
        if not text.isdigit() or len(text) > 5:
            errors.append(FieldError("hours", "un nombre entier d'heures, ou rien"))
        else:
            hours = int(text)
    start = _date(values.get("period_start", ""), "period_start", errors)
    end = _date(values.get("period_end", ""), "period_end", errors)
    move = LineMove(
        to=decision.to,
        amount_cents=amount,
        hours=hours,
        period_start=start,
        period_end=end,
        conditions=values.get("conditions", "")[:5000],
        reason_code=values.get("reason_code") or None,
        note=values.get("note", "")[:5000],
        expected_version=version,
    )
    if errors:
        # The core's own checks too, so every wrong field is said at once.
        try:
            check_move(move)
        except InvalidInput as refused:
            known = {e.field for e in errors}
            errors += [e for e in refused.errors if e.field not in known]
        raise InvalidInput("décision incomplète", errors)
    return move


def _version(form: FormMultiDict) -> int | None:
    value = form_text(form, "version")
    return int(value) if value.isdigit() else None


def refused_words(view: FunderLineView) -> list[tuple[str, str]]:
    """« Données sociales : non transmises (consentement requis) », with the decision point's reason."""
    return [
        (
            f"{CATEGORY_LABELS[category][:1].upper()}{CATEGORY_LABELS[category][1:]} : "
            "non transmises (consentement requis)",
            reason,
        )
        for category, reason in sorted(view.refused.items())
        if category is not DataCategory.MEDICAL
    ]


def _defaults(view: FunderLineView, funders: TerritoryFunders, today: dt.date) -> dict[str, str]:
    """What the grant forms propose: the estimate (or the amount asked), today, the programme's length."""
    amount = view.line.requested_cents
    if view.assessment is not None and view.assessment.estimate is not None:
        amount = view.assessment.estimate.amount_cents
    found = funders.find(view.line.programme)
    months = found[1].period_months if found else None
    end = ""
    if months:
        year, month = divmod(today.month - 1 + months, 12)
        end_day = dt.date(today.year + year, month + 1, 1) - dt.timedelta(days=1)
        end = max(end_day, today).isoformat()
    return {"amount": format_euros(amount), "period_start": today.isoformat(), "period_end": end}


async def _line_page(
    request: HTMXRequest,
    tenant: TenantRecord,
    actor: Actor,
    runtime: Runtime,
    line_id: uuid.UUID,
    *,
    notice: str = "",
    failed: str = "",
    values: dict[str, str] | None = None,
    error: DomainError | None = None,
    status: int | None = None,
) -> Template:
    funders = await _funders(runtime, tenant)
    view = await funder_line(runtime, actor, line_id, funders)
    allowed = FUNDER_MOVES.get(view.line.status, frozenset())
    today = locale.paris_day(runtime.clock())
    context: dict[str, Any] = {
        "tenant": tenant,
        "view": view,
        "line": view.line,
        "here": _line_url(tenant, line_id),
        "decisions": [d for d in DECISIONS if d.to in allowed],
        "refused": refused_words(view),
        "verdict_labels": VERDICT_LABELS,
        "status_labels": {s.value: label for s, label in STATUS_LABELS.items()},
        "event_kinds": EVENT_KINDS,
        "reasons": list(REFUSAL_REASONS.items()),
        "defaults": _defaults(view, funders, today),
        "notice": notice,
        "failed": failed,
        "values": values or {},
        "errors": field_errors(error) if error is not None else {},
        "line_id": LINE_ID,
        **await navigation(request, tenant),
    }
    code = status or (error.status if error is not None else 200)
    name = "funder/_line.html" if is_fragment(request) else "funder/line.html"
    return Template(name, context=context, status_code=code)


# ---------------------------------------------------------------- the queue


@get("/t/{slug:str}/financeur", opt=DECIDE, include_in_schema=False, cache_control=NO_STORE)
async def funder_queue_page(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    vue: FromQuery[str | None] = None,
) -> Template:
    """« Demandes à instruire »: the organisation's lines of one view, soonest deadline first."""
    show = vue if vue in QUEUE_FILTERS else "a-traiter"
    items = await funder_queue(runtime, actor, await _funders(runtime, tenant), show)
    counts = await console.queue_counts(actor, QUEUE_FILTERS)
    view = next(v for v in VIEWS if v.key == show)
    return Template(
        "funder/queue.html",
        context={
            "tenant": tenant,
            "items": items,
            "views": VIEWS,
            "view": view,
            "counts": counts,
            "base": f"/t/{tenant.slug}/financeur",
            "statuses": [(s.value, label) for s, label in STATUS_LABELS.items() if s is not LineStatus.DRAFT],
            **await navigation(request, tenant),
        },
    )


# ---------------------------------------------------------------- one line and its decisions


@get(
    "/t/{slug:str}/financeur/demandes/{line_id:uuid}",
    opt=DECIDE,
    include_in_schema=False,
    cache_control=NO_STORE,
)
async def funder_line_page(
    request: HTMXRequest,
    line_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    fait: FromQuery[str | None] = None,
) -> Template:
    """The request as the agent may see it, the programme's eligibility, its history, the decisions."""
    decision = BY_KEY.get(fait or "")
    return await _line_page(
        request, tenant, actor, runtime, line_id, notice=decision.notice if decision else ""
    )


@post(
    "/t/{slug:str}/financeur/demandes/{line_id:uuid}/{what:str}",
    opt=DECIDE,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def funder_decide(
    request: HTMXRequest,
    line_id: FromPath[uuid.UUID],
    what: FromPath[str],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """One decision; the line again with inline errors (422) or the core's conflict (409)."""
    decision = BY_KEY.get(what)
    if decision is None:
        return await _line_page(
            request, tenant, actor, runtime, line_id, error=Conflict("décision inconnue"), status=409
        )
    form = await request.form()
    values = {name: form_text(form, name) for name in decision.fields}
    try:
        move = parse_move(decision, values, _version(form))
        await move_line(
            runtime, actor, await _label(request, actor), line_id, move, await _funders(runtime, tenant)
        )
    except (InvalidInput, Conflict) as error:
        return await _line_page(
            request, tenant, actor, runtime, line_id, failed=decision.key, values=values, error=error
        )
    except Forbidden as error:
        if isinstance(error, AccessDenied):
            raise
        # « Impossible depuis le statut … »: the page was outdated; said on the line as a conflict.
        return await _line_page(
            request,
            tenant,
            actor,
            runtime,
            line_id,
            failed=decision.key,
            values=values,
            error=error,
            status=409,
        )
    if is_fragment(request):
        return await _line_page(request, tenant, actor, runtime, line_id, notice=decision.notice)
    return done(request, _line_url(tenant, line_id, decision.key))


# ---------------------------------------------------------------- exports


def _day(value: str | None, field: str) -> dt.date | None:
    errors: list[FieldError] = []
    found = _date(value or "", field, errors)
    if errors:
        raise InvalidInput("date invalide", errors)
    return found


async def _export(
    tenant: TenantRecord,
    actor: Actor,
    runtime: Runtime,
    statut: str | None,
    du: str | None,
    au: str | None,
    export_format: str,
) -> Response[bytes]:
    status = statut if statut in {s.value for s in LineStatus} - {LineStatus.DRAFT.value} else None
    since, until = _day(du, "du"), _day(au, "au")
    if since is not None and until is not None and until < since:
        raise InvalidInput("période invalide", [FieldError("au", "la fin précède le début de la période")])
    start, end = day_bounds(since, until)
    rows = await console.export_rows(
        runtime, actor, await _funders(runtime, tenant), status=status, since=start, until=end
    )
    assert actor.organisation_id is not None
    await console.audit_export(
        tenant.id,
        audit_actor(actor),
        actor.organisation_id,
        export_format=export_format,
        rows=rows,
        status=status,
        since=start,
        until=end,
        via="page",
    )
    if export_format == "csv":
        content, media_type = console.rows_csv(rows), "text/csv; charset=utf-8"
    else:
        content, media_type = console.rows_json(rows, start, end), "application/json"
    name = console.file_name(tenant.slug, export_format, runtime.clock())
    return Response(
        content=content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@get("/t/{slug:str}/financeur/export.csv", opt=DECIDE, include_in_schema=False, cache_control=NO_STORE)
async def funder_export_csv(
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    statut: FromQuery[str | None] = None,
    du: FromQuery[str | None] = None,
    au: FromQuery[str | None] = None,
) -> Response[bytes]:
    """The organisation's lines for its own system, as a French spreadsheet (« ; », BOM)."""
    return await _export(tenant, actor, runtime, statut, du, au, "csv")


@get("/t/{slug:str}/financeur/export.json", opt=DECIDE, include_in_schema=False, cache_control=NO_STORE)
async def funder_export_json(
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    statut: FromQuery[str | None] = None,
    du: FromQuery[str | None] = None,
    au: FromQuery[str | None] = None,
) -> Response[bytes]:
    """The same rows as JSON (amounts in cents)."""
    return await _export(tenant, actor, runtime, statut, du, au, "json")


# ---------------------------------------------------------------- the territory's settings

INSTRUCTING_KINDS = ("funder", "ccas")
OLD_AFTER = dt.timedelta(days=365)


@dataclass(frozen=True)
class ParameterRow:
    parameter: Parameter
    field: str
    """The form field's name: ``<programme>.<key>``."""
    current: str
    default: str
    overridden: bool
    old: bool
    """The default's source is more than a year old: to check."""
    value: str
    """The input's value: the current one, as typed."""


def _typed(parameter: Parameter, value: Any) -> str:
    """A parameter's value as its input shows it (euros French style, a number, communes)."""
    if parameter.unit is Unit.CENTS and isinstance(value, int):
        return format_euros(value)
    if isinstance(value, tuple):
        return " ".join(value)
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value)


def _raw(parameter: Parameter, text: str) -> Any:
    """The input's text for :meth:`Parameter.parse`; ``ValueError`` in French when unreadable."""
    text = text.strip()
    if parameter.unit is Unit.COMMUNES:
        return text
    if parameter.unit is Unit.FLAG:
        if text.lower() in ("oui", "true", "1"):
            return True
        if text.lower() in ("non", "false", "0"):
            return False
        raise ValueError("oui ou non attendu")
    if parameter.unit is Unit.CENTS:
        try:
            cents = parse_euros(text)
        except InvalidInput as wrong:
            raise ValueError(wrong.errors[0].message) from wrong
        if cents is None:
            raise ValueError("indiquez un montant")
        return cents
    if not text.isdigit() or len(text) > 9:
        raise ValueError("nombre entier attendu")
    return int(text)


def _rows(funder: BaseFunder, today: dt.date, typed: dict[str, str]) -> list[Any]:
    programmes = []
    for programme in funder.programmes:
        values = funder.values(programme)
        rows = []
        for parameter in programme.parameters:
            name = f"{funder.identifier}.{programme.code}.{parameter.key}"
            rows.append(
                ParameterRow(
                    parameter=parameter,
                    field=name,
                    current=values.show(parameter.key),
                    default=parameter.show(parameter.default),
                    overridden=parameter.key in values.overridden,
                    old=today - parameter.as_of > OLD_AFTER,
                    value=typed.get(name, _typed(parameter, values[parameter.key])),
                )
            )
        programmes.append((programme, rows))
    return programmes


async def _settings_page(
    request: HTMXRequest,
    tenant: TenantRecord,
    runtime: Runtime,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
    status: int = 200,
) -> Template:
    funders = await _funders(runtime, tenant)
    today = locale.paris_day(runtime.clock())
    organisations = [o for o in await list_organisations(tenant.id) if o.kind in INSTRUCTING_KINDS]
    typed = typed or {}
    errors = errors or {}
    items = [
        {
            "funder": funder,
            "organisation": typed.get(f"{funder.identifier}.organisation")
            or str(funders.organisations.get(funder.identifier) or ""),
            "programmes": _rows(funder, today, typed),
        }
        for funder in funders
    ]
    return Template(
        "funder/settings.html",
        context={
            "tenant": tenant,
            "items": items,
            "organisations": organisations,
            "errors": errors,
            "notice": notice,
            "action": f"/t/{tenant.slug}/admin/financements",
            **await navigation(request, tenant),
        },
        status_code=status,
    )


@get("/t/{slug:str}/admin/financements", opt=ADMIN, include_in_schema=False, cache_control=NO_STORE)
async def funding_settings_page(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    runtime: NamedDependency[Runtime],
    fait: FromQuery[str | None] = None,
) -> Template:
    """Which organisation instructs each funder's requests, and the programmes' parameters."""
    notice = (
        "Les réglages des financements sont enregistrés : ils s'appliquent dès maintenant." if fait else ""
    )
    return await _settings_page(request, tenant, runtime, notice=notice)


@post(
    "/t/{slug:str}/admin/financements",
    opt=ADMIN,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def funding_settings_submit(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Save everything or nothing: any wrong value comes back inline (422) and nothing is stored."""
    form = await request.form()
    funders = await _funders(runtime, tenant)
    stored = await load_settings(tenant.id)
    instructing = {o.id for o in await list_organisations(tenant.id) if o.kind in INSTRUCTING_KINDS}
    typed: dict[str, str] = {}
    errors: dict[str, str] = {}
    organisations: dict[str, uuid.UUID] = {}
    changes: list[tuple[BaseFunder, str, dict[str, Any]]] = []
    for funder in funders:
        field = f"{funder.identifier}.organisation"
        chosen = form_text(form, field).strip()
        typed[field] = chosen
        if chosen:
            try:
                organisation_id = uuid.UUID(chosen)
            except ValueError:
                organisation_id = None
            if organisation_id is None or organisation_id not in instructing:
                errors[field] = "choisissez un financeur ou un CCAS du territoire"
            elif organisation_id != funders.organisations.get(funder.identifier):
                organisations[funder.identifier] = organisation_id
        overrides = stored[funder.identifier].overrides if funder.identifier in stored else {}
        for programme in funder.programmes:
            values = funder.values(programme)
            raw: dict[str, Any] = {}
            for parameter in programme.parameters:
                name = f"{funder.identifier}.{programme.code}.{parameter.key}"
                if name not in form:
                    continue
                text = form_text(form, name)
                typed[name] = text
                try:
                    value = parameter.parse(_raw(parameter, text))
                except ValueError as wrong:
                    errors[name] = str(wrong)
                    continue
                if value == parameter.default:
                    if parameter.key in overrides.get(programme.code, {}):
                        raw[parameter.key] = None  # back to the default
                elif value != values[parameter.key]:
                    raw[parameter.key] = list(value) if isinstance(value, tuple) else value
            if raw:
                changes.append((funder, programme.code, raw))
    if errors:
        return await _settings_page(request, tenant, runtime, typed=typed, errors=errors, status=422)
    label = await _label(request, actor)
    who = audit_actor(actor)
    try:
        for funder, code, raw in changes:
            await set_parameters(tenant.id, funder, code, raw, who, label)
    except InvalidInput as refused:  # already checked above: a value the core refuses after all
        found = {f"{funder.identifier}.{code}.{e.field}": e.message for e in refused.errors}
        return await _settings_page(request, tenant, runtime, typed=typed, errors=found, status=422)
    for identifier, organisation_id in organisations.items():
        await set_organisation(tenant.id, identifier, organisation_id, label)
    return done(request, f"/t/{tenant.slug}/admin/financements?fait=1")


FUNDER_PAGES: list[Any] = [
    funder_queue_page,
    funder_line_page,
    funder_decide,
    funder_export_csv,
    funder_export_json,
    funding_settings_page,
    funding_settings_submit,
]
