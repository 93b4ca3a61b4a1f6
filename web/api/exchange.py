"""Directory exchange of the marketplace: HSDS 3.0 and data·inclusion exports, HSDS and CSV imports.

The exports are public (no token): published offers only, no contact details nor anyone's
personal data, as the public search shows them. Imports are uploaded in the provider console
(``web/pages/provider.py``) or run with ``parcours offers import``.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency

from core.locale import paris_day
from core.marketplace import datainclusion, hsds
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import PUBLIC

SHORT_CACHE = CacheControlHeader(max_age=300, public=True)


def _download(runtime: Runtime, tenant: TenantRecord, kind: str, document: Any) -> Response[bytes]:
    day = paris_day(runtime.clock()).isoformat()
    return Response(
        hsds.dumps(document),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="parcours-{tenant.slug}-{kind}-{day}.json"'},
    )


@get(
    "/t/{slug:str}/api/v1/services/export/hsds",
    opt=PUBLIC.opt(),
    summary="Exporter les services au format HSDS 3.0",
    description="Toutes les offres publiées du territoire, sans authentification, au format "
    "Human Services Data Specification 3.0 d'Open Referral : un paquet d'organisations "
    "(`organization`) avec leurs services (`services`) imbriqués, valide selon les schémas JSON "
    "officiels. Les identifiants sont stables (identifiant de l'offre = `service.id`). "
    "Aucune coordonnée ni donnée personnelle. Fichier JSON à télécharger.",
    tags=["Services"],
    cache_control=SHORT_CACHE,
)
async def export_hsds_api(
    tenant: NamedDependency[TenantRecord], runtime: NamedDependency[Runtime]
) -> Response[bytes]:
    document = await hsds.export_hsds(tenant, runtime.settings.base_url)
    return _download(runtime, tenant, "hsds-3.0", document)


@get(
    "/t/{slug:str}/api/v1/services/export/data-inclusion",
    opt=PUBLIC.opt(),
    summary="Exporter les services au schéma data·inclusion",
    description="Toutes les offres publiées du territoire, sans authentification, au schéma "
    'data·inclusion 1.0 des services d\'insertion : `{"structures": […], "services": […]}`, '
    "thématiques, types, publics et modes d'accueil tirés des référentiels du schéma. "
    "Aucune coordonnée ni donnée personnelle. Fichier JSON à télécharger.",
    tags=["Services"],
    cache_control=SHORT_CACHE,
)
async def export_datainclusion_api(
    tenant: NamedDependency[TenantRecord], runtime: NamedDependency[Runtime]
) -> Response[bytes]:
    document = await datainclusion.export_datainclusion(tenant, runtime.settings.base_url)
    return _download(runtime, tenant, "data-inclusion", document)


EXCHANGE_API: list[Any] = [export_hsds_api, export_datainclusion_api]
