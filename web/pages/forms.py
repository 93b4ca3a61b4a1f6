"""What every page form shares once it succeeded."""

from __future__ import annotations

from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect


def done(request: HTMXRequest, url: str) -> Redirect | ClientRedirect:
    """After a successful form: a 303 for a plain browser, a client-side redirect for htmx
    (htmx would otherwise follow the 303 itself and swap the whole page into the form)."""
    return ClientRedirect(url) if request.htmx else Redirect(url, status_code=303)
