"""Declaring a life event from a page: a professional from a person's file, the person or a carer
from the portal.

The form is built from the catalogue: a select (professionals) or big radio buttons (portal) of the
types the user may declare (``core.events.declare.declarable_types``), the date and time of the
event (``<input type=datetime-local>``, read as Paris time), then the fields of the chosen type,
read from its msgspec ``details`` structure: a boolean is a yes / no / unknown choice, a ``Literal``
a select, a list of ``Literal`` checkboxes, a date a date input, a string a text input.

Changing the type swaps the details fieldset through htmx (``…/champs?type=…``); without JavaScript,
the « Continuer » button posts the form back and the page comes again with the right fields. The
declaration itself is decided by the core (``declare_for_person``): invalid input comes back inline
(422), a refusal by consent as a page saying why (403; 422 for an htmx fragment, which the app's htmx
configuration would not swap otherwise). Success sends the browser to a confirmation (303, or a
client-side redirect for htmx). Pages carry ``Cache-Control: no-store``: they name a person.
"""

from __future__ import annotations

import datetime as dt
import re
import typing
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import msgspec
import msgspec.inspect as mi
from litestar import get, post
from litestar.datastructures import CacheControlHeader, FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template

from core import locale
from core.access.policy import Actor, Permission
from core.consent.access import AccessDenied, AccessRequest, check_all
from core.consent.model import Action, DataCategory
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import FieldError, Forbidden, InvalidInput
from core.events.catalogue import Catalogue, EventTypeSpec, tenant_catalogue
from core.events.declare import declarable_types, declare_for_person
from core.jobs.system import JobSystem
from core.proposals.queries import purpose_for
from core.records.portal import OWN_FILE, ManagedPerson, choose_person
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import requires
from web.pages.forms import done, form_texts, is_fragment
from web.pages.nav import navigation

FILES = requires(Permission.PERSON_FILES).opt()
PORTAL = requires(Permission.PORTAL).opt()
NO_STORE = CacheControlHeader(no_store=True)
PRO_PATH = "/t/{slug:str}/personnes/{person_id:uuid}/evenements"
PORTAL_PATH = "/t/{slug:str}/mon-dossier/signaler"
DETAIL_PREFIX = "detail_"
"""Form fields of the details are ``detail_<field>`` (``detail_injured``)."""
CONTINUE = "continuer"
SAVED = "Événement enregistré : les actions proposées apparaîtront dans les boîtes des intervenants."

FIELD_LABELS: dict[str, str] = {
    "ward": "Service",
    "establishment_finess": "Numéro FINESS de l'établissement",
    "planned": "Hospitalisation programmée",
    "discharge_summary_available": "Compte rendu de sortie disponible",
    "destination": "Destination à la sortie",
    "admitted": "Hospitalisation à l'issue du passage aux urgences",
    "injured": "La personne s'est blessée",
    "long_lie": "La personne est restée au sol plus d'une heure",
    "remote_alarm": "La personne a déjà une téléassistance",
    "reason": "Raison de l'indisponibilité",
    "expected_until": "Indisponible jusqu'au (si connu)",
    "domains": "Ce que la personne ne parvient plus à faire seule",
    "urgency": "Urgence",
    "subject": "Objet",
    "preferred_date": "Date souhaitée",
    "specialty": "Spécialité",
}
FIELD_HINTS: dict[str, str] = {
    "establishment_finess": "9 chiffres",
    "subject": "Quelques mots, sans détail médical (il peut apparaître dans une notification)",
    "ward": "ex. médecine gériatrique",
}
VALUE_LABELS: dict[str, dict[str, str]] = {
    "destination": {"home": "Domicile", "nursing_home": "Établissement (EHPAD…)", "other": "Autre"},
    "reason": {"illness": "Maladie", "hospitalisation": "Hospitalisation", "other": "Autre raison"},
    "domains": {
        "mobility": "Se déplacer",
        "hygiene": "Faire sa toilette",
        "meals": "Préparer ou prendre ses repas",
        "medication": "Prendre ses médicaments",
        "cognition": "Se repérer, se souvenir",
        "housekeeping": "Entretenir le logement",
    },
    "urgency": {"routine": "Non urgent", "urgent": "Urgent"},
}
BOOL_CHOICES = (("oui", "Oui"), ("non", "Non"), ("", "Je ne sais pas"))
_BOOL_VALUES: dict[str, bool | None] = {"oui": True, "non": False, "": None}
_MSGSPEC_PATH = re.compile(r"at `\$\.(\w+)")
PageContext = Callable[[], Awaitable[dict[str, Any]]]
"""What a whole page adds to the form's context (computed only when the whole page is sent)."""


