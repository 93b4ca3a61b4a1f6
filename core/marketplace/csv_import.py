"""CSV import of one provider's offers, for spreadsheets saved as CSV.

The file is UTF-8 with or without BOM (« CSV UTF-8 » of spreadsheet programs), its delimiter
``;`` or ``,`` (sniffed), one offer per row after a header row. Column names (:data:`COLUMNS`,
French :data:`ALIASES`) are case- and accent-insensitive; ``service_type``, ``title`` and
``coverage`` are required. Prices are read French style (« 25,50 », « 1 234,5 »), types and units
by code or French label. The columns are listed in ``docs/directory_exchange.md``.

Each row is checked by the console's rules (:meth:`OfferInput.checked`); every wrong cell is
reported with its line (the header is line 1) and nothing is written unless every row is good. A
row with an ``id`` updates that offer of the provider; without one, the provider's offer with the
same title (any case) is updated, else a new one is created (a draft unless ``status`` says
published), so importing a file twice changes nothing the second time. A column left out of the
file leaves that field of existing offers as it is.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import uuid
from dataclasses import dataclass

from core.errors import DomainError, Forbidden
from core.identity.directory_import import CsvRow, decode_csv_text
from core.marketplace.exchange import (
    INPUT_FIELDS,
    Importer,
    ImportProblem,
    ImportReport,
    PlannedOffer,
    ProgressCallback,
    apply_offers,
    file_problem,
)
from core.marketplace.offers import OfferInput, split_codes
from core.marketplace.search import UNIT_LABELS
from core.marketplace.taxonomy import taxonomy
from core.money import read_euros
from core.runtime import Runtime

COLUMNS = (
    "service_type",
    "title",
    "description",
    "price",
    "price_unit",
    "capacity_per_week",
    "lead_time_days",
    "opening_hours",
    "accepted_programmes",
    "languages",
    "accessibility",
    "coverage",
    "status",
    "id",
)
REQUIRED = ("service_type", "title", "coverage")
ALIASES = {
    "type": "service_type",
    "type_de_service": "service_type",
    "intitule": "title",
    "titre": "title",
    "prix": "price",
    "unite": "price_unit",
    "unite_du_prix": "price_unit",
    "capacite": "capacity_per_week",
    "capacite_par_semaine": "capacity_per_week",
    "delai": "lead_time_days",
    "delai_jours": "lead_time_days",
    "horaires": "opening_hours",
    "financements": "accepted_programmes",
    "programmes": "accepted_programmes",
    "langues": "languages",
    "accessibilite": "accessibility",
    "zone": "coverage",
    "communes": "coverage",
    "statut": "status",
    "identifiant": "id",
}
_STATUSES = {
    "brouillon": "draft",
    "draft": "draft",
    "publiee": "published",
    "publie": "published",
    "published": "published",
    "en_pause": "paused",
    "pause": "paused",
    "paused": "paused",
}
_SNIFF_CHARS = 16_384
_COLUMN_OF_FIELD = {"price_cents": "price"}
"""The column of an :class:`OfferInput` field, where their names differ."""


def _key(text: str) -> str:
    """A name as compared: unaccented, lower case, words joined by ``_`` (« Unité du prix »)."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
    return "_".join(re.findall(r"[a-z0-9]+", bare))


def _canonical(header: str) -> str:
    key = _key(header)
    return ALIASES.get(key, key)


def _types() -> dict[str, str]:
    found = {}
    for code, item in taxonomy().items():
        found[_key(code)] = code
        found[_key(item.label)] = code
    return found


_UNITS = {
    **{_key(code): code for code in UNIT_LABELS},
    **{_key(label): code for code, label in UNIT_LABELS.items()},
    "heures": "hour",
    "h": "hour",
}


@dataclass(frozen=True)
class OffersFile:
    """A decoded, split offers CSV; rows keyed by canonical column names."""

    delimiter: str
    headers: dict[str, str]
    """Canonical column name → the header as written in the file."""
    ignored: tuple[str, ...]
    rows: tuple[CsvRow, ...]

    def column(self, name: str) -> str:
        return self.headers.get(name, name)


