"""The main menu of a territory's pages: what the signed-in user's role allows, asked of the policy.

Every page extending ``tenant_base.html`` passes ``**await navigation(request, tenant)`` in its
context: the menu items (``nav``), the account and the CSRF token of the logout form. Templates hold
no role lists; an item appears when :func:`core.access.policy.decide` grants its permission.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request

from core.access.policy import Actor, Permission, decide
from core.notifications.service import unread_count
from core.tenancy.service import TenantRecord
from web.authz import RoleChoiceRequired, actor_for, current_session


@dataclass(frozen=True)
class NavItem:
    """One link of the menu; ``current`` marks the page being shown (``aria-current``)."""

    label: str
    href: str
    current: bool = False
    badge: int | None = None
    """A count shown beside the label (unread notifications)."""
    badge_label: str = ""
    """What the count means, for screen readers."""


MENU: tuple[tuple[str, str, Permission], ...] = (
    ("Actions", "actions", Permission.PROPOSALS),
    ("Personnes", "personnes", Permission.PERSON_FILES),
    ("Mon dossier", "mon-dossier", Permission.PORTAL),
    ("Financements", "financements", Permission.FUNDING),
    ("Mes offres", "prestataire", Permission.OFFERS),
    ("Modération des offres", "admin/offres", Permission.OFFERS_MODERATE),
    ("Demandes à instruire", "financeur", Permission.FUNDING_DECIDE),
    ("Suivi du territoire", "suivi", Permission.FOLLOW_UP),
    ("Protection des données", "dpo", Permission.AUDIT_REVIEW),
    ("Administration", "admin/", Permission.TENANT_ADMIN),
)
"""Label, path under ``/t/{slug}/`` and the permission that shows it, in menu order. The page shown
marks the item with the longest matching path (« Modération des offres », not « Administration »)."""

PUBLIC_MENU: tuple[tuple[str, str], ...] = (("Services", "services"),)
"""Label and path of the items everyone sees, signed in or not (public pages), after « Accueil »."""


def menu_items(actor: Actor | None, tenant: TenantRecord, path: str, unread: int = 0) -> list[NavItem]:
    """The items ``actor`` may use in ``tenant``; ``path`` is the page shown."""
    base = f"/t/{tenant.slug}/"
    items = [NavItem("Accueil", base, current=path == base)]
    for label, suffix in PUBLIC_MENU:
        items.append(NavItem(label, base + suffix, current=path.startswith(base + suffix)))
    allowed = [
        (label, base + suffix)
        for label, suffix, permission in MENU
        if decide(actor, permission, tenant.id).allowed
    ]
    here = max((href for _, href in allowed if path.startswith(href.rstrip("/"))), key=len, default=None)
    items += [NavItem(label, href, current=href == here) for label, href in allowed]
    if decide(actor, Permission.WORKSPACE, tenant.id).allowed:
        href = base + "notifications"
        items.append(
            NavItem(
                "Notifications",
                href,
                current=path == href,
                badge=unread or None,
                badge_label=f"{unread} non lue{'s' if unread > 1 else ''}",
            )
        )
        items.append(NavItem("Mon profil", base + "moi", current=path == base + "moi"))
    return items


async def _actor(request: Request[Any, Any, Any], tenant: TenantRecord) -> Actor | None:
    """The actor the guard authorised; on public pages, the session's role here, if any."""
    actor: Actor | None = request.state.get("actor")
    if actor is not None:
        return actor
    session = await current_session(request)
    if session is None:
        return None
    try:
        return await actor_for(session, tenant, request.url.path)
    except RoleChoiceRequired:
        return None  # several roles and none chosen yet: the choice page comes first


async def navigation(request: Request[Any, Any, Any], tenant: TenantRecord) -> dict[str, Any]:
    """Context for ``tenant_base.html``: ``nav``, ``account`` and ``csrf`` (the last two None when
    nobody is signed in)."""
    session = await current_session(request)
    actor = await _actor(request, tenant) if session is not None else None
    unread = 0
    if actor is not None and decide(actor, Permission.WORKSPACE, tenant.id).allowed:
        unread = await unread_count(tenant.id, actor.user_id)
    return {
        "nav": menu_items(actor, tenant, request.url.path, unread),
        "account": session.account if session else None,
        "csrf": session.csrf_token if session else None,
    }
