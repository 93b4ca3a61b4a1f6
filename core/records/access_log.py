"""The person's access log, in French sentences: who looked at what, when, why, and whether allowed.

Read from the audit trail (entries whose target is the person). The decisions of one request
(the five categories of a file view) are grouped into one line. Break-glass accesses are flagged,
with their justification decrypted for the person only.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from core.access.policy import Actor as SessionActor
from core.consent.access import BREAK_GLASS_FIELD, ensure_person
from core.consent.model import CATEGORY_LABELS, PURPOSE_LABELS, DataCategory, Purpose
from core.consent.service import manager_basis
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.identity.roles import ROLE_LABELS, Role
from core.runtime import Runtime
from core.vault.service import KeyErased

_VERBS = {
    ("person.read", "allowed"): "a consulté",
    ("person.read", "denied"): "a tenté de consulter (accès refusé)",
    ("person.write", "allowed"): "a complété",
    ("person.write", "denied"): "a tenté de compléter (accès refusé)",
}
_EVENTS = {
    "consent.recorded": "a enregistré un consentement",
    "consent.revoked": "a retiré un consentement",
    "consent.requested": "a demandé un consentement",
    "consent.request_answered": "a répondu à une demande de consentement",
    "break_glass.declared": "a déclaré un accès en urgence (bris de glace)",
    "note.added": "a ajouté une note",
    "document.added": "a ajouté un document",
    "person.exported": "a téléchargé une copie du dossier",
}

_ACTOR_KINDS = {
    "operator": "L'exploitant de la plateforme",
    "system": "Parcours (traitement automatique)",
    "api_client": "Un système partenaire",
}


@dataclass(frozen=True)
class LogLine:
    at: dt.datetime
    who: str
    acting_for: str
    sentence: str
    allowed: bool
    break_glass: bool
    justification: str | None = None


async def access_log(
    runtime: Runtime, actor: SessionActor, person_id: uuid.UUID, limit: int = 300
) -> list[LogLine]:
    """The person's log, newest first; for the person and their carers."""
    assert actor.tenant_id is not None
    async with tenant_scope(actor.tenant_id):
        await ensure_person(person_id)
        await manager_basis(actor, person_id, runtime.clock())
        rows = await scoped_connection().fetch(
            "SELECT e.seq, e.occurred_at, e.actor_kind, e.actor_id, e.acting_for, e.action, e.outcome, "
            "e.detail, u.display_name, o.name AS organisation_name FROM audit_entry e "
            "LEFT JOIN user_account u ON e.actor_kind = 'user' AND u.id::text = e.actor_id "
            "LEFT JOIN organisation o ON o.id::text = split_part(e.acting_for, ':', 2) "
            "WHERE e.target_kind = 'person' AND e.target_id = $1 ORDER BY e.seq DESC LIMIT $2",
            str(person_id),
            limit,
        )
        justifications = await _justifications(runtime, person_id, rows)
    return _lines(rows, actor.user_id, justifications)


async def _justifications(runtime: Runtime, person_id: uuid.UUID, rows: list[Any]) -> dict[str, str]:
    ids = {json.loads(row["detail"]).get("break_glass_id") for row in rows} - {None}
    if not ids:
        return {}
    try:
        cipher = await runtime.vault.person_cipher(person_id)
    except KeyErased:
        return {}
    found = await scoped_connection().fetch(
        "SELECT id, justification_ciphertext FROM break_glass WHERE id = ANY($1::uuid[])", list(ids)
    )
    return {
        str(row["id"]): cipher.decrypt_text(BREAK_GLASS_FIELD, bytes(row["justification_ciphertext"]))
        for row in found
    }


def _lines(rows: list[Any], viewer: uuid.UUID, justifications: dict[str, str]) -> list[LogLine]:
    lines: list[LogLine] = []
    group_key: tuple[Any, ...] | None = None
    categories: list[str] = []
    for row in rows:
        detail = json.loads(row["detail"])
        who = "Vous" if row["actor_id"] == str(viewer) else _who(row)
        role = (row["acting_for"] or "").split(":")[0]
        acting_for = row["organisation_name"] or (ROLE_LABELS[Role(role)] if role in set(Role) else "")
        break_glass_id = detail.get("break_glass_id")
        key = (
            row["actor_id"],
            row["action"],
            row["outcome"],
            detail.get("decided_at"),
            detail.get("purpose"),
        )
        if row["action"] in ("person.read", "person.write"):
            category = CATEGORY_LABELS[DataCategory(detail["category"])]
            if key == group_key and lines:
                categories.append(category)
                lines[-1] = _with_categories(lines[-1], row, detail, categories)
                continue
            group_key, categories = key, [category]
            line = LogLine(
                row["occurred_at"],
                who,
                acting_for,
                "",
                row["outcome"] == "allowed",
                break_glass_id is not None,
                justifications.get(break_glass_id) if break_glass_id else None,
            )
            lines.append(_with_categories(line, row, detail, categories))
            continue
        group_key = None
        lines.append(
            LogLine(
                row["occurred_at"],
                who,
                acting_for,
                _EVENTS.get(row["action"], row["action"]),
                True,
                row["action"] == "break_glass.declared",
                justifications.get(break_glass_id) if break_glass_id else None,
            )
        )
    return [_conjugate(line) for line in lines]


def _who(row: Any) -> str:
    if row["display_name"]:
        return str(row["display_name"])
    return _ACTOR_KINDS.get(row["actor_kind"], "Un système partenaire")


def _conjugate(line: LogLine) -> LogLine:
    """« Vous avez consulté… » rather than « Vous a consulté… »."""
    if line.who != "Vous" or not line.sentence.startswith("a "):
        return line
    return LogLine(
        line.at,
        line.who,
        line.acting_for,
        "avez " + line.sentence[2:],
        line.allowed,
        line.break_glass,
        line.justification,
    )


def _with_categories(line: LogLine, row: Any, detail: dict[str, str], categories: list[str]) -> LogLine:
    verb = _VERBS[(row["action"], row["outcome"])]
    listed = categories[0] if len(categories) == 1 else ", ".join(categories[:-1]) + " et " + categories[-1]
    purpose = PURPOSE_LABELS[Purpose(detail["purpose"])]
    sentence = f"{verb} vos {listed}, pour {purpose}"
    return LogLine(
        line.at, line.who, line.acting_for, sentence, line.allowed, line.break_glass, line.justification
    )
