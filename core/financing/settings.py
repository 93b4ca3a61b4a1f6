"""A territory's settings of its funders: which organisation instructs each funder's requests, and
the values of programme parameters that differ from the declared defaults.

Stored in ``tenant_setting`` under the namespace ``funders.<identifier>``: the key ``organisation``
holds an organisation id, a key ``<programme>.<parameter>`` a parameter's value. Changing a value is
audited and takes effect at the next evaluation — no code change, no restart.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from core.audit.trail import Actor as AuditActor
from core.audit.trail import Outcome, Record, append
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import FieldError, InvalidInput, NotFound
from core.funders import BaseFunder

NAMESPACE = "funders."
ORGANISATION_KEY = "organisation"


@dataclass
class FunderSettings:
    """One funder's stored settings for a territory."""

    organisation_id: uuid.UUID | None = None
    overrides: dict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))
    """Programme code → parameter key → stored value."""


async def load_settings(tenant_id: uuid.UUID) -> dict[str, FunderSettings]:
    """Every funder's settings of the territory, by funder identifier."""
    settings: dict[str, FunderSettings] = defaultdict(FunderSettings)
    async with tenant_scope(tenant_id):
        rows = await scoped_connection().fetch(
            "SELECT namespace, key, value FROM tenant_setting WHERE namespace LIKE 'funders.%'"
        )
    for row in rows:
        identifier = row["namespace"].removeprefix(NAMESPACE)
        value = json.loads(row["value"]) if isinstance(row["value"], str) else row["value"]
        if row["key"] == ORGANISATION_KEY:
            settings[identifier].organisation_id = uuid.UUID(value)
        elif "." in row["key"]:
            programme, parameter = row["key"].split(".", 1)
            settings[identifier].overrides[programme][parameter] = value
    return dict(settings)


async def _put(tenant_id: uuid.UUID, namespace: str, key: str, value: Any, by: str) -> None:
    await scoped_connection().execute(
        "INSERT INTO tenant_setting (id, tenant_id, namespace, key, value, updated_at, updated_by) "
        "VALUES ($1, $2, $3, $4, $5::jsonb, now(), $6) "
        "ON CONFLICT (tenant_id, namespace, key) DO UPDATE SET value = EXCLUDED.value, "
        "updated_at = now(), updated_by = EXCLUDED.updated_by",
        uuid.uuid4(),
        tenant_id,
        namespace,
        key,
        json.dumps(value),
        by,
    )


async def set_parameters(
    tenant_id: uuid.UUID,
    funder: BaseFunder,
    programme_code: str,
    raw: dict[str, Any],
    actor: AuditActor,
    by_label: str,
) -> dict[str, Any]:
    """Check and store new values of a programme's parameters (``None``: back to the default).

    All or nothing: any invalid value raises ``InvalidInput`` naming its field and stores nothing.
    Returns the stored values. One audit entry lists the keys changed (not the values' owners: these
    are public figures, kept in the entry).
    """
    try:
        programme = funder.programme(programme_code)
    except KeyError as missing:
        raise NotFound("programme inconnu") from missing
    declared = {parameter.key: parameter for parameter in programme.parameters}
    errors: list[FieldError] = []
    parsed: dict[str, Any] = {}
    for key, value in raw.items():
        parameter = declared.get(key)
        if parameter is None:
            errors.append(FieldError(key, "paramètre inconnu pour ce programme"))
            continue
        if value is None:
            parsed[key] = None
            continue
        try:
            checked = parameter.parse(value)
        except ValueError as wrong:
            errors.append(FieldError(key, str(wrong)))
            continue
        parsed[key] = list(checked) if isinstance(checked, tuple) else checked
    if errors:
        raise InvalidInput("paramètres invalides", errors)
    namespace = NAMESPACE + funder.identifier
    async with tenant_scope(tenant_id):
        for key, value in parsed.items():
            if value is None:
                await scoped_connection().execute(
                    "DELETE FROM tenant_setting WHERE namespace = $1 AND key = $2",
                    namespace,
                    f"{programme_code}.{key}",
                )
            else:
                await _put(tenant_id, namespace, f"{programme_code}.{key}", value, by_label)
        await append(
            Record(
                actor=actor,
                action="funding.parameters.update",
                outcome=Outcome.SUCCESS,
                target_kind="funding_programme",
                target_id=programme_code,
                detail={"funder": funder.identifier, "values": parsed},
            )
        )
    return parsed


async def set_organisation(
    tenant_id: uuid.UUID, identifier: str, organisation_id: uuid.UUID, by_label: str
) -> None:
    """Name the organisation whose agents instruct ``identifier``'s requests in this territory."""
    async with tenant_scope(tenant_id):
        kind = await scoped_connection().fetchval(
            "SELECT kind FROM organisation WHERE id = $1", organisation_id
        )
        if kind is None:
            raise NotFound("organisation inconnue dans ce territoire")
        await _put(tenant_id, NAMESPACE + identifier, ORGANISATION_KEY, str(organisation_id), by_label)