# ---------------------------------------------------------------- the details of a type, as fields


@dataclass(frozen=True)
class DetailField:
    """One input of an event type's details, read from its msgspec structure."""

    name: str
    label: str
    kind: str
    """``bool``, ``choice``, ``multi``, ``date``, ``number`` or ``text``."""
    options: tuple[tuple[str, str], ...] = ()
    required: bool = False
    default: str = ""
    max_length: int | None = None
    pattern: str | None = None
    hint: str = ""

    @property
    def input_name(self) -> str:
        return DETAIL_PREFIX + self.name


def _unwrap(info: mi.Type) -> tuple[mi.Type, str]:
    """The type behind ``X | None`` and ``Annotated[X, Meta(...)]``, and the description it carries."""
    description = ""
    while True:
        if isinstance(info, mi.UnionType):
            others = [t for t in info.types if not isinstance(t, mi.NoneType)]
            if len(others) != 1:
                return info, description
            info = others[0]
        elif isinstance(info, mi.Metadata):
            schema = info.extra_json_schema or {}
            description = description or str(schema.get("title") or schema.get("description") or "")
            info = info.type
        else:
            return info, description


def _literal_values(annotation: Any) -> tuple[str, ...]:
    """The values of the ``Literal`` inside ``annotation``, in declaration order."""
    if typing.get_origin(annotation) is typing.Literal:
        return tuple(str(value) for value in typing.get_args(annotation))
    for argument in typing.get_args(annotation):
        found = _literal_values(argument)
        if found:
            return found
    return ()


def _options(name: str, annotation: Any) -> tuple[tuple[str, str], ...]:
    labels = VALUE_LABELS.get(name, {})
    return tuple((value, labels.get(value, value.replace("_", " "))) for value in _literal_values(annotation))


def detail_fields(spec: EventTypeSpec | None) -> list[DetailField]:
    """The inputs of ``spec``'s details, in the order of its structure."""
    if spec is None:
        return []
    annotations = {f.name: f.type for f in msgspec.structs.fields(spec.details)}
    info = mi.type_info(spec.details)
    assert isinstance(info, mi.StructType)
    fields = []
    for item in info.fields:
        kind_info, description = _unwrap(item.type)
        label = FIELD_LABELS.get(item.name) or description or item.name.replace("_", " ").capitalize()
        hint = FIELD_HINTS.get(item.name, description if description != label else "")
        default: Any = item.default
        if isinstance(default, bool):
            default = "oui" if default else "non"
        elif not isinstance(default, str | int):
            default = ""
        common: dict[str, Any] = {"required": item.required, "default": str(default), "hint": hint}
        annotation = annotations.get(item.name)
        if isinstance(kind_info, mi.BoolType):
            fields.append(DetailField(item.name, label, "bool", BOOL_CHOICES, **common))
        elif isinstance(kind_info, mi.LiteralType):
            fields.append(DetailField(item.name, label, "choice", _options(item.name, annotation), **common))
        elif isinstance(kind_info, mi.ListType) and isinstance(kind_info.item_type, mi.LiteralType):
            fields.append(DetailField(item.name, label, "multi", _options(item.name, annotation), **common))
        elif isinstance(kind_info, mi.DateType):
            fields.append(DetailField(item.name, label, "date", **common))
        elif isinstance(kind_info, mi.IntType):
            fields.append(DetailField(item.name, label, "number", **common))
        elif isinstance(kind_info, mi.StrType):
            fields.append(
                DetailField(
                    item.name,
                    label,
                    "text",
                    max_length=kind_info.max_length,
                    pattern=kind_info.pattern,
                    **common,
                )
            )
        else:
            fields.append(DetailField(item.name, label, "text", **common))
    return fields


