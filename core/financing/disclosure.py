"""What of a request a funder's agent may see, category by category.

Each fact of the situation belongs to one category of the person's data: identity and age are
administrative, the household, autonomy and needs social, resources and pensions funding data, the
attached files documents. A category consent refuses is simply absent (and the eligibility shown to
the agent then says the information is missing) — never guessed, never medical.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg
import msgspec

from core import locale
from core.consent.model import DataCategory
from core.db.connection import scoped_connection
from core.financing.requests import NEEDS_FIELD, SITUATION_FIELD
from core.financing.situation import HOUSEHOLD_LABELS, PENSION_SCHEME_LABELS, Situation
from core.records.file import DOCUMENT_TITLE_FIELD
from core.vault.service import PersonCipher

FIELD_CATEGORIES: dict[str, DataCategory] = {
    "age": DataCategory.ADMINISTRATIVE,
    "commune_insee": DataCategory.ADMINISTRATIVE,
    "household": DataCategory.SOCIAL,
    "lives_alone": DataCategory.SOCIAL,
    "gir": DataCategory.SOCIAL,
    "days_since_discharge": DataCategory.SOCIAL,
    "pension_scheme": DataCategory.FUNDING,
    "agirc_arrco": DataCategory.FUNDING,
    "income_min_cents": DataCategory.FUNDING,
    "income_max_cents": DataCategory.FUNDING,
    "has_mutuelle": DataCategory.FUNDING,
    "employer_contract": DataCategory.FUNDING,
}
"""The category of each field of :class:`Situation` (a test keeps it complete)."""


def restrict(situation: Situation, allowed: frozenset[DataCategory]) -> Situation:
    """The situation with the fields of refused categories unknown."""
    values = msgspec.structs.asdict(situation)
    return Situation(**{k: (v if FIELD_CATEGORIES[k] in allowed else None) for k, v in values.items()})


def _yes(value: bool) -> str:
    return "oui" if value else "non"


def income_words(situation: Situation) -> str | None:
    low, high = situation.income_min_cents, situation.income_max_cents
    if low is None and high is None:
        return None
    if low is not None and high is not None:
        return locale.money(low) if low == high else f"de {locale.money(low)} à {locale.money(high)}"
    if high is None and low is not None:
        return f"{locale.money(low)} ou plus"
    return f"moins de {locale.money(high or 0)}"


def facts(situation: Situation) -> dict[str, str]:
    """The known facts of a situation, labelled in French (unknown ones left out)."""
    shown: dict[str, str] = {}
    if situation.age is not None:
        shown["Âge"] = f"{situation.age} ans"
    if situation.commune_insee:
        shown["Commune (code INSEE)"] = situation.commune_insee
    if situation.household is not None:
        shown["Foyer"] = HOUSEHOLD_LABELS[situation.household]
    if situation.lives_alone is not None:
        shown["Vit seul(e)"] = _yes(situation.lives_alone)
    if situation.gir is not None:
        shown["GIR"] = str(situation.gir)
    if situation.days_since_discharge is not None:
        shown["Sortie d'hôpital"] = f"il y a {situation.days_since_discharge} jour(s)"
    if situation.pension_scheme is not None:
        shown["Retraite principale"] = PENSION_SCHEME_LABELS[situation.pension_scheme]
    if situation.agirc_arrco is not None:
        shown["Retraite complémentaire Agirc-Arrco"] = _yes(situation.agirc_arrco)
    if (income := income_words(situation)) is not None:
        shown["Ressources mensuelles du foyer"] = income
    if situation.has_mutuelle is not None:
        shown["Complémentaire santé (mutuelle)"] = _yes(situation.has_mutuelle)
    if situation.employer_contract is not None:
        shown["Contrat d'entreprise d'aide à l'hospitalisation"] = _yes(situation.employer_contract)
    return shown


@dataclass(frozen=True)
class Disclosed:
    person_label: str
    identity: dict[str, str]
    situation: Situation | None
    facts: dict[str, str]
    needs: str | None
    documents: tuple[tuple[uuid.UUID, str], ...]


async def disclose(
    cipher: PersonCipher, row: asyncpg.Record, allowed: frozenset[DataCategory], today: dt.date
) -> Disclosed:
    """The request ``row`` (with ``person_id``, ``situation_ciphertext``, ``needs_ciphertext``,
    ``document_ids``) cut down to ``allowed``, in the caller's tenant scope."""
    identity: dict[str, str] = {}
    label = ""
    if DataCategory.ADMINISTRATIVE in allowed:
        person = await scoped_connection().fetchrow(
            "SELECT given_names, family_name, birth_date, commune_insee FROM person WHERE id = $1",
            row["person_id"],
        )
        label = f"{person['given_names']} {person['family_name']}"
        identity = {"Nom": label}
        if person["birth_date"] is not None:
            identity["Date de naissance"] = locale.day(person["birth_date"])
        identity["Commune (code INSEE)"] = person["commune_insee"]
    situation = None
    if row["situation_ciphertext"] is not None:
        whole = msgspec.json.decode(
            cipher.decrypt(SITUATION_FIELD, row["situation_ciphertext"]), type=Situation
        )
        situation = restrict(whole, allowed)
    needs = None
    if DataCategory.SOCIAL in allowed and row["needs_ciphertext"] is not None:
        needs = cipher.decrypt_text(NEEDS_FIELD, row["needs_ciphertext"])
    documents: tuple[tuple[uuid.UUID, str], ...] = ()
    if DataCategory.DOCUMENTS in allowed and row["document_ids"]:
        found = await scoped_connection().fetch(
            "SELECT id, title_ciphertext FROM person_document WHERE person_id = $1 AND id = ANY($2::uuid[])",
            row["person_id"],
            list(row["document_ids"]),
        )
        documents = tuple(
            (doc["id"], cipher.decrypt_text(DOCUMENT_TITLE_FIELD, bytes(doc["title_ciphertext"])))
            for doc in found
        )
    return Disclosed(label, identity, situation, facts(situation) if situation else {}, needs, documents)
