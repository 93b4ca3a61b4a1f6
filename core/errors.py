"""Domain errors; the web layer turns each into an RFC 9457 problem."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """A problem with one input field, named by its dotted path (``person.ins``)."""

    field: str
    message: str


class DomainError(Exception):
    """Base class: a refusal the caller can understand and fix."""

    status = 400
    title = "Requête refusée"
    slug = "bad-request"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class InvalidInput(DomainError):
    status = 422
    title = "Données invalides"
    slug = "validation-error"


class NotFound(DomainError):
    status = 404
    title = "Introuvable"
    slug = "not-found"


class Conflict(DomainError):
    status = 409
    title = "Conflit"
    slug = "conflict"


class IdempotencyKeyReused(DomainError):
    """The same Idempotency-Key was sent with a different body."""

    status = 422
    title = "Clé d'idempotence déjà utilisée"
    slug = "idempotency-key-reused"


class Forbidden(DomainError):
    """The caller is known but may not do this; ``detail`` says why."""

    status = 403
    title = "Accès refusé"
    slug = "forbidden"


class Gone(DomainError):
    """The resource existed and was erased (a person's file after erasure)."""

    status = 410
    title = "Effacé"
    slug = "gone"
