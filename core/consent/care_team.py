"""A person's care team (« équipe de soins », CSP L.1110-12): who shares medical data by presumption.

Members are users or whole organisations, each in one role with a function for the person
(« médecin traitant », « infirmier à domicile »…). Adding or ending a membership is audited.
"""

from __future__ import annotations

import uuid

from core.audit.trail import Actor as AuditActor
from core.audit.trail import Outcome, Record, append
from core.db.connection import scoped_connection
from core.errors import FieldError, InvalidInput
from core.identity.roles import Role


async def add_member(
    person_id: uuid.UUID,
    *,
    role: Role,
    function: str,
    by: AuditActor,
    organisation_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    added_by_user_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Add a member in the caller's tenant scope; an identical active membership is returned as is."""
    if (organisation_id is None) == (user_id is None):
        raise InvalidInput("membre invalide", [FieldError("member", "un utilisateur ou une organisation")])
    function = function.strip()
    if not function or len(function) > 60:
        raise InvalidInput("membre invalide", [FieldError("function", "fonction requise (60 caractères)")])
    connection = scoped_connection()
    existing = await connection.fetchval(
        "SELECT id FROM care_team_member WHERE person_id = $1 AND role = $2 AND until IS NULL "
        "AND member_user_id IS NOT DISTINCT FROM $3 AND member_organisation_id IS NOT DISTINCT FROM $4",
        person_id,
        role.value,
        user_id,
        organisation_id,
    )
    if existing is not None:
        return uuid.UUID(str(existing))
    member_id = uuid.uuid4()
    await connection.execute(
        "INSERT INTO care_team_member (id, tenant_id, person_id, member_user_id, member_organisation_id, "
        "role, function, since, added_by_user_id) "
        "VALUES ($1, current_setting('app.tenant_id')::uuid, $2, $3, $4, $5, $6, now(), $7)",
        member_id,
        person_id,
        user_id,
        organisation_id,
        role.value,
        function,
        added_by_user_id,
    )
    await append(
        Record(
            by,
            "care_team.added",
            Outcome.SUCCESS,
            "person",
            str(person_id),
            {"member": str(organisation_id or user_id), "role": role.value},
        )
    )
    return member_id


async def end_member(member_id: uuid.UUID, person_id: uuid.UUID, by: AuditActor) -> bool:
    status = await scoped_connection().execute(
        "UPDATE care_team_member SET until = now() WHERE id = $1 AND person_id = $2 AND until IS NULL",
        member_id,
        person_id,
    )
    if status == "UPDATE 0":
        return False
    await append(
        Record(
            by, "care_team.ended", Outcome.SUCCESS, "person", str(person_id), {"member_id": str(member_id)}
        )
    )
    return True
