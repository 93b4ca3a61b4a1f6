"""People and carers: the person (or a legal representative) grants and revokes a carer."""

from __future__ import annotations

import datetime as dt

import pytest

from core.db.scope import tenant_scope
from core.errors import Conflict, InvalidInput, NotFound
from core.identity.nir import Nir
from core.identity.people import PersonIdentity, carers_of, grant_carer, revoke_carer, upsert_person
from tests.factories import nir


def person(aio, runtime, tenant, first13: str, given: str):
    identity = PersonIdentity(Nir.parse(nir(first13)), "Lafitte", given, dt.date(1950, 1, 1), "40192")

    async def create():
        async with tenant_scope(tenant.id):
            return await upsert_person(identity, runtime.keyring, runtime.vault)

    return aio.run(create())


def test_grant_list_and_revoke_a_carer(aio, runtime, tenant):
    jeanne = person(aio, runtime, tenant, "2420240192123", "Jeanne")
    sophie = person(aio, runtime, tenant, "2680540192045", "Sophie")
    link = aio.run(grant_carer(tenant.id, jeanne, sophie, "fille", "person"))
    carers = aio.run(carers_of(tenant.id, jeanne))
    assert [(c.given_names, c.relationship, c.granted_by) for c in carers] == [("Sophie", "fille", "person")]
    with pytest.raises(Conflict):
        aio.run(grant_carer(tenant.id, jeanne, sophie, "fille", "person"))
    aio.run(revoke_carer(tenant.id, link))
    assert aio.run(carers_of(tenant.id, jeanne)) == []
    with pytest.raises(NotFound):
        aio.run(revoke_carer(tenant.id, link))
    # granted again later by a legal representative: a new, dated link
    aio.run(grant_carer(tenant.id, jeanne, sophie, "fille", "legal_representative"))
    assert len(aio.run(carers_of(tenant.id, jeanne))) == 1


def test_bad_grants_are_refused_with_the_field(aio, runtime, tenant):
    jeanne = person(aio, runtime, tenant, "2420240192124", "Jeanne")
    with pytest.raises(InvalidInput) as refused:
        aio.run(grant_carer(tenant.id, jeanne, jeanne, "", "neighbour"))
    assert {e.field for e in refused.value.errors} == {"carer", "granted_by", "relationship"}


def test_a_carer_from_another_territory_cannot_be_linked(aio, runtime, make_tenant):
    here, elsewhere = make_tenant(), make_tenant()
    jeanne = person(aio, runtime, here, "2420240192125", "Jeanne")
    stranger = person(aio, runtime, elsewhere, "2680540192046", "Sophie")
    with pytest.raises(NotFound):
        aio.run(grant_carer(here.id, jeanne, stranger, "fille", "person"))
