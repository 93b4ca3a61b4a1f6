"""Every route declares who may use it; nothing private answers to a stranger."""

from __future__ import annotations

import re
import uuid

from litestar.routes import HTTPRoute

from web.authz import Policy, exempt_from_policy, policy_of

PARAM = re.compile(r"\{(\w+):(\w+)\}")


def http_handlers(app):
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                yield route.path, handler


def concrete(path: str, slug: str) -> str:
    def value(match: re.Match[str]) -> str:
        name, kind = match.groups()
        if name == "slug":
            return slug
        return str(uuid.uuid4()) if kind == "uuid" else "x"

    return PARAM.sub(value, path)


def test_every_route_has_an_explicit_policy(client):
    missing = [
        f"{sorted(handler.http_methods)} {path}"
        for path, handler in http_handlers(client.app)
        if policy_of(handler) is None and not exempt_from_policy(path, handler.http_methods)
    ]
    assert missing == []


def test_the_policy_list_covers_every_kind(client):
    kinds = {policy_of(h).kind for _, h in http_handlers(client.app) if policy_of(h)}
    assert kinds == {"public", "api", "authenticated", "permission"}


def test_strangers_are_sent_to_login_or_refused(client, tenant):
    """Without a session every non-public page redirects to login (GET) or is refused;
    without a token every API route answers 401."""
    client.cookies.clear()
    checked = 0
    for path, handler in http_handlers(client.app):
        policy: Policy | None = policy_of(handler)
        if policy is None or policy.kind == "public":
            continue
        url = concrete(path, tenant.slug)
        for method in sorted(handler.http_methods):
            response = client.request(method, url, follow_redirects=False)
            checked += 1
            if policy.kind == "api":
                assert response.status_code == 401, (method, url, response.status_code)
            elif method == "GET":
                assert response.status_code == 303, (method, url, response.status_code)
                assert response.headers["location"].startswith(f"/t/{tenant.slug}/login")
            else:
                assert response.status_code == 401, (method, url, response.status_code)
    assert checked >= 10


def test_an_undeclared_route_is_denied(client):
    """Deny by default: the guard refuses a handler that forgot its policy."""
    from litestar import Litestar, get
    from litestar.testing import TestClient

    from web.authz import authorize

    @get("/forgotten")
    async def forgotten() -> str:
        return "secret"

    with TestClient(Litestar([forgotten], guards=[authorize])) as bare:
        response = bare.get("/forgotten")
    assert response.status_code == 403
    assert "secret" not in response.text
