"""Errors as RFC 9457 problem details (API) or a French error page (pages)."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY, HTTP_500_INTERNAL_SERVER_ERROR

from core.errors import DomainError
from web.authz import LoginRequired, RoleChoiceRequired

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "/problems/"

_TITLES = {
    400: "Requête invalide",
    401: "Authentification requise",
    403: "Accès refusé",
    404: "Introuvable",
    405: "Méthode non autorisée",
    409: "Conflit",
    413: "Requête trop volumineuse",
    415: "Type de contenu non pris en charge",
    422: "Données invalides",
    429: "Trop de requêtes",
    500: "Erreur interne",
}


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    if "/api/" in path or "/oauth/" in path or path.startswith("/schema"):
        return False
    return "text/html" in request.headers.get("accept", "")


def problem(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    title = title or _TITLES.get(status, "Erreur")
    if _wants_html(request):
        return Template(
            "error.html",
            context={"status": status, "title": title, "detail": detail, "errors": errors or []},
            status_code=status,
            headers=headers,
        )
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (slug or str(status)),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = errors
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def domain_error_handler(request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    return problem(
        request,
        error.status,
        error.detail,
        slug=error.slug,
        title=error.title,
        errors=[{"field": e.field, "message": e.message} for e in error.errors],
    )


_MISSING = re.compile(r"Missing required (header|query|path|cookie) parameter '([^']+)'")


def _field_errors(error: ValidationException) -> list[dict[str, str]]:
    errors = []
    for item in error.extra if isinstance(error.extra, list) else []:
        if isinstance(item, dict):
            key = str(item.get("key") or item.get("source") or "body")
            errors.append({"field": key, "message": str(item.get("message", ""))})
    missing = _MISSING.search(error.detail or "")
    if missing:
        kind = "en-tête" if missing.group(1) == "header" else "paramètre"
        errors.append({"field": missing.group(2), "message": f"{kind} obligatoire"})
    return errors


def validation_error_handler(request: Request[Any, Any, Any], error: ValidationException) -> Response[Any]:
    errors = _field_errors(error)
    detail = "certains champs sont invalides ou manquants" if errors else error.detail
    return problem(request, HTTP_422_UNPROCESSABLE_ENTITY, detail, slug="validation-error", errors=errors)


def _login_redirect(request: Request[Any, Any, Any], error: LoginRequired) -> Response[Any] | None:
    """Pages send an unauthenticated visitor to the tenant's login page (htmx: HX-Redirect)."""
    if error.slug is None or "/api/" in request.url.path:
        return None
    target = f"/t/{error.slug}/login?next={quote(error.next_path)}"
    if request.headers.get("hx-request"):
        return Response(None, status_code=401, headers={"HX-Redirect": target})
    if request.method == "GET":
        return Redirect(target, status_code=303)
    return None


def http_error_handler(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    if isinstance(error, LoginRequired):
        redirect = _login_redirect(request, error)
        if redirect is not None:
            return redirect
    if isinstance(error, RoleChoiceRequired) and request.method == "GET":
        return Redirect(f"/t/{error.slug}/compte/choisir?next={quote(error.next_path)}", status_code=303)
    status = error.status_code
    detail = error.detail if status < 500 else "erreur interne"
    slug = None
    if isinstance(error, NotFoundException) and detail == "Not Found":
        detail = "cette adresse n'existe pas"
    elif status == 400 and "json" in request.headers.get("content-type", ""):
        # The body could not be decoded (msgspec's message says where).
        detail = f"le corps de la requête n'est pas un JSON valide ({error.detail})"
        slug = "malformed-body"
    return problem(request, status, detail, slug=slug, headers=error.headers)


def internal_error_handler(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return problem(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "une erreur interne est survenue ; elle a été journalisée",
    )


EXCEPTION_HANDLERS = {
    DomainError: domain_error_handler,
    ValidationException: validation_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "MediaType", "problem"]
