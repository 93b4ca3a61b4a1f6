"""CSV import of a tenant's directory: organisations and professionals, all checked before any write.

One file holds both kinds of rows, told apart by the ``type`` column
(``organisation`` or ``professional``; ``professionnel`` is accepted). The file
is UTF-8 (with or without BOM), its delimiter ``;`` or ``,``; column names are
case-insensitive. Line numbers are those of the file, the header being line 1.

- Organisation rows: ``kind`` (an ``OrganisationKind`` value or its French
  label), ``name``, ``finess_ej``, ``finess_et``, ``siret``, ``commune_insee``,
  ``email`` — checked by ``check_organisation``.
- Professional rows: ``profession``, ``family_name``, ``given_names``, ``rpps``,
  ``adeli``, ``email`` — checked by ``check_professional``. Professionals are
  only created: no membership, so an ``organisation`` column is ignored (and
  reported as such, like any unknown column).

Every row is validated first. A later row repeating an earlier row's RPPS,
ADELI, FINESS ET or SIRET is an error. A row already present in the tenant is
skipped, which makes re-importing a file harmless:

- an organisation with the same FINESS ET or SIRET, or the same name
  (case-insensitive) unless their FINESS ET or SIRET differ;
- a professional with the same RPPS or ADELI; one without either, when a
  professional with the same profession and names (case-insensitive) exists.

Then, in one transaction (``tenant_scope``): in ``all_or_nothing`` mode (the
default) nothing is written if any row is bad; in ``partial`` mode the good rows
are written and the bad ones reported. Imports of one tenant are serialised by
a transaction-level advisory lock.
"""

from __future__ import annotations

import codecs
import csv
import io
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import asyncpg
from piccolo.columns import Varchar
from piccolo.table import Table

from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Conflict, FieldError, InvalidInput
from core.identity.directory import check_organisation, check_professional
from core.identity.directory_tables import Organisation, Professional
from core.identity.roles import ORGANISATION_LABELS, OrganisationKind

__all__ = [
    "ORGANISATION_COLUMNS",
    "PROFESSIONAL_COLUMNS",
    "CheckedRow",
    "CsvRow",
    "DirectoryFile",
    "DirectoryFileError",
    "ImportMode",
    "ImportReport",
    "ProgressCallback",
    "RowError",
    "check_rows",
    "import_directory",
    "read_directory_csv",
]

ORGANISATION = "organisation"
PROFESSIONAL = "professional"

ORGANISATION_COLUMNS: tuple[str, ...] = (
    "kind",
    "name",
    "finess_ej",
    "finess_et",
    "siret",
    "commune_insee",
    "email",
)
PROFESSIONAL_COLUMNS: tuple[str, ...] = ("profession", "family_name", "given_names", "rpps", "adeli", "email")
_REQUIRED: dict[str, tuple[str, ...]] = {
    ORGANISATION: ("kind", "name"),
    PROFESSIONAL: ("profession", "family_name", "given_names"),
}
_KNOWN_COLUMNS = frozenset({"type", *ORGANISATION_COLUMNS, *PROFESSIONAL_COLUMNS})
_TYPES: dict[str, str] = {
    "organisation": ORGANISATION,
    "organization": ORGANISATION,
    "professional": PROFESSIONAL,
    "professionnel": PROFESSIONAL,
}
_KIND_LABELS: dict[str, str] = {
    **{kind.value: kind.value for kind in OrganisationKind},
    **{label.casefold(): kind.value for kind, label in ORGANISATION_LABELS.items()},
}
_DUPLICATE_LABELS: dict[str, str] = {
    "rpps": "numéro RPPS",
    "adeli": "numéro ADELI",
    "finess_et": "FINESS géographique",
    "siret": "SIRET",
}
_SNIFF_CHARS = 16_384
_BATCH = 1_000
_PROGRESS_EVERY = 100

ProgressCallback = Callable[[int, int], None]
"""``on_progress(done, total)``: ``total`` is twice the number of rows (validation, then writing)."""


class ImportMode(StrEnum):
    ALL_OR_NOTHING = "all_or_nothing"
    """Write every row, or nothing at all if one is bad (the default)."""
    PARTIAL = "partial"
    """Write the good rows and report the bad ones."""


