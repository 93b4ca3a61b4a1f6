"""The page behind a single-purpose link, for a recipient without an account (a pharmacist, a home-help
provider): see the action asked of them and answer it.

Public routes (``PUBLIC``): the token in the path is the secret, so there is no session and no
session CSRF token; what the token allows is decided by ``core.proposals.links`` (one proposal, the
moves a link may make, never cancel; the person named only if consent allows). An unknown token is a
friendly 404 page, an expired or revoked one a 410 page asking for a new link. A move answers with a
303 back to the page and a confirmation; a conflict (someone was faster, or the page was stale) shows
the page again with the reason (409), a missing reason inline (422).

Every answer carries ``Cache-Control: no-store``, ``Referrer-Policy: no-referrer`` (the token is in
the address: no outgoing link may leak it) and ``X-Robots-Tag: noindex``. Posts are rate-limited per
client address. The forms post as plain forms (``hx-boost="false"``): the app's htmx configuration
does not swap a 409 or a 403, which these pages must show.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from core.errors import Conflict, DomainError, Forbidden, Gone, InvalidInput, NotFound
from core.events.catalogue import tenant_catalogue
from core.proposals.lifecycle import LINK_MOVES, MOVE_LABELS, NEEDS_REASON, Move, reasons_for
from core.proposals.links import LinkView, act_through_link, link_view, open_link
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import PUBLIC
from web.pages.nav import navigation

BASE = "/t/{slug:str}/lien/{token:str}"
LINK_POSTS_PER_MINUTE = 30
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}
DONE_MESSAGES: dict[Move, str] = {
    Move.ACKNOWLEDGE: "Merci : la coordination sait que vous avez pris connaissance de la demande.",
    Move.ACCEPT: "Merci : vous avez accepté cette action ; la coordination en est informée.",
    Move.REJECT: "Votre refus a été transmis à la coordination, avec son motif.",
    Move.START: "L'action est indiquée comme démarrée.",
    Move.COMPLETE: "Merci : l'action est indiquée comme réalisée.",
    Move.FAIL: "L'action est indiquée comme non réalisée ; la coordination en est informée.",
}
NO_CANCEL = (
    "Ce lien ne permet pas cette opération : seule la coordination peut annuler une action. "
    "Si elle ne vous concerne pas, refusez-la en indiquant le motif."
)

link_rate_limit = RateLimitConfig(
    rate_limit=("minute", LINK_POSTS_PER_MINUTE),
    store="link_rate_limit",
    set_rate_limit_headers=False,
)
"""At most ``LINK_POSTS_PER_MINUTE`` answers a minute from one address (then 429); a store of its own,
so these posts and the logins are counted apart."""


def _move(value: str) -> Move | None:
    try:
        return Move(value)
    except ValueError:
        return None


async def _gone_page(request: Request[Any, Any, Any], tenant: TenantRecord, error: DomainError) -> Template:
    """« Lien inconnu » (404) or « lien expiré / retiré » (410), with what to do next."""
    return Template(
        "links/gone.html",
        context={
            **await navigation(request, tenant),
            "tenant": tenant,
            "status": error.status,
            "detail": error.detail,
        },
        status_code=error.status,
        headers=HEADERS,
    )


async def _page(
    request: Request[Any, Any, Any],
    tenant: TenantRecord,
    runtime: Runtime,
    token: str,
    *,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
    failed: Move | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    """The link's page as its recipient may see it now (or the 404 / 410 page)."""
    try:
        grant = await open_link(runtime, tenant.id, token)
        view = await link_view(
            runtime, tenant.id, grant, await tenant_catalogue(runtime.plugins, tenant.enabled_plugins)
        )
    except (NotFound, Gone) as missing:
        return await _gone_page(request, tenant, missing)
    return Template(
        "links/page.html",
        context={
            **await navigation(request, tenant),
            "tenant": tenant,
            "view": view,
            "moves": _moves(view),
            "action_base": f"/t/{tenant.slug}/lien/{quote(token, safe='')}",
            "notice": notice,
            "error": error,
            "failed": failed.value if failed else None,
            "values": values or {},
            "errors": errors or {},
        },
        status_code=status,
        headers=HEADERS,
    )


def _moves(view: LinkView) -> list[dict[str, Any]]:
    """The buttons of the page: each allowed move, with its reasons when it needs one."""
    return [
        {
            "value": move.value,
            "label": MOVE_LABELS[move],
            "reasons": list(reasons_for(move).items()) if move in NEEDS_REASON else [],
        }
        for move in view.moves
    ]


@get(BASE, opt=PUBLIC.opt(), include_in_schema=False)
async def link_page(
    request: Request[Any, Any, Any],
    token: FromPath[str],
    tenant: NamedDependency[TenantRecord],
    runtime: NamedDependency[Runtime],
    fait: FromQuery[str | None] = None,
) -> Template:
    """The action asked of the link's recipient, and the buttons to answer it."""
    done = _move(fait or "")
    return await _page(request, tenant, runtime, token, notice=DONE_MESSAGES.get(done) if done else None)


def _field(form: FormMultiDict, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


@post(
    BASE + "/{move:str}",
    opt=PUBLIC.opt(),
    include_in_schema=False,
    status_code=200,
    middleware=[link_rate_limit.middleware],
)
async def link_act(
    request: Request[Any, Any, Any],
    token: FromPath[str],
    move: FromPath[str],
    tenant: NamedDependency[TenantRecord],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect:
    """Answer through the link: acknowledge, accept, refuse (with a reason), start, complete, fail."""
    what = _move(move)
    if what is None or what not in LINK_MOVES:
        return await _page(request, tenant, runtime, token, status=403, error=NO_CANCEL)
    form = await request.form()
    values = {"reason": _field(form, "reason"), "note": _field(form, "note")}
    version: int | None = None
    raw_version = _field(form, "version")
    try:
        version = int(raw_version) if raw_version else None
    except ValueError:
        version = -1  # a tampered page: refused as a stale one
    try:
        await act_through_link(
            runtime,
            tenant.id,
            token,
            what,
            version=version,
            reason_code=values["reason"] or None,
            note=values["note"],
        )
    except (NotFound, Gone) as missing:
        return await _gone_page(request, tenant, missing)
    except Conflict as conflict:
        return await _page(request, tenant, runtime, token, status=409, error=conflict.detail)
    except InvalidInput as invalid:
        errors = {e.field: e.message for e in invalid.errors}
        return await _page(
            request,
            tenant,
            runtime,
            token,
            status=422,
            error=invalid.detail,
            failed=what,
            values=values,
            errors=errors,
        )
    except Forbidden as forbidden:
        return await _page(request, tenant, runtime, token, status=403, error=forbidden.detail)
    return Redirect(
        f"/t/{tenant.slug}/lien/{quote(token, safe='')}?fait={what.value}", status_code=303, headers=HEADERS
    )


LINKS_PAGES: list[Any] = [link_page, link_act]