def _text(form: FormMultiDict, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def read_details(
    fields: list[DetailField], form: FormMultiDict
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """(the details to declare, the raw values to show again, the errors by input name)."""
    details: dict[str, Any] = {}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        key = f.input_name
        if f.kind == "multi":
            chosen = form_texts(form, key)
            values[key] = chosen
            allowed = {value for value, _ in f.options}
            if any(value not in allowed for value in chosen):
                errors[key] = "cochez des valeurs de la liste"
            elif chosen:
                details[f.name] = chosen
            continue
        raw = _text(form, key)
        values[key] = raw
        if not raw:
            if f.required:
                errors[key] = "champ obligatoire"
            continue
        if f.kind == "bool":
            if raw not in _BOOL_VALUES:
                errors[key] = "répondez oui, non ou je ne sais pas"
            elif _BOOL_VALUES[raw] is not None:
                details[f.name] = _BOOL_VALUES[raw]
        elif f.kind == "choice":
            if raw not in {value for value, _ in f.options}:
                errors[key] = "choisissez une valeur de la liste"
            else:
                details[f.name] = raw
        elif f.kind == "date":
            try:
                details[f.name] = dt.date.fromisoformat(raw).isoformat()
            except ValueError:
                errors[key] = "date invalide (format attendu : AAAA-MM-JJ)"
        elif f.kind == "number":
            try:
                details[f.name] = int(raw)
            except ValueError:
                errors[key] = "nombre entier attendu"
        elif f.max_length is not None and len(raw) > f.max_length:
            errors[key] = f"{f.max_length} caractères au plus"
        elif f.pattern is not None and not re.search(f.pattern, raw):
            errors[key] = f"format invalide{f' ({f.hint})' if f.hint else ''}"
        else:
            details[f.name] = raw
    return details, values, errors


def read_occurred_at(raw: str) -> dt.datetime:
    """A ``datetime-local`` value (``2026-11-23T10:30``), read as Paris time; an offset is kept."""
    if not raw:
        raise InvalidInput(
            "date requise", [FieldError("occurred_at", "indiquez la date et l'heure de l'événement")]
        )
    try:
        parsed = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            "date invalide",
            [FieldError("occurred_at", "date et heure invalides (format attendu : AAAA-MM-JJ HH:MM)")],
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=locale.TIME_ZONE)


def _core_errors(error: InvalidInput) -> dict[str, str]:
    """The core's refusal by input name (a details error names its field when msgspec says which)."""
    errors: dict[str, str] = {}
    for item in error.errors:
        if item.field == "details":
            found = _MSGSPEC_PATH.search(item.message)
            key = DETAIL_PREFIX + found.group(1) if found else "details"
            errors[key] = "valeur refusée" if found else "précisions invalides"
        else:
            errors[item.field] = item.message
    return errors or {"form": error.detail}


# ---------------------------------------------------------------- rendering


@dataclass
class _Form:
    """What one rendering of the form needs besides the shared context."""

    action: str
    fields_url: str
    types: list[EventTypeSpec]
    type_code: str = ""
    occurred_at: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    refusal: str | None = None
    hidden: dict[str, str] = field(default_factory=dict)
    """Extra hidden fields (``personne`` on the portal)."""

    @property
    def spec(self) -> EventTypeSpec | None:
        """The chosen type when the user may declare it (else no details to show)."""
        return next((spec for spec in self.types if spec.code == self.type_code), None)


def _now_local(runtime: Runtime) -> str:
    return runtime.clock().astimezone(locale.TIME_ZONE).strftime("%Y-%m-%dT%H:%M")


def _form_context(form: _Form, *, portal: bool, csrf: str | None) -> dict[str, Any]:
    spec = form.spec
    return {
        "form": form,
        "spec": spec,
        "fields": detail_fields(spec),
        "values": form.values,
        "errors": form.errors,
        "portal": portal,
        "csrf": csrf,
        "continue_step": CONTINUE,
    }


async def _render(
    request: HTMXRequest,
    tenant: TenantRecord,
    form: _Form,
    page: str,
    *,
    portal: bool,
    status: int = 200,
    page_context: PageContext | None = None,
) -> Template:
    """The form alone for an htmx post, else the whole page (``page_context``: awaited only then)."""
    nav = await navigation(request, tenant)
    context = {"tenant": tenant, **_form_context(form, portal=portal, csrf=nav["csrf"])}
    if is_fragment(request):
        # The app's htmx configuration swaps 2xx and 422 only: a refusal comes back as a 422.
        return Template("declare/_form.html", context=context, status_code=422 if status >= 400 else status)
    extra = await page_context() if page_context is not None else {}
    return Template(page, context={**nav, **context, **extra}, status_code=status)


async def _catalogue(runtime: Runtime, tenant: TenantRecord) -> Catalogue:
    return await tenant_catalogue(runtime.plugins, tenant.enabled_plugins)


@dataclass(frozen=True)
class _Posted:
    type_code: str
    occurred_at: str
    step: str
    form: FormMultiDict


async def _posted(request: HTMXRequest) -> _Posted:
    form = await request.form()
    return _Posted(_text(form, "type"), _text(form, "occurred_at"), _text(form, "_step"), form)


async def _declare(
    runtime: Runtime,
    actor: Actor,
    jobs: JobSystem | None,
    catalogue: Catalogue,
    person_id: uuid.UUID,
    posted: _Posted,
    form: _Form,
) -> bool:
    """Declare what ``posted`` says; False with ``form`` holding the errors or the refusal."""
    fields = detail_fields(form.spec)
    details, form.values, errors = read_details(fields, posted.form)
    occurred_at = None
    try:
        occurred_at = read_occurred_at(posted.occurred_at)
    except InvalidInput as invalid:
        errors.update(_core_errors(invalid))
    if not posted.type_code:
        errors["type"] = "choisissez un type d'événement dans la liste"
    if errors or occurred_at is None:
        form.errors = errors
        return False
    try:
        declared = await declare_for_person(
            runtime, actor, person_id, posted.type_code, occurred_at, details, catalogue
        )
    except InvalidInput as invalid:
        form.errors = _core_errors(invalid)
        return False
    except AccessDenied as denied:
        form.refusal = denied.decision.reason
        return False
    except Forbidden as forbidden:
        form.refusal = forbidden.detail
        return False
    if jobs is not None:
        jobs.send(declared.dispatch)
    return True


def _status(form: _Form) -> int:
    if form.refusal is not None:
        return 403
    return 422 if form.errors else 200


# ---------------------------------------------------------------- professionals


def _pro_urls(tenant: TenantRecord, person_id: uuid.UUID) -> tuple[str, str]:
    base = f"/t/{tenant.slug}/personnes/{person_id}/evenements"
    return base + "/nouveau", base + "/champs"


async def person_label(runtime: Runtime, actor: Actor, person_id: uuid.UUID) -> str | None:
    """The person's name when the actor may read their identity (decided and audited), else None.

    Also 404 for an unknown person and 410 for an erased file."""
    request = AccessRequest(DataCategory.ADMINISTRATIVE, Action.READ)
    decisions = await check_all(runtime, actor, person_id, [request], purpose_for(actor.role), access="event")
    if not decisions[request].allowed:
        return None
    assert actor.tenant_id is not None
    async with tenant_scope(actor.tenant_id):
        row = await scoped_connection().fetchrow(
            "SELECT given_names, family_name FROM person WHERE id = $1", person_id
        )
    return f"{row['given_names']} {row['family_name']}" if row else None


def _pro_page(
    runtime: Runtime, tenant: TenantRecord, actor: Actor, person_id: uuid.UUID, saved: bool
) -> PageContext:
    async def build() -> dict[str, Any]:
        return {
            "person_id": person_id,
            "reference": str(person_id)[:8],
            "person_label": await person_label(runtime, actor, person_id),
            "file_url": f"/t/{tenant.slug}/personnes/{person_id}",
            "actions_url": f"/t/{tenant.slug}/actions?{urlencode({'personne': str(person_id)})}",
            "notice": SAVED if saved else None,
        }

    return build


@get(PRO_PATH + "/nouveau", opt=FILES, include_in_schema=False, cache_control=NO_STORE)
async def declare_page(
    request: HTMXRequest,
    person_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    type: FromQuery[str | None] = None,
    enregistre: FromQuery[str | None] = None,
) -> Template:
    """« Signaler un événement » for a person, from their file."""
    catalogue = await _catalogue(runtime, tenant)
    action, fields_url = _pro_urls(tenant, person_id)
    form = _Form(action, fields_url, declarable_types(actor, catalogue), type or "", _now_local(runtime))
    return await _render(
        request,
        tenant,
        form,
        "declare/page.html",
        portal=False,
        page_context=_pro_page(runtime, tenant, actor, person_id, bool(enregistre)),
    )


@get(PRO_PATH + "/champs", opt=FILES, include_in_schema=False, cache_control=NO_STORE)
async def declare_fields(
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    type: FromQuery[str | None] = None,
) -> Template:
    """The details fieldset of one type (htmx swaps it in when the type changes)."""
    return await _fields_fragment(tenant, actor, runtime, type)


async def _fields_fragment(
    tenant: TenantRecord, actor: Actor, runtime: Runtime, type_code: str | None
) -> Template:
    catalogue = await _catalogue(runtime, tenant)
    form = _Form("", "", declarable_types(actor, catalogue), type_code or "")
    spec = form.spec
    return Template(
        "declare/_details.html",
        context={"spec": spec, "fields": detail_fields(spec), "values": {}, "errors": {}},
    )


@post(
    PRO_PATH + "/nouveau",
    opt=FILES,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def declare_submit(
    request: HTMXRequest,
    person_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    jobs: NamedDependency[JobSystem | None],
) -> Template | Redirect | ClientRedirect:
    """Declare the event (or, with « Continuer », show the chosen type's fields)."""
    catalogue = await _catalogue(runtime, tenant)
    posted = await _posted(request)
    action, fields_url = _pro_urls(tenant, person_id)
    form = _Form(action, fields_url, declarable_types(actor, catalogue), posted.type_code, posted.occurred_at)
    if posted.step == CONTINUE:
        form.values = read_details(detail_fields(form.spec), posted.form)[1]
    elif await _declare(runtime, actor, jobs, catalogue, person_id, posted, form):
        return done(request, f"{action}?enregistre=1")
    return await _render(
        request,
        tenant,
        form,
        "declare/page.html",
        portal=False,
        status=_status(form),
        page_context=_pro_page(runtime, tenant, actor, person_id, False),
    )


# ---------------------------------------------------------------- the portal


def _portal_urls(tenant: TenantRecord) -> tuple[str, str]:
    base = f"/t/{tenant.slug}/mon-dossier/signaler"
    return base, base + "/champs"


async def _portal_form(
    actor: Actor, catalogue: Catalogue, tenant: TenantRecord, personne: str | None
) -> tuple[_Form, ManagedPerson, list[ManagedPerson]]:
    subject, people = await choose_person(actor, personne)
    action, fields_url = _portal_urls(tenant)
    form = _Form(action, fields_url, declarable_types(actor, catalogue), hidden={"personne": str(subject.id)})
    return form, subject, people


def _portal_page(
    tenant: TenantRecord, subject: ManagedPerson, people: list[ManagedPerson], saved: bool
) -> PageContext:
    async def build() -> dict[str, Any]:
        who = urlencode({"personne": str(subject.id)})
        return {
            "subject": subject,
            "people": people,
            "own_file": subject.relation == OWN_FILE,
            "page": "signaler",
            "portal": f"/t/{tenant.slug}/mon-dossier",
            "who": who,
            "error": None,
            "notice": SAVED if saved else None,
        }

    return build


@get(PORTAL_PATH, opt=PORTAL, include_in_schema=False, cache_control=NO_STORE)
async def portal_declare_page(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    personne: FromQuery[str | None] = None,
    type: FromQuery[str | None] = None,
    enregistre: FromQuery[str | None] = None,
) -> Template:
    """« Signaler un événement » from the portal, for the person shown (``?personne=``)."""
    catalogue = await _catalogue(runtime, tenant)
    form, subject, people = await _portal_form(actor, catalogue, tenant, personne)
    form.type_code = type or ""
    form.occurred_at = _now_local(runtime)
    return await _render(
        request,
        tenant,
        form,
        "declare/portal.html",
        portal=True,
        page_context=_portal_page(tenant, subject, people, bool(enregistre)),
    )


@get(PORTAL_PATH + "/champs", opt=PORTAL, include_in_schema=False, cache_control=NO_STORE)
async def portal_declare_fields(
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    type: FromQuery[str | None] = None,
) -> Template:
    """The details fieldset of one type the person may declare."""
    return await _fields_fragment(tenant, actor, runtime, type)


@post(PORTAL_PATH, opt=PORTAL, include_in_schema=False, status_code=200, cache_control=NO_STORE)
async def portal_declare_submit(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    jobs: NamedDependency[JobSystem | None],
) -> Template | Redirect | ClientRedirect:
    """Declare the event for the person named in the form (one the user manages, else 404)."""
    catalogue = await _catalogue(runtime, tenant)
    posted = await _posted(request)
    form, subject, people = await _portal_form(actor, catalogue, tenant, _text(posted.form, "personne"))
    form.type_code, form.occurred_at = posted.type_code, posted.occurred_at
    if posted.step == CONTINUE:
        form.values = read_details(detail_fields(form.spec), posted.form)[1]
    elif await _declare(runtime, actor, jobs, catalogue, subject.id, posted, form):
        return done(request, f"{form.action}?{urlencode({'personne': str(subject.id), 'enregistre': '1'})}")
    return await _render(
        request,
        tenant,
        form,
        "declare/portal.html",
        portal=True,
        status=_status(form),
        page_context=_portal_page(tenant, subject, people, False),
    )


DECLARE_PAGES: list[Any] = [
    declare_page,
    declare_fields,
    declare_submit,
    portal_declare_page,
    portal_declare_fields,
    portal_declare_submit,
]
