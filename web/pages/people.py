"""Professional side of a person's file: find, read by category, request or record consent, break-glass.

Every decision is the core's (``core.consent.access`` through the records services): these handlers
read forms, call one service, and render. A refused category shows the decision's reason with two
ways forward: ask the person's consent, or (for the roles that may) declare an emergency access.
Forms answer htmx with their own fragment (inline errors, 422) and plain browsers with the whole
page. Every response here carries ``Cache-Control: no-store``: a shared tablet keeps no copy.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from litestar import Response, get, post
from litestar.datastructures import CacheControlHeader, FormMultiDict, UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template

from core import locale
from core.access.policy import Actor, Permission
from core.consent.access import AccessDenied
from core.consent.model import (
    ACTION_LABELS,
    CATEGORY_LABELS,
    PURPOSE_LABELS,
    Action,
    DataCategory,
    Purpose,
    Recipient,
)
from core.consent.service import ConsentInput, declare_break_glass, record_consent, request_consent
from core.errors import Conflict, DomainError, FieldError, Forbidden, Gone, InvalidInput
from core.identity.directory import list_organisations
from core.records.break_glass_review import active_break_glass_until, may_declare_break_glass
from core.records.documents import MAX_DOCUMENT_BYTES, add_document, read_document
from core.records.file import read_file
from core.records.notes import add_note
from core.records.search import my_people, search_people
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import requires
from web.pages.forms import done, field_errors, form_text, form_texts, is_fragment
from web.pages.nav import navigation

FILES = requires(Permission.PERSON_FILES).opt()
NO_STORE = CacheControlHeader(no_store=True)
PURPOSES = (Purpose.CARE_COORDINATION, Purpose.FUNDING_INSTRUCTION, Purpose.SERVICE_DELIVERY)
"""The purposes a professional may open a file for (statistics never open a named file)."""
UPLOAD_LIMIT = MAX_DOCUMENT_BYTES + 256 * 1024
"""Request bodies above this are refused before being read (413): the file plus the form's overhead."""
CONSENT_MODES = {"paper": "recueilli par écrit", "oral": "recueilli oralement"}


# ---------------------------------------------------------------- helpers


def _purpose(value: str | None) -> Purpose:
    """The purpose named in a query or form (``finalite``); care coordination when absent."""
    if not value:
        return Purpose.CARE_COORDINATION
    try:
        purpose = Purpose(value)
    except ValueError:
        purpose = None
    if purpose not in PURPOSES:
        raise InvalidInput("finalité inconnue", [FieldError("finalite", "choisissez une finalité proposée")])
    assert purpose is not None
    return purpose


def _file_url(
    tenant: TenantRecord, person_id: uuid.UUID, purpose: Purpose, sent: str = "", anchor: str = ""
) -> str:
    """The file's address; ``sent`` names the confirmation to show, ``anchor`` the section."""
    url = f"/t/{tenant.slug}/personnes/{person_id}?finalite={purpose.value}"
    return url + (f"&envoye={sent}" if sent else "") + (f"#{anchor}" if anchor else "")


def _section(form: FormMultiDict) -> str:
    """The refused section a form was opened from (a category), for its element ids."""
    value = form_text(form, "section")
    return value if value in set(DataCategory) else ""


def _download_name(title: str, media_type: str) -> str:
    """``Content-Disposition`` value: an ASCII fallback and the UTF-8 title (RFC 6266)."""
    extension = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}.get(media_type, "")
    clean = re.sub(r"[\x00-\x1f\\/\"]+", " ", title).strip() or "document"
    if not clean.lower().endswith(extension):
        clean += extension
    ascii_name = unicodedata.normalize("NFKD", clean).encode("ascii", "ignore").decode() or "document"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(clean)}"


def _end_of_day(value: str) -> dt.datetime | None:
    """A consent valid « jusqu'au 31/12/2027 » ends at midnight after that day, Paris time."""
    if not value.strip():
        return None
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError as error:
        raise InvalidInput(
            "date invalide", [FieldError("valid_until", "date au format AAAA-MM-JJ")]
        ) from error
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=locale.TIME_ZONE)


