"""« Suivi du territoire »: indicators with charts, each event's follow-up record, pseudonymous exports.

For the coordination and the territory's administrators (``Permission.FOLLOW_UP``). Indicators,
event lists and exports are pseudonymous (the person is a keyed pseudonym, no name, no free text),
so the permission suffices. The record of one event names the person only when the consent decision
point allows the viewer to read the person's administrative data for care coordination (an audited
decision); otherwise it shows the pseudonym with « Personne non identifiée (consentement requis) ».

Charts are inline SVG drawn by a Jinja macro (``followup/_charts.html``): no script, no style
element (the CSP allows neither inline), each with a title, a description and its data as a table.
Every response carries ``Cache-Control: no-store``; each export leaves a ``followup.export`` audit entry.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from core import locale
from core.access.policy import Actor, Permission, decide
from core.consent.access import AccessRequest, audit_actor, check_all
from core.consent.model import Action, DataCategory, Purpose
from core.errors import FieldError, Gone, InvalidInput, NotFound
from core.events.catalogue import Catalogue, tenant_catalogue
from core.followup.export import audit_export, disposition, rows_csv, rows_json
from core.followup.indicators import Indicators, default_since, indicators
from core.followup.record import (
    day_bounds,
    euros_label,
    event_record,
    person_name,
    recent_events,
    territory_rows,
)
from core.proposals.queries import MASKED
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import requires
from web.pages.nav import navigation

FOLLOW_UP = requires(Permission.FOLLOW_UP).opt()
NO_STORE = CacheControlHeader(no_store=True)
RECENT = 50


# ---------------------------------------------------------------- charts


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    display: str
    """The value as people read it (« 12 », « 33 % », « 1 250,00 € »)."""
    share: float
    """Length of the bar, 0–1 of the longest."""
    note: str = ""
    """Shown in the table only (the counts behind a rate)."""


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    value_header: str
    bars: list[Bar]

    @property
    def summary(self) -> str:
        """The text alternative of the drawing: every bar in words."""
        if not self.bars:
            return "Aucune donnée sur la période."
        return " ; ".join(f"{bar.label} : {bar.display}" for bar in self.bars) + "."

    empty: bool = False
    """Nothing measured on the period (no drawing; a zero measured is drawn: « 0 % »)."""


def chart(
    chart_id: str,
    title: str,
    value_header: str,
    items: list[tuple[str, float, str, str]],
    *,
    empty: bool | None = None,
) -> Chart:
    """A bar chart of ``(label, value, display, note)`` items (empty by default when all are zero)."""
    top = max((value for _, value, _, _ in items), default=0) or 1
    return Chart(
        chart_id,
        title,
        value_header,
        [Bar(label, value, display, value / top, note) for label, value, display, note in items],
        empty=all(value == 0 for _, value, _, _ in items) if empty is None else empty,
    )


def _percent(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{round(value * 100):d} %"


def _hours(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}".replace(".", ",") + " h"


def charts(found: Indicators) -> list[Chart]:
    readmissions = []
    for rate in found.readmissions:
        note = f"{rate.readmitted} sur {rate.checked} sortie(s) vérifiée(s), {rate.pending} à vérifier"
        readmissions.append((f"À J+{rate.horizon_days}", rate.rate or 0.0, _percent(rate.rate), note))
    return [
        chart(
            "events-by-type",
            "Événements par type",
            "Événements",
            [(c.label, c.count, str(c.count), "") for c in found.events_by_type],
        ),
        chart(
            "actions-by-status",
            "Actions par statut",
            "Actions",
            [(c.label, c.count, str(c.count), "") for c in found.actions_by_status if c.count],
        ),
        chart(
            "readmissions",
            "Taux de réhospitalisation après une sortie",
            "Taux",
            readmissions,
            empty=not any(rate.checked for rate in found.readmissions),
        ),
        chart(
            "funding",
            "Financements : montants demandés et accordés",
            "Montant",
            [
                (
                    "Demandés (toutes demandes)",
                    found.funding_requested_cents,
                    euros_label(found.funding_requested_cents),
                    "",
                ),
                (
                    "Accordés ou versés",
                    found.funding_approved_cents,
                    euros_label(found.funding_approved_cents),
                    "",
                ),
            ],
        ),
    ]


# ---------------------------------------------------------------- helpers


def _day(value: str | None, field: str) -> dt.date | None:
    if not value or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as error:
        raise InvalidInput("date invalide", [FieldError(field, "date au format AAAA-MM-JJ")]) from error


def _period(du: str | None, au: str | None) -> tuple[dt.date | None, dt.date | None]:
    since, until = _day(du, "du"), _day(au, "au")
    if since is not None and until is not None and until < since:
        raise InvalidInput("période invalide", [FieldError("au", "la fin précède le début de la période")])
    return since, until


def _query(since: dt.date | None, until: dt.date | None) -> str:
    parts = [f"du={since.isoformat()}" if since else "", f"au={until.isoformat()}" if until else ""]
    query = "&".join(part for part in parts if part)
    return f"?{query}" if query else ""


async def _catalogue(runtime: Runtime, tenant: TenantRecord) -> Catalogue:
    return await tenant_catalogue(runtime.plugins, tenant.enabled_plugins)


# ---------------------------------------------------------------- pages


@get("/t/{slug:str}/suivi", opt=FOLLOW_UP, include_in_schema=False, cache_control=NO_STORE)
async def followup_page(
    request: Request[Any, Any, Any],
    tenant: NamedDependency[TenantRecord],
    runtime: NamedDependency[Runtime],
    du: FromQuery[str | None] = None,
    au: FromQuery[str | None] = None,
) -> Template:
    """The territory's indicators over the period (default: the last 90 days), and its latest events."""
    now = runtime.clock()
    since, until = _period(du, au)
    if du is None:  # the page's default; an emptied field means « from the start »
        since = default_since(now).astimezone(locale.TIME_ZONE).date()
    start, end = day_bounds(since, until)
    catalogue = await _catalogue(runtime, tenant)
    found = await indicators(tenant.id, catalogue, start, end, now=now)
    events = await recent_events(
        tenant.id, catalogue, start, end, keyring=runtime.keyring, now=now, limit=RECENT
    )
    return Template(
        "followup/index.html",
        context={
            "tenant": tenant,
            "found": found,
            "charts": charts(found),
            "events": events,
            "since": since,
            "until": until,
            "query": _query(since, until),
            "percent": _percent,
            "hours": _hours,
            "euros": euros_label,
            "recent_limit": RECENT,
            **await navigation(request, tenant),
        },
    )