def _header(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _delimiter(text: str) -> str:
    """``;`` or ``,``: the sniffer's guess, unless only the other one yields a ``title`` column."""
    first = next((line for line in text[:_SNIFF_CHARS].splitlines() if line.strip()), "")
    try:
        guess = csv.Sniffer().sniff(text[:_SNIFF_CHARS], delimiters=";,").delimiter
    except csv.Error:
        guess = ";" if first.count(";") > first.count(",") else ","
    for candidate in (guess, "," if guess == ";" else ";"):
        if "title" in {_canonical(name) for name in _header(first, candidate)}:
            return candidate
    return guess


def read_offers_csv(data: bytes) -> OffersFile:
    """Decode and split the file; :class:`DomainError` (in French) when it cannot be read at all."""
    text = decode_csv_text(data)
    if not text.strip():
        raise DomainError("le fichier est vide")
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        raw = [name.strip() for name in next(reader)]
        names = [_canonical(name) if name else "" for name in raw]
        headers: dict[str, str] = {}
        for name, written in zip(names, raw, strict=True):
            if name in COLUMNS:
                if name in headers:
                    raise DomainError(
                        f"les colonnes « {headers[name]} » et « {written} » disent la même chose"
                    )
                headers[name] = written
        missing = [name for name in REQUIRED if name not in headers]
        if missing:
            raise DomainError(
                f"colonne(s) obligatoire(s) manquante(s) : {', '.join(missing)} ; colonnes lues avec "
                f"le séparateur « {delimiter} » : {', '.join(filter(None, raw))}"
            )
        rows: list[CsvRow] = []
        end = reader.line_num
        for record in reader:
            start, end = end + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            cells = {name: value for name, value in zip(names, record, strict=False) if name in COLUMNS}
            extra = sum(1 for value in record[len(names) :] if value.strip())
            rows.append(CsvRow(start, cells, extra))
    except csv.Error as error:
        raise DomainError(f"CSV illisible ligne {reader.line_num} : {error}") from error
    ignored = tuple(
        written for name, written in zip(names, raw, strict=True) if written and name not in COLUMNS
    )
    return OffersFile(delimiter, headers, ignored, tuple(rows))


def _whole(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 6:
        raise ValueError(text)
    return int(text)


def _row(
    file: OffersFile, row: CsvRow
) -> tuple[OfferInput | None, str | None, uuid.UUID | None, list[ImportProblem]]:
    """The offer of one row, checked; or what is wrong with it."""
    where = f"ligne {row.line}"
    problems: list[ImportProblem] = []

    def problem(name: str, message: str) -> None:
        problems.append(ImportProblem(where, message, file.column(name), row.line))

    if row.extra_cells:
        problems.append(
            ImportProblem(
                where,
                f"{row.extra_cells} valeur(s) au-delà des colonnes de l'en-tête (séparateur "
                f"« {file.delimiter} » : vérifiez les guillemets)",
                "colonnes",
                row.line,
            )
        )
    raw_type = row.get("service_type").strip()
    service_type = _types().get(_key(raw_type), raw_type)
    if raw_type and service_type not in taxonomy():
        problem(
            "service_type",
            f"type de service inconnu « {raw_type} » (un code comme housekeeping, ou son libellé)",
        )
    price_cents = None
    try:
        price_cents = read_euros(row.get("price"))
    except ValueError:
        problem("price", "prix en euros, par exemple 25,50 (deux décimales au plus)")
    raw_unit = row.get("price_unit").strip()
    price_unit = _UNITS.get(_key(raw_unit), raw_unit) if raw_unit else None
    if raw_unit and price_unit not in UNIT_LABELS:
        problem("price_unit", f"unité inconnue « {raw_unit} » : {', '.join(UNIT_LABELS.values())}")
    numbers: dict[str, int | None] = {}
    for name, message in (
        ("capacity_per_week", "un nombre entier, ou rien"),
        ("lead_time_days", "un nombre de jours, de 0 à 90"),
    ):
        try:
            numbers[name] = _whole(row.get(name))
        except ValueError:
            problem(name, message)
    raw_status = row.get("status").strip()
    status = _STATUSES.get(_key(raw_status)) if raw_status else None
    if raw_status and status is None:
        problem("status", f"statut inconnu « {raw_status} » : brouillon, publiée ou en pause")
    offer_id = None
    if raw_id := row.get("id").strip():
        try:
            offer_id = uuid.UUID(raw_id)
        except ValueError:
            problem("id", f"identifiant d'offre invalide « {raw_id[:40]} »")
    data = OfferInput(
        service_type=service_type,
        title=row.get("title"),
        description=row.get("description"),
        price_cents=price_cents,
        price_unit=price_unit,
        capacity_per_week=numbers.get("capacity_per_week"),
        lead_time_days=numbers.get("lead_time_days") or 0,
        opening_hours=row.get("opening_hours"),
        accepted_programmes=split_codes(row.get("accepted_programmes")),
        languages=split_codes(row.get("languages")),
        accessibility=row.get("accessibility"),
        coverage=split_codes(row.get("coverage")),
    )
    try:
        data = data.checked()
    except DomainError as refused:
        reported = {p.field for p in problems}
        for error in refused.errors:
            if file.column(error.field) not in reported:
                problem(error.field, error.message)
    if problems:
        return None, None, None, problems
    return data, status, offer_id, []


async def import_csv(
    runtime: Runtime,
    importer: Importer,
    data: bytes,
    *,
    provider_id: uuid.UUID | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a CSV of offers for one provider: the importer's own, or ``provider_id`` (admins, CLI)."""
    report = ImportReport("csv")
    if importer.provider_id is not None and provider_id not in (None, importer.provider_id):
        raise Forbidden("vous n'importez que les offres de votre structure")
    provider = importer.provider_id or provider_id
    if provider is None:
        return report.refuse([file_problem("indiquez la structure dont le fichier décrit les offres")])
    try:
        file = read_offers_csv(data)
    except DomainError as error:
        return report.refuse([file_problem(error.detail)])
    report.total = len(file.rows)
    if not file.rows:
        return report.refuse([file_problem("aucune offre dans le fichier (seulement l'en-tête)")])
    keep = {name for name in INPUT_FIELDS if _COLUMN_OF_FIELD.get(name, name) not in file.headers}
    if "price_cents" in keep:
        keep.add("price_unit")
    plans: list[PlannedOffer] = []
    problems: list[ImportProblem] = []
    for row in file.rows:
        offer, status, offer_id, found = _row(file, row)
        problems += found
        if offer is None:
            continue
        plans.append(
            PlannedOffer(
                where=f"ligne {row.line}",
                provider_id=provider,
                data=offer,
                status=status,
                ids=(offer_id,) if offer_id else (),
                match_title=offer_id is None,
                must_exist=offer_id is not None,
                keep=frozenset(keep),
                line=row.line,
            )
        )
    if problems:
        return report.refuse(problems)
    return await apply_offers(runtime, importer, plans, report, on_progress=on_progress)