async def _base(request: HTMXRequest, tenant: TenantRecord, **extra: Any) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "category_labels": CATEGORY_LABELS,
        "purpose_labels": PURPOSE_LABELS,
        "action_labels": ACTION_LABELS,
        "purposes": PURPOSES,
        "category_options": [(c.value, CATEGORY_LABELS[c]) for c in DataCategory],
        "purpose_options": [(p.value, PURPOSE_LABELS[p]) for p in PURPOSES],
        "action_options": [(a.value, ACTION_LABELS[a]) for a in Action],
        "consent_modes": CONSENT_MODES,
        "failed": None,
        "errors": {},
        "values": {},
        **await navigation(request, tenant),
        **extra,
    }


# ---------------------------------------------------------------- my people and search


@get("/t/{slug:str}/personnes", opt=FILES, include_in_schema=False, cache_control=NO_STORE)
async def people_page(
    request: HTMXRequest, tenant: NamedDependency[TenantRecord], actor: NamedDependency[Actor]
) -> Template:
    """« Mes personnes » and the search form."""
    return Template(
        "people/index.html",
        context=await _base(request, tenant, people=await my_people(actor), matches=None),
    )


@post(
    "/t/{slug:str}/personnes/recherche",
    opt=FILES,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def people_search(
    request: HTMXRequest, tenant: NamedDependency[TenantRecord], actor: NamedDependency[Actor]
) -> Template:
    """Search by birth name and birth date (both required): a POST, so no name lands in a URL log."""
    form = await request.form()
    values = {"family_name": form_text(form, "family_name"), "birth_date": form_text(form, "birth_date")}
    errors: dict[str, str] = {}
    matches = None
    try:
        matches = await search_people(actor, values["family_name"], values["birth_date"])
    except InvalidInput as invalid:
        errors = field_errors(invalid)
    context = await _base(request, tenant, values=values, errors=errors, matches=matches, searched=True)
    status = 422 if errors else 200
    if is_fragment(request):
        return Template("people/_search.html", context=context, status_code=status)
    context["people"] = await my_people(actor)
    return Template("people/index.html", context=context, status_code=status)


# ---------------------------------------------------------------- the file


async def _file_page(
    request: HTMXRequest,
    tenant: TenantRecord,
    actor: Actor,
    runtime: Runtime,
    person_id: uuid.UUID,
    purpose: Purpose,
    *,
    status: int = 200,
    **extra: Any,
) -> Template:
    """The whole file as ``actor`` may see it for ``purpose`` (or the « dossier effacé » page)."""
    try:
        file = await read_file(runtime, actor, person_id, purpose)
    except Gone as gone:
        return Template(
            "people/gone.html",
            context=await _base(request, tenant, detail=gone.detail),
            status_code=410,
        )
    until = await active_break_glass_until(runtime, actor, person_id)
    assert actor.tenant_id is not None
    context = await _base(
        request,
        tenant,
        file=file,
        person_id=person_id,
        purpose=purpose,
        reference=str(person_id)[:8],
        emergency_until=until.astimezone(locale.TIME_ZONE).strftime("%H:%M") if until else None,
        may_break_glass=may_declare_break_glass(actor),
        organisations=await list_organisations(actor.tenant_id),
        my_organisation=actor.organisation_id,
        **extra,
    )
    return Template("people/file.html", context=context, status_code=status)


@get("/t/{slug:str}/personnes/{person_id:uuid}", opt=FILES, include_in_schema=False, cache_control=NO_STORE)
async def file_page(
    request: HTMXRequest,
    person_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    finalite: FromQuery[str | None] = None,
    envoye: FromQuery[str | None] = None,
) -> Template:
    """The person's file for the chosen purpose, section by section."""
    notice = {
        "demande": "Votre demande de consentement a été envoyée : la personne la verra dans son espace.",
        "consentement": "Le consentement recueilli a été enregistré ; la personne en est informée.",
        "note": "La note a été ajoutée au dossier.",
        "document": "Le document a été ajouté au dossier.",
    }.get(envoye or "")
    return await _file_page(request, tenant, actor, runtime, person_id, _purpose(finalite), notice=notice)


@dataclass(frozen=True)
class _Target:
    """What a form handler needs to show the file again: who asks, about whom, for which purpose."""

    request: HTMXRequest
    tenant: TenantRecord
    actor: Actor
    runtime: Runtime
    person_id: uuid.UUID
    purpose: Purpose


async def _refused(
    target: _Target, fragment: str, failed: str, values: dict[str, Any], error: DomainError
) -> Template:
    """A form again with its inline errors (422): its fragment for htmx, the whole file otherwise."""
    errors = field_errors(error)
    if is_fragment(target.request):
        actor = target.actor
        assert actor.tenant_id is not None
        context = await _base(
            target.request,
            target.tenant,
            person_id=target.person_id,
            purpose=target.purpose,
            failed=failed,
            values=values,
            errors=errors,
            may_break_glass=may_declare_break_glass(actor),
            organisations=await list_organisations(actor.tenant_id),
            my_organisation=actor.organisation_id,
            section=values.get("section", ""),
            note_category=values.get("category", ""),
        )
        return Template(fragment, context=context, status_code=422)
    return await _file_page(
        target.request,
        target.tenant,
        target.actor,
        target.runtime,
        target.person_id,
        target.purpose,
        status=422,
        failed=failed,
        values=values,
        errors=errors,
    )


@post(
    "/t/{slug:str}/personnes/{person_id:uuid}/demandes",
    opt=FILES,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def consent_request_create(
    request: HTMXRequest,
    person_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Ask the person for a consent; the request waits in their portal."""
    form = await request.form()
    purpose = _purpose(form_text(form, "finalite"))
    target = _Target(request, tenant, actor, runtime, person_id, purpose)
    values: dict[str, Any] = {
        "section": _section(form),
        "categories": form_texts(form, "categories"),
        "purposes": form_texts(form, "purposes"),
        "message": form_text(form, "message"),
    }
    try:
        await request_consent(
            runtime,
            actor,
            person_id,
            actions=[Action.READ.value],
            categories=values["categories"],
            purposes=values["purposes"],
            message=values["message"],
        )
    except (InvalidInput, Conflict, Forbidden) as error:
        return await _refused(
            target, "people/_request_form.html", f"request-{values['section']}", values, error
        )
    if is_fragment(request):
        return Template(
            "people/_request_sent.html",
            context=await _base(request, tenant, section=values["section"]),
        )
    return done(request, _file_url(tenant, person_id, purpose, "demande"))


@post(
    "/t/{slug:str}/personnes/{person_id:uuid}/bris-de-glace",
    opt=FILES,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def break_glass_create(
    request: HTMXRequest,
    person_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Declare an emergency access with its justification, then back to the file, now open."""
    form = await request.form()
    purpose = _purpose(form_text(form, "finalite"))
    target = _Target(request, tenant, actor, runtime, person_id, purpose)
    values = {"section": _section(form), "justification": form_text(form, "justification")}
    try:
        await declare_break_glass(runtime, actor, person_id, values["justification"])
    except (InvalidInput, Forbidden) as error:
        return await _refused(
            target, "people/_break_glass_form.html", f"break-glass-{values['section']}", values, error
        )
    return done(request, _file_url(tenant, person_id, purpose))


@post(
    "/t/{slug:str}/personnes/{person_id:uuid}/notes",
    opt=FILES,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def note_create(
    request: HTMXRequest,
    person_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Add a social or medical note (the decision point decides the write)."""
    form = await request.form()
    purpose = _purpose(form_text(form, "finalite"))
    target = _Target(request, tenant, actor, runtime, person_id, purpose)
    values = {"category": form_text(form, "category"), "body": form_text(form, "body")}
    try:
        await add_note(runtime, actor, person_id, values["category"], values["body"], purpose)
    except (InvalidInput, AccessDenied) as error:
        return await _refused(target, "people/_note_form.html", f"note-{values['category']}", values, error)
    return done(request, _file_url(tenant, person_id, purpose, "note", f"section-{values['category']}"))


@post(
    "/t/{slug:str}/personnes/{person_id:uuid}/documents",
    opt=FILES,
    request_max_body_size=UPLOAD_LIMIT,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def document_create(
    request: HTMXRequest,
    person_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Upload a PDF, PNG or JPEG (5 Mo at most; the type is read from the content)."""
    form = await request.form()
    purpose = _purpose(form_text(form, "finalite"))
    target = _Target(request, tenant, actor, runtime, person_id, purpose)
    values = {"title": form_text(form, "title")}
    upload = form.get("file")
    content = b""
    try:
        if isinstance(upload, UploadFile):
            content = await upload.read(MAX_DOCUMENT_BYTES + 1)
            await upload.close()
            if not values["title"].strip() and upload.filename:
                values["title"] = upload.filename
        if len(content) > MAX_DOCUMENT_BYTES:
            raise InvalidInput(
                "document refusé", [FieldError("file", "fichier trop volumineux (5 Mo au plus)")]
            )
        await add_document(runtime, actor, person_id, values["title"], content, purpose)
    except (InvalidInput, AccessDenied) as error:
        return await _refused(target, "people/_document_form.html", "document", values, error)
    return done(request, _file_url(tenant, person_id, purpose, "document", "section-documents"))


@get(
    "/t/{slug:str}/personnes/{person_id:uuid}/documents/{document_id:uuid}",
    opt=FILES,
    include_in_schema=False,
    cache_control=NO_STORE,
)
async def document_download(
    person_id: FromPath[uuid.UUID],
    document_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    finalite: FromQuery[str | None] = None,
) -> Response[bytes]:
    """The decrypted document, as an attachment that no cache keeps."""
    document = await read_document(runtime, actor, person_id, document_id, _purpose(finalite))
    return Response(
        document.content,
        media_type=document.media_type,
        headers={"Content-Disposition": _download_name(document.title, document.media_type)},
    )


@post(
    "/t/{slug:str}/personnes/{person_id:uuid}/consentements",
    opt=FILES,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def consent_record(
    request: HTMXRequest,
    person_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Record a consent collected on paper or orally, with the reference of its proof."""
    form = await request.form()
    purpose = _purpose(form_text(form, "finalite"))
    target = _Target(request, tenant, actor, runtime, person_id, purpose)
    values: dict[str, Any] = {
        "mode": form_text(form, "mode") or "paper",
        "proof_reference": form_text(form, "proof_reference"),
        "recipient": form_text(form, "recipient"),
        "categories": form_texts(form, "categories"),
        "purposes": form_texts(form, "purposes"),
        "actions": form_texts(form, "actions"),
        "valid_until": form_text(form, "valid_until"),
    }
    try:
        try:
            recipient = Recipient.organisation(uuid.UUID(values["recipient"]))
        except ValueError as error:
            raise InvalidInput(
                "destinataire inconnu", [FieldError("recipient", "choisissez une organisation")]
            ) from error
        if values["mode"] not in CONSENT_MODES:
            raise InvalidInput("mode inconnu", [FieldError("mode", "écrit ou oral")])
        reference = values["proof_reference"].strip()
        proof = f"{CONSENT_MODES[values['mode']]} : {reference}" if reference else ""
        await record_consent(
            runtime,
            actor,
            person_id,
            ConsentInput(
                recipient=recipient,
                actions=tuple(values["actions"]),
                categories=tuple(values["categories"]),
                purposes=tuple(values["purposes"]),
                valid_until=_end_of_day(values["valid_until"]),
                proof_reference=proof,
            ),
        )
    except (InvalidInput, Forbidden) as error:
        return await _refused(target, "people/_consent_form.html", "consent", values, error)
    return done(request, _file_url(tenant, person_id, purpose, "consentement"))


PEOPLE_PAGES: list[Any] = [
    people_page,
    people_search,
    file_page,
    consent_request_create,
    break_glass_create,
    note_create,
    document_create,
    document_download,
    consent_record,
]