class DirectoryFileError(InvalidInput):
    """The file as a whole cannot be imported (encoding, delimiter, columns): nothing was read."""


@dataclass(frozen=True)
class RowError:
    """One problem with one cell (or the whole row) at a line of the file (the header is line 1)."""

    line: int
    field: str
    message: str


@dataclass(frozen=True)
class CsvRow:
    """One record of the file: the line it starts on and its cells by (lower-case) column name."""

    line: int
    cells: dict[str, str]
    extra_cells: int = 0
    """How many non-empty cells the row has beyond the header's columns."""

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass(frozen=True)
class DirectoryFile:
    """A decoded, split CSV file, its required columns present; rows not yet validated."""

    delimiter: str
    columns: tuple[str, ...]
    ignored_columns: tuple[str, ...]
    """Columns the import does not know (typos, ``organisation``…); their cells are not read."""
    rows: tuple[CsvRow, ...]


@dataclass
class ImportReport:
    """What an import did, or would have done, and every row error."""

    mode: ImportMode
    total_rows: int
    created_organisations: int = 0
    created_professionals: int = 0
    skipped_organisations: int = 0
    """Organisations already in the tenant: left as they are."""
    skipped_professionals: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: bool = False
    """True when the rows to create were committed (possibly none); False when nothing was written."""
    ignored_columns: tuple[str, ...] = ()

    @property
    def skipped(self) -> int:
        return self.skipped_organisations + self.skipped_professionals

    @property
    def rejected_lines(self) -> list[int]:
        """The line numbers of the bad rows, in order, each once."""
        return sorted({error.line for error in self.errors})

    @property
    def ok(self) -> bool:
        """True when every row was valid."""
        return not self.errors


@dataclass(frozen=True)
class CheckedRow:
    """A valid row: its line, ``organisation`` or ``professional``, and its normalised values."""

    line: int
    type: str
    values: dict[str, str | None]


# --- reading ---------------------------------------------------------------------------------------


def _file_error(detail: str, field_name: str = "fichier") -> DirectoryFileError:
    return DirectoryFileError(detail, [FieldError(field_name, detail)])


def decode_csv_text(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _file_error(
            "le fichier est encodé en UTF-16 : enregistrez-le au format « CSV UTF-8 » "
            "(séparateur point-virgule ou virgule)",
            "encodage",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise _file_error(
            f"le fichier n'est pas encodé en UTF-8 (octet invalide ligne {line}) : "
            "enregistrez-le au format « CSV UTF-8 »",
            "encodage",
        ) from error
    if "\x00" in text:
        raise _file_error(
            "le fichier contient des caractères nuls (UTF-16 sans BOM ?) : "
            "enregistrez-le au format « CSV UTF-8 »",
            "encodage",
        )
    return text


def _header_columns(line: str, delimiter: str) -> list[str]:
    header = next(csv.reader([line], delimiter=delimiter), [])
    return [name.strip().lower() for name in header]


def _delimiter(text: str) -> str:
    """``;`` or ``,``: the sniffer's guess, unless only the other one yields a ``type`` column."""
    first_line = next((line for line in text[:_SNIFF_CHARS].splitlines() if line.strip()), "")
    try:
        guess = csv.Sniffer().sniff(text[:_SNIFF_CHARS], delimiters=";,").delimiter
    except csv.Error:
        guess = ";" if first_line.count(";") > first_line.count(",") else ","
    other = "," if guess == ";" else ";"
    for candidate in (guess, other):
        if "type" in _header_columns(first_line, candidate):
            return candidate
    return guess


def read_directory_csv(data: bytes) -> DirectoryFile:
    """Decode and split a directory CSV; raise ``DirectoryFileError`` if the file cannot be imported.

    Checked here, for the whole file: the encoding, the header (a ``type``
    column, no column named twice) and the columns the present row types need.
    The cells themselves are checked by ``check_rows``.
    """
    text = decode_csv_text(data)
    if not text.strip():
        raise _file_error("le fichier est vide")
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader)]
        seen: set[str] = set()
        for name in header:
            if name and name in seen:
                raise _file_error(f"la colonne « {name} » apparaît deux fois dans l'en-tête", name)
            seen.add(name)
        if "type" not in seen:
            raise _file_error(
                "colonne obligatoire manquante : type (organisation ou professionnel) ; "
                f"colonnes lues avec le séparateur « {delimiter} » : {', '.join(filter(None, header))}",
                "type",
            )
        rows: list[CsvRow] = []
        end = reader.line_num
        for record in reader:
            start, end = end + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            cells = {name: value for name, value in zip(header, record, strict=False) if name}
            extra = sum(1 for value in record[len(header) :] if value.strip())
            rows.append(CsvRow(start, cells, extra))
    except csv.Error as error:
        raise _file_error(f"CSV illisible ligne {reader.line_num} : {error}") from error
    present = {_TYPES.get(row.get("type").strip().lower()) for row in rows}
    missing = [
        column
        for row_type in (ORGANISATION, PROFESSIONAL)
        if row_type in present
        for column in _REQUIRED[row_type]
        if column not in seen
    ]
    if missing:
        names = ", ".join(missing)
        raise DirectoryFileError(
            f"colonne(s) obligatoire(s) manquante(s) : {names}",
            [FieldError(column, "colonne obligatoire manquante") for column in missing],
        )
    ignored = tuple(name for name in header if name and name not in _KNOWN_COLUMNS)
    return DirectoryFile(delimiter, tuple(name for name in header if name), ignored, tuple(rows))


