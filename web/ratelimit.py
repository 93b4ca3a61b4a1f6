"""Rate limiting of the login endpoints, per client address."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig

LOGIN_PATH_MARKERS = ("/login", "/auth/callback", "/idp/authorize")


def _is_login(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return any(marker in path for marker in LOGIN_PATH_MARKERS)


def login_rate_limit(per_minute: int) -> RateLimitConfig:
    """At most ``per_minute`` login requests a minute from one address (then 429)."""
    return RateLimitConfig(
        rate_limit=("minute", per_minute),
        check_throttle_handler=_is_login,
        set_rate_limit_headers=True,
    )
