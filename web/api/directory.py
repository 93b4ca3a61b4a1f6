"""``/t/{slug}/api/v1/organisations`` and ``…/professionals``: the tenant directory for partners."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED

from core.identity.directory import (
    OrganisationRecord,
    ProfessionalRecord,
    create_organisation,
    create_professional,
    list_organisations,
    list_professionals,
)
from core.tenancy.service import TenantRecord
from web.authz import api_scope

Text = Annotated[str, msgspec.Meta(max_length=200)]
Optional = Annotated[str, msgspec.Meta(max_length=320)] | None


class OrganisationIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Annotated[str, msgspec.Meta(description="hospital, gp_practice, ccas, funder…")]
    name: Text
    finess_ej: Optional = None
    finess_et: Optional = None
    siret: Optional = None
    commune_insee: Optional = None
    email: Optional = None


class ProfessionalIn(msgspec.Struct, forbid_unknown_fields=True):
    profession: Text
    family_name: Text
    given_names: Text
    rpps: Optional = None
    adeli: Optional = None
    email: Optional = None


class Created(msgspec.Struct):
    id: str


class DirectoryController(Controller):
    path = "/t/{slug:str}/api/v1"
    tags = ["directory"]
    security = [{"bearer": []}]

    @get("/organisations", summary="Organisations de l'annuaire", opt=api_scope("directory:read").opt())
    async def organisations(self, tenant: NamedDependency[TenantRecord]) -> list[OrganisationRecord]:
        return await list_organisations(tenant.id)

    @post(
        "/organisations",
        status_code=HTTP_201_CREATED,
        summary="Ajouter une organisation (FINESS et SIRET vérifiés)",
        opt=api_scope("directory:write").opt(),
    )
    async def add_organisation(
        self, data: JSONBody[OrganisationIn], tenant: NamedDependency[TenantRecord]
    ) -> Created:
        created = await create_organisation(tenant.id, **msgspec.structs.asdict(data))
        return Created(id=str(created.id))

    @get("/professionals", summary="Professionnels de l'annuaire", opt=api_scope("directory:read").opt())
    async def professionals(self, tenant: NamedDependency[TenantRecord]) -> list[ProfessionalRecord]:
        return await list_professionals(tenant.id)

    @post(
        "/professionals",
        status_code=HTTP_201_CREATED,
        summary="Ajouter un professionnel (RPPS et ADELI vérifiés)",
        opt=api_scope("directory:write").opt(),
    )
    async def add_professional(
        self, data: JSONBody[ProfessionalIn], tenant: NamedDependency[TenantRecord]
    ) -> Created:
        professional_id = await create_professional(tenant.id, **msgspec.structs.asdict(data))
        return Created(id=str(professional_id))
