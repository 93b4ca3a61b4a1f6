"""Downloading my data (RGPD art. 15 and 20): JSON and a PDF summary.

``GET /t/{slug}/mon-dossier/export.json`` and ``…/export.pdf``, for the person and their carers
(permission ``portal``). The person is chosen as on every portal page
(``core.records.portal.choose_person``): ``?personne=<uuid>`` among the people the user manages,
by default her own record, or for a carer the person of her oldest active carer link; anyone else
is « not found », whether they exist or not. What a carer gets is decided category by category in
``core.records.export``. Answers are attachments that no cache keeps.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from core.access.policy import Actor, Permission
from core.locale import TIME_ZONE
from core.records.export import export_file
from core.records.export_pdf import render_pdf
from core.records.portal import choose_person
from core.runtime import Runtime
from web.authz import requires

PORTAL = requires(Permission.PORTAL).opt()


def _download(content: bytes, media_type: str, generated_at: str, extension: str) -> Response[bytes]:
    """An attachment named after the generation date only (no name of the person in the file name)."""
    day = datetime.fromisoformat(generated_at).astimezone(TIME_ZONE).date().isoformat()
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="parcours-dossier-{day}.{extension}"',
            "Cache-Control": "no-store",
            "Pragma": "no-cache",
        },
    )


async def _document(runtime: Runtime, actor: Actor, personne: str | None, fmt: str) -> dict[str, Any]:
    subject, _ = await choose_person(actor, personne)
    return await export_file(runtime, actor, subject.id, fmt=fmt)


@get("/t/{slug:str}/mon-dossier/export.json", opt=PORTAL, include_in_schema=False)
async def export_json(
    runtime: NamedDependency[Runtime], actor: NamedDependency[Actor], personne: FromQuery[str | None] = None
) -> Response[bytes]:
    """The whole copy, machine-readable (portability)."""
    document = await _document(runtime, actor, personne, "json")
    body = json.dumps(document, ensure_ascii=False, indent=2).encode()
    return _download(body, "application/json; charset=utf-8", document["generated_at"], "json")


@get("/t/{slug:str}/mon-dossier/export.pdf", opt=PORTAL, include_in_schema=False)
async def export_pdf(
    runtime: NamedDependency[Runtime], actor: NamedDependency[Actor], personne: FromQuery[str | None] = None
) -> Response[bytes]:
    """« Mon dossier Parcours », a summary to read and print."""
    document = await _document(runtime, actor, personne, "pdf")
    body = await asyncio.to_thread(render_pdf, document)
    return _download(body, "application/pdf", document["generated_at"], "pdf")


EXPORT_PAGES: list[Any] = [export_json, export_pdf]