# --- validation ------------------------------------------------------------------------------------


def _kind(text: str) -> str | None:
    """The ``OrganisationKind`` value for a value or a French label (any case, ’ for ')."""
    key = " ".join(text.replace("’", "'").split()).casefold()
    return _KIND_LABELS.get(key)


def _too_long(table: type[Table], values: dict[str, str | None], line: int) -> list[RowError]:
    """Values longer than their column (those the validators do not limit, e.g. an e-mail)."""
    found = []
    for name, value in values.items():
        column = getattr(table, name, None)
        limit = column.length if isinstance(column, Varchar) else None
        if limit is not None and value is not None and len(value) > limit:
            found.append(RowError(line, name, f"{limit} caractères au plus"))
    return found


def _check_organisation(row: CsvRow) -> tuple[dict[str, str | None] | None, list[RowError]]:
    raw_kind = row.get("kind").strip()
    kind = _kind(raw_kind)
    found: list[RowError] = []
    if kind is None:
        message = (
            f"type d'organisation inconnu : « {raw_kind} » (attendu : "
            f"{', '.join(OrganisationKind)} ou leur libellé, ex. « Pharmacie »)"
            if raw_kind
            else "obligatoire"
        )
        found.append(RowError(row.line, "kind", message))
    try:
        values = check_organisation(
            kind or raw_kind,
            row.get("name"),
            finess_ej=row.get("finess_ej"),
            finess_et=row.get("finess_et"),
            siret=row.get("siret"),
            commune_insee=row.get("commune_insee"),
            email=row.get("email"),
        )
    except InvalidInput as error:
        found += [RowError(row.line, e.field, e.message) for e in error.errors if e.field != "kind"]
        return None, found
    found += _too_long(Organisation, values, row.line)
    return (None if found else values), found


def _check_professional(row: CsvRow) -> tuple[dict[str, str | None] | None, list[RowError]]:
    try:
        values = check_professional(
            row.get("profession"),
            row.get("family_name"),
            row.get("given_names"),
            rpps=row.get("rpps"),
            adeli=row.get("adeli"),
            email=row.get("email"),
        )
    except InvalidInput as error:
        return None, [RowError(row.line, e.field, e.message) for e in error.errors]
    found = _too_long(Professional, values, row.line)
    return (None if found else values), found


_DUPLICATE_KEYS: dict[str, tuple[str, ...]] = {
    ORGANISATION: ("finess_et", "siret"),
    PROFESSIONAL: ("rpps", "adeli"),
}


