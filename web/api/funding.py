"""``/t/{slug}/api/v1/funding-requests``: funding requests for funders' systems.

A funder that integrates registers an API client for its organisation (``parcours api-client create
--organisation …``, or ``organisation = "key"`` of a demo territory's ``[[api_clients]]``). With
``funding:read`` it lists the lines sent to its organisation — the same rows as the console's export:
identity columns only where the person's consent lets the funder read their administrative data,
a pseudonym otherwise; with ``funding:decide`` it records a decision, the same move as the console
(version check: 409 with problem details when the line moved since it was read). Nothing here reads
another organisation's lines nor any medical data. Each list is an export: it leaves a
``funding.export`` entry in the tenant's audit trail.

Creating a request through the API (for partners such as hospitals) is not offered yet.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from core.access.policy import Actor
from core.access.service import Principal
from core.audit.trail import Actor as AuditActor
from core.errors import FieldError, Forbidden, InvalidInput
from core.financing import console
from core.financing.lines import STATUS_LABELS, LineMove, LineStatus
from core.financing.registry import territory_funders
from core.financing.requests import move_line
from core.followup.record import day_bounds
from core.identity.roles import Role
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import api_scope
from web.context import provide_principal

READ = "funding:read"
DECIDE = "funding:decide"
NO_STORE = CacheControlHeader(no_store=True)


def _doc(text: str) -> Any:
    return msgspec.Meta(description=text)


Status = Literal[
    "submitted",
    "under_review",
    "information_requested",
    "approved",
    "partially_approved",
    "refused",
    "paid",
    "withdrawn",
]
DecisionStatus = Literal[
    "under_review", "information_requested", "approved", "partially_approved", "refused", "paid"
]


class FundingLineOut(msgspec.Struct):
    """Une demande reçue par l'organisme (une ligne d'un dossier de financement)."""

    line_id: Annotated[str, _doc("Identifiant de la demande (à rappeler pour décider).")]
    request_id: Annotated[
        str, _doc("Identifiant du dossier : les autres financeurs sollicités en ont chacun une ligne.")
    ]
    funder: Annotated[str, _doc("Financeur (code du greffon), p. ex. carsat_ardh.")]
    programme: Annotated[str, _doc("Programme (code), p. ex. ardh.")]
    programme_label: Annotated[str, _doc("Intitulé du programme.")]
    status: Annotated[
        str,
        _doc(
            "submitted, under_review, information_requested, approved, partially_approved, refused, paid "
            "ou withdrawn."
        ),
    ]
    status_label: Annotated[str, _doc("Le statut en français.")]
    submitted_at: Annotated[dt.datetime | None, _doc("Reçue le.")]
    due_at: Annotated[dt.datetime | None, _doc("Échéance de la décision.")]
    decided_at: Annotated[dt.datetime | None, _doc("Décidée le.")]
    requested_cents: Annotated[int | None, _doc("Montant demandé, en centimes d'euro (le devis).")]
    decided_cents: Annotated[int | None, _doc("Montant accordé, en centimes d'euro.")]
    decided_hours: Annotated[int | None, _doc("Heures accordées, s'il y a lieu.")]
    period_start: Annotated[dt.date | None, _doc("Début de la période accordée.")]
    period_end: Annotated[dt.date | None, _doc("Fin de la période accordée.")]
    reason_code: Annotated[str | None, _doc("Motif codé d'un refus.")]
    reason_label: Annotated[str | None, _doc("Le motif en français.")]
    person_pseudonym: Annotated[
        str, _doc("Pseudonyme stable de la personne pour votre organisme dans ce territoire.")
    ]
    identity_shared: Annotated[
        bool, _doc("Le consentement de la personne vous autorise à lire ses données administratives.")
    ]
    family_name: Annotated[str | None, _doc("Nom (seulement si identity_shared).")]
    given_names: Annotated[str | None, _doc("Prénoms (seulement si identity_shared).")]
    birth_date: Annotated[dt.date | None, _doc("Date de naissance (seulement si identity_shared).")]
    commune_insee: Annotated[str | None, _doc("Commune, code INSEE (seulement si identity_shared).")]


class FundingLinesOut(msgspec.Struct):
    since: Annotated[dt.datetime | None, _doc("Début de la période de réception (inclus).")]
    until: Annotated[dt.datetime | None, _doc("Fin de la période de réception (exclue).")]
    count: int
    rows: list[FundingLineOut]


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    """Une décision sur une demande, comme dans la console du financeur."""

    status: Annotated[
        DecisionStatus,
        _doc(
            "under_review (commencer l'instruction), information_requested (question dans note), approved, "
            "partially_approved, refused (reason_code requis) ou paid (versée)."
        ),
    ]
    expected_version: Annotated[
        int | None,
        _doc("Version de la demande lue ; si elle a changé depuis, la décision est refusée (409)."),
    ] = None
    amount_cents: Annotated[
        int | None, _doc("Montant accordé en centimes d'euro (requis pour approved et partially_approved).")
    ] = None
    hours: Annotated[int | None, _doc("Heures accordées (facultatif).")] = None
    period_start: Annotated[dt.date | None, _doc("Début de la période (requis pour un accord).")] = None
    period_end: Annotated[dt.date | None, _doc("Fin de la période (requis pour un accord).")] = None
    conditions: Annotated[str, _doc("Conditions de l'accord (facultatif).")] = ""
    reason_code: Annotated[
        str | None,
        _doc(
            "Motif du refus : not_eligible, income_above_ceiling, incomplete_file, not_resident, "
            "other_scheme, already_funded, budget_exhausted ou other (préciser dans note)."
        ),
    ] = None
    note: Annotated[str, _doc("Question au demandeur, ou explication de la décision, en français clair.")] = (
        ""
    )


class DecisionOut(msgspec.Struct):
    line_id: str
    status: Annotated[str, _doc("Le nouveau statut de la demande.")]
    status_label: str


def funder_actor(principal: Principal) -> Actor:
    """The client as the core sees a funder's agent: its organisation's lines, its consents."""
    if principal.organisation_id is None or principal.id is None:
        raise Forbidden("ce client API n'agit pour aucun organisme financeur")
    return Actor(
        user_id=principal.id,
        is_platform_admin=False,
        tenant_id=principal.tenant_id,
        role=Role.FUNDER_AGENT,
        organisation_id=principal.organisation_id,
    )


def _check_period(since: dt.date | None, until: dt.date | None) -> None:
    if since is not None and until is not None and until < since:
        raise InvalidInput("période invalide", [FieldError("until", "la fin précède le début de la période")])


class FundingController(Controller):
    path = "/t/{slug:str}/api/v1/funding-requests"
    tags = ["funding"]
    dependencies = {"principal": Provide(provide_principal, sync_to_thread=False)}
    security = [{"bearer": []}]

    @get(
        "/",
        summary="Demandes de financement reçues par votre organisme (JSON ou CSV)",
        description="Les demandes envoyées à l'organisme du client API, reçues dans la période (`since` et "
        "`until` inclus, dates de Paris ; sans borne : toutes), filtrées par statut. L'identité de la "
        "personne n'est donnée que si son consentement autorise votre organisme à lire ses données "
        "administratives ; sinon seulement un pseudonyme stable. `format=csv` : fichier pour tableur "
        "français (UTF-8 avec BOM, séparateur « ; »). Chaque appel est tracé dans le journal d'audit.",
        opt=api_scope(READ).opt(),
        cache_control=NO_STORE,
        responses={
            200: ResponseSpec(
                data_container=FundingLinesOut,
                description="Les demandes (JSON ; `text/csv` avec `format=csv`).",
            )
        },
    )
    async def list_lines(
        self,
        tenant: NamedDependency[TenantRecord],
        runtime: NamedDependency[Runtime],
        principal: NamedDependency[Principal],
        status: Annotated[Status | None, QueryParameter(description="Seulement ce statut.")] = None,
        since: Annotated[
            dt.date | None, QueryParameter(description="Premier jour de réception (AAAA-MM-JJ), inclus.")
        ] = None,
        until: Annotated[
            dt.date | None, QueryParameter(description="Dernier jour de réception (AAAA-MM-JJ), inclus.")
        ] = None,
        export_format: Annotated[
            Literal["json", "csv"], QueryParameter(name="format", description="json (défaut) ou csv.")
        ] = "json",
    ) -> Response[Any]:
        actor = funder_actor(principal)
        assert actor.organisation_id is not None
        _check_period(since, until)
        start, end = day_bounds(since, until)
        funders = await territory_funders(runtime.plugins, tenant.id, tenant.enabled_plugins)
        rows = await console.export_rows(runtime, actor, funders, status=status, since=start, until=end)
        await console.audit_export(
            tenant.id,
            AuditActor("api_client", principal.client_id, str(actor.organisation_id)),
            actor.organisation_id,
            export_format=export_format,
            rows=rows,
            status=status,
            since=start,
            until=end,
            via="api",
        )
        if export_format == "csv":
            name = console.file_name(tenant.slug, "csv", runtime.clock())
            return Response(
                content=console.rows_csv(rows),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        return Response(content=console.rows_json(rows, start, end), media_type="application/json")

    @post(
        "/{line_id:uuid}/decision",
        summary="Décider d'une demande de financement",
        description="La même décision que dans la console du financeur : commencer l'instruction, demander "
        "des informations, accorder (en tout ou partie : montant, période, conditions), refuser (motif "
        "codé), marquer comme versée. 409 (problem details) si la demande a changé depuis `expected_version` "
        "ou si elle est déjà dans ce statut ; 422 avec chaque champ manquant, en français ; 404 pour une "
        "demande d'un autre organisme.",
        opt=api_scope(DECIDE).opt(),
        status_code=200,
        cache_control=NO_STORE,
    )
    async def decide(
        self,
        line_id: FromPath[uuid.UUID],
        data: JSONBody[DecisionIn],
        tenant: NamedDependency[TenantRecord],
        runtime: NamedDependency[Runtime],
        principal: NamedDependency[Principal],
    ) -> DecisionOut:
        actor = funder_actor(principal)
        move = LineMove(
            to=LineStatus(data.status),
            amount_cents=data.amount_cents,
            hours=data.hours,
            period_start=data.period_start,
            period_end=data.period_end,
            conditions=data.conditions,
            reason_code=data.reason_code,
            note=data.note,
            expected_version=data.expected_version,
        )
        funders = await territory_funders(runtime.plugins, tenant.id, tenant.enabled_plugins)
        status = await move_line(runtime, actor, f"API : {principal.name}", line_id, move, funders)
        return DecisionOut(line_id=str(line_id), status=status.value, status_label=STATUS_LABELS[status])


FUNDING_API: list[Any] = [FundingController]
