"""What every page form shares once it succeeded."""

from __future__ import annotations

from litestar.datastructures import FormMultiDict
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect

from core.errors import DomainError


def done(request: HTMXRequest, url: str) -> Redirect | ClientRedirect:
    """After a successful form: a 303 for a plain browser, a client-side redirect for htmx
    (htmx would otherwise follow the 303 itself and swap the whole page into the form)."""
    return ClientRedirect(url) if request.htmx else Redirect(url, status_code=303)


def is_fragment(request: HTMXRequest) -> bool:
    """An htmx request swapping part of the page — not a boosted page load, nor a history restore
    (both expect the whole page)."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def field_errors(error: DomainError) -> dict[str, str]:
    """Field errors of a refusal, by field; the rest (a conflict, a refused access) under ``form``."""
    found = {e.field: e.message for e in error.errors}
    return found or {"form": error.detail}


def form_text(form: FormMultiDict, name: str) -> str:
    """A text field of a posted form ("" when absent or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def form_texts(form: FormMultiDict, name: str) -> list[str]:
    """Every text value of a repeated field (checkboxes, multiple selects)."""
    return [value for value in form.getall(name, []) if isinstance(value, str)]