def check_rows(
    file: DirectoryFile, on_progress: ProgressCallback | None = None
) -> tuple[list[CheckedRow], list[RowError]]:
    """Validate every row: the valid rows (normalised) and the errors, in file order.

    A valid row repeating an earlier valid row's RPPS, ADELI, FINESS ET or
    SIRET is an error on the later row. ``on_progress`` sees ``(done, 2 × rows)``.
    """
    total = 2 * len(file.rows)
    checked: list[CheckedRow] = []
    errors: list[RowError] = []
    first_line: dict[tuple[str, str], int] = {}
    for done, row in enumerate(file.rows, start=1):
        row_errors: list[RowError] = []
        values: dict[str, str | None] | None = None
        raw_type = row.get("type").strip()
        row_type = _TYPES.get(raw_type.lower())
        if row.extra_cells:
            row_errors.append(
                RowError(
                    row.line,
                    "colonnes",
                    f"{row.extra_cells} valeur(s) au-delà des {len(file.columns)} colonnes de l'en-tête "
                    f"(séparateur « {file.delimiter} » : vérifiez les guillemets)",
                )
            )
        if row_type is None:
            message = (
                f"type de ligne inconnu : « {raw_type} » (attendu : organisation ou professionnel)"
                if raw_type
                else "obligatoire : organisation ou professionnel"
            )
            row_errors.append(RowError(row.line, "type", message))
        elif row_type == ORGANISATION:
            values, found = _check_organisation(row)
            row_errors += found
        else:
            values, found = _check_professional(row)
            row_errors += found
        if values is not None and row_type is not None and not row_errors:
            for key in _DUPLICATE_KEYS[row_type]:
                value = values.get(key)
                if value is None:
                    continue
                earlier = first_line.setdefault((key, value), row.line)
                if earlier != row.line:
                    row_errors.append(
                        RowError(
                            row.line, key, f"{_DUPLICATE_LABELS[key]} déjà présent ligne {earlier} du fichier"
                        )
                    )
        if row_errors:
            errors += row_errors
        elif values is not None and row_type is not None:
            checked.append(CheckedRow(row.line, row_type, values))
        if on_progress is not None and (done % _PROGRESS_EVERY == 0 or done == len(file.rows)):
            on_progress(done, total)
    return checked, errors


# --- writing ---------------------------------------------------------------------------------------


def _fold(value: str | None) -> str:
    return " ".join((value or "").split()).casefold()


class _Existing:
    """What the tenant already holds, to skip rows already imported."""

    def __init__(self, organisations: Sequence[Any], professionals: Sequence[Any]) -> None:
        self.finess_et = {row["finess_et"] for row in organisations if row["finess_et"]}
        self.siret = {row["siret"] for row in organisations if row["siret"]}
        self.by_name: dict[str, list[tuple[str | None, str | None]]] = {}
        for row in organisations:
            self.by_name.setdefault(_fold(row["name"]), []).append((row["finess_et"], row["siret"]))
        self.rpps = {row["rpps"] for row in professionals if row["rpps"]}
        self.adeli = {row["adeli"] for row in professionals if row["adeli"]}
        self.people = {
            (_fold(row["profession"]), _fold(row["family_name"]), _fold(row["given_names"]))
            for row in professionals
        }

    def has_organisation(self, values: dict[str, str | None]) -> bool:
        if values["finess_et"] in self.finess_et or values["siret"] in self.siret:
            return True

        def compatible(known: str | None, new: str | None) -> bool:
            return known is None or new is None or known == new

        return any(
            compatible(finess_et, values["finess_et"]) and compatible(siret, values["siret"])
            for finess_et, siret in self.by_name.get(_fold(values["name"]), ())
        )

    def has_professional(self, values: dict[str, str | None]) -> bool:
        if values["rpps"] is not None or values["adeli"] is not None:
            return values["rpps"] in self.rpps or values["adeli"] in self.adeli
        key = (_fold(values["profession"]), _fold(values["family_name"]), _fold(values["given_names"]))
        return key in self.people


async def _load_existing(connection: asyncpg.Connection, rows: Sequence[CheckedRow]) -> _Existing:
    organisations: Sequence[Any] = []
    professionals: Sequence[Any] = []
    if any(row.type == ORGANISATION for row in rows):
        organisations = await connection.fetch("SELECT name, finess_et, siret FROM organisation")
    pros = [row.values for row in rows if row.type == PROFESSIONAL]
    if pros:
        rpps = [v["rpps"] for v in pros if v["rpps"]]
        adeli = [v["adeli"] for v in pros if v["adeli"]]
        anonymous = any(v["rpps"] is None and v["adeli"] is None for v in pros)
        professionals = await connection.fetch(
            "SELECT rpps, adeli, profession, family_name, given_names FROM professional "
            "WHERE $3 OR rpps = ANY($1::text[]) OR adeli = ANY($2::text[])",
            rpps,
            adeli,
            anonymous,
        )
    return _Existing(organisations, professionals)