@get(
    "/t/{slug:str}/suivi/evenements/{event_id:uuid}",
    opt=FOLLOW_UP,
    include_in_schema=False,
    cache_control=NO_STORE,
)
async def followup_event_page(
    request: Request[Any, Any, Any],
    event_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template:
    """One event's chain: event → actions → carrier → funding → outcome, and the readmission watch."""
    catalogue = await _catalogue(runtime, tenant)
    record = await event_record(tenant.id, event_id, catalogue, keyring=runtime.keyring, now=runtime.clock())
    if record is None:
        raise NotFound("événement introuvable dans ce territoire")
    name: str | None = None
    erased = False
    request_ = AccessRequest(DataCategory.ADMINISTRATIVE, Action.READ)
    try:
        decisions = await check_all(
            runtime, actor, record.person_id, [request_], Purpose.CARE_COORDINATION, access="followup"
        )
    except Gone:
        erased = True
    else:
        if decisions[request_].allowed:
            name = await person_name(tenant.id, record.person_id)
    return Template(
        "followup/event.html",
        context={
            "tenant": tenant,
            "record": record,
            "person_name": name,
            "erased": erased,
            "masked": MASKED,
            "may_open_file": name is not None and decide(actor, Permission.PERSON_FILES, tenant.id).allowed,
            **await navigation(request, tenant),
        },
    )


async def _export(
    tenant: TenantRecord,
    actor: Actor,
    runtime: Runtime,
    du: str | None,
    au: str | None,
    export_format: str,
) -> Response[bytes]:
    since, until = _period(du, au)
    start, end = day_bounds(since, until)
    rows = await territory_rows(
        tenant.id, await _catalogue(runtime, tenant), start, end, keyring=runtime.keyring, now=runtime.clock()
    )
    await audit_export(
        tenant.id,
        audit_actor(actor),
        export_format=export_format,
        rows=len(rows),
        since=start,
        until=end,
        via="page",
    )
    if export_format == "csv":
        content, media_type = rows_csv(rows), "text/csv; charset=utf-8"
    else:
        content, media_type = rows_json(rows, start, end), "application/json"
    return Response(
        content=content,
        media_type=media_type,
        headers={"Content-Disposition": disposition(tenant.slug, export_format, runtime.clock)},
    )


@get("/t/{slug:str}/suivi/export.csv", opt=FOLLOW_UP, include_in_schema=False, cache_control=NO_STORE)
async def followup_export_csv(
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    du: FromQuery[str | None] = None,
    au: FromQuery[str | None] = None,
) -> Response[bytes]:
    """One row per action of the period (all when no period), for a French spreadsheet."""
    return await _export(tenant, actor, runtime, du, au, "csv")


@get("/t/{slug:str}/suivi/export.json", opt=FOLLOW_UP, include_in_schema=False, cache_control=NO_STORE)
async def followup_export_json(
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    du: FromQuery[str | None] = None,
    au: FromQuery[str | None] = None,
) -> Response[bytes]:
    """The same rows as JSON."""
    return await _export(tenant, actor, runtime, du, au, "json")


FOLLOWUP_PAGES: list[Any] = [
    followup_page,
    followup_event_page,
    followup_export_csv,
    followup_export_json,
]