def _batches(items: Sequence[tuple[Any, ...]], size: int = _BATCH) -> Iterator[Sequence[tuple[Any, ...]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_INSERT_ORGANISATION = (
    "INSERT INTO organisation (id, tenant_id, kind, name, finess_ej, finess_et, siret, commune_insee, "
    "email, is_demo, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, false, now())"
)
_INSERT_PROFESSIONAL = (
    "INSERT INTO professional (id, tenant_id, rpps, adeli, profession, family_name, given_names, email, "
    "is_demo, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, false, now())"
)


def _organisation_record(tenant_id: uuid.UUID, v: dict[str, str | None]) -> tuple[Any, ...]:
    return (
        uuid.uuid4(),
        tenant_id,
        v["kind"],
        v["name"],
        v["finess_ej"],
        v["finess_et"],
        v["siret"],
        v["commune_insee"],
        v["email"],
    )


def _professional_record(tenant_id: uuid.UUID, v: dict[str, str | None]) -> tuple[Any, ...]:
    return (
        uuid.uuid4(),
        tenant_id,
        v["rpps"],
        v["adeli"],
        v["profession"],
        v["family_name"],
        v["given_names"],
        v["email"],
    )


async def _write(
    tenant_id: uuid.UUID,
    rows: Sequence[CheckedRow],
    report: ImportReport,
    progress: Callable[[int], None],
) -> None:
    """Skip the rows already present and insert the others, in one tenant transaction."""
    async with tenant_scope(tenant_id):
        connection = scoped_connection()
        await connection.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))", f"parcours.directory_import:{tenant_id}"
        )
        existing = await _load_existing(connection, rows)
        organisations: list[tuple[Any, ...]] = []
        professionals: list[tuple[Any, ...]] = []
        for row in rows:
            if row.type == ORGANISATION:
                if existing.has_organisation(row.values):
                    report.skipped_organisations += 1
                else:
                    organisations.append(_organisation_record(tenant_id, row.values))
            elif existing.has_professional(row.values):
                report.skipped_professionals += 1
            else:
                professionals.append(_professional_record(tenant_id, row.values))
        progress(report.skipped)
        for statement, records in (
            (_INSERT_ORGANISATION, organisations),
            (_INSERT_PROFESSIONAL, professionals),
        ):
            for batch in _batches(records):
                await connection.executemany(statement, batch)
                progress(len(batch))
    report.created_organisations = len(organisations)
    report.created_professionals = len(professionals)
    report.written = True


async def import_directory(
    tenant_id: uuid.UUID,
    source: DirectoryFile | bytes,
    *,
    mode: ImportMode = ImportMode.ALL_OR_NOTHING,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a directory CSV (bytes, or a file read by ``read_directory_csv``) into a tenant.

    Raises ``DirectoryFileError`` when the file itself cannot be imported, and
    ``Conflict`` when a professional with one of the file's RPPS was added by
    someone else during the import (nothing is written then). Bad rows are not
    exceptions: they are in the report's ``errors``.
    """
    file = read_directory_csv(source) if isinstance(source, bytes) else source
    mode = ImportMode(mode)
    total = 2 * len(file.rows)
    report = ImportReport(mode=mode, total_rows=len(file.rows), ignored_columns=file.ignored_columns)
    rows, report.errors = check_rows(file, on_progress)
    done = len(file.rows)

    def progress(step: int) -> None:
        nonlocal done
        done += step
        if on_progress is not None:
            on_progress(done, total)

    if report.errors and mode is ImportMode.ALL_OR_NOTHING:
        progress(total - done)
        return report
    progress(len(file.rows) - len(rows))  # the rejected rows: nothing to write
    try:
        await _write(tenant_id, rows, report, progress)
    except asyncpg.UniqueViolationError as error:
        raise Conflict(
            "un professionnel de même RPPS a été ajouté pendant l'import ; rien n'a été écrit, "
            "relancez l'import"
        ) from error
    return report
