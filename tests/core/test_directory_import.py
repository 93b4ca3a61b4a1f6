"""Directory CSV import through the real service, on PostgreSQL under row-level security."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core.identity.directory_import import (
    DirectoryFileError,
    ImportMode,
    ImportReport,
    RowError,
    import_directory,
)
from core.identity.identifiers import finess_check_digit, luhn_check_digit
from core.tenancy.service import TenantRecord

COLUMNS = [
    "type",
    "kind",
    "name",
    "finess_ej",
    "finess_et",
    "siret",
    "commune_insee",
    "email",
    "profession",
    "family_name",
    "given_names",
    "rpps",
    "adeli",
]


def rpps(number: int) -> str:
    payload = f"1{number:09d}"
    return payload + luhn_check_digit(payload)


def finess_et(number: int) -> str:
    payload = f"40{number:06d}"
    return payload + finess_check_digit(payload)


def siret(number: int) -> str:
    siren = f"4{number:07d}"
    siren += luhn_check_digit(siren)
    return siren + "0001" + luhn_check_digit(siren + "0001")


def wrong_key(value: str) -> str:
    """The same number with its last digit (the key) changed: the check fails."""
    return value[:-1] + str((int(value[-1]) + 1) % 10)


def organisation(number: int, **cells: str) -> dict[str, str]:
    return {
        "type": "organisation",
        "kind": "pharmacy",
        "name": f"Pharmacie n°{number}",
        "finess_et": finess_et(number),
        "siret": siret(number),
        "commune_insee": "40192",
        "email": f"pharmacie{number}@example.fr",
        **cells,
    }


def professional(number: int, **cells: str) -> dict[str, str]:
    return {
        "type": "professional",
        "profession": "infirmier",
        "family_name": f"Nom{number}",
        "given_names": "Jeanne Marie",
        "rpps": rpps(number),
        "email": f"pro{number}@example.fr",
        **cells,
    }


def directory_csv(
    rows: list[dict[str, str]], *, delimiter: str = ",", bom: bool = False, columns: list[str] = COLUMNS
) -> bytes:
    stream = io.StringIO(newline="")
    writer = csv.DictWriter(
        stream, columns, delimiter=delimiter, lineterminator="\r\n", extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + stream.getvalue().encode()


def thousand_rows(bad_line: int | None = None) -> list[dict[str, str]]:
    """One organisation every ten rows, professionals otherwise; line = index + 2."""
    rows = [organisation(i) if i % 10 == 0 else professional(i) for i in range(1000)]
    if bad_line is not None:
        index = bad_line - 2
        rows[index] = professional(index, rpps=wrong_key(rpps(index)))
    return rows


def count(sql_owner: Any, table: str, tenant: TenantRecord) -> int:
    value: int = sql_owner.execute(
        f"SELECT count(*) FROM {table} WHERE tenant_id = %s", (tenant.id,)
    ).fetchone()[0]
    return value


def run_import(aio: Any, tenant: TenantRecord, data: bytes, **options: Any) -> ImportReport:
    return aio.run(import_directory(tenant.id, data, **options), timeout=120)


BAD_RPPS_500 = [RowError(500, "rpps", "clé de contrôle du numéro RPPS incorrecte")]


def test_one_bad_row_in_a_thousand_writes_nothing_by_default(aio, make_tenant, sql_owner):
    tenant = make_tenant()
    seen: list[tuple[int, int]] = []

    report = run_import(
        aio, tenant, directory_csv(thousand_rows(bad_line=500)), on_progress=lambda *p: seen.append(p)
    )

    assert report.errors == BAD_RPPS_500
    assert report.rejected_lines == [500]
    assert not report.written
    assert report.mode is ImportMode.ALL_OR_NOTHING
    assert (report.total_rows, report.created_organisations, report.created_professionals) == (1000, 0, 0)
    assert count(sql_owner, "professional", tenant) == 0
    assert count(sql_owner, "organisation", tenant) == 0
    assert seen[-1] == (2000, 2000)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_partial_import_writes_the_999_good_rows_and_a_second_run_skips_them(aio, make_tenant, sql_owner):
    tenant = make_tenant()
    data = directory_csv(thousand_rows(bad_line=500))
    seen: list[tuple[int, int]] = []

    report = run_import(aio, tenant, data, mode=ImportMode.PARTIAL, on_progress=lambda *p: seen.append(p))

    assert report.errors == BAD_RPPS_500
    assert report.written
    assert (report.created_organisations, report.created_professionals, report.skipped) == (100, 899, 0)
    assert count(sql_owner, "organisation", tenant) == 100
    assert count(sql_owner, "professional", tenant) == 899
    assert seen[-1] == (2000, 2000)

    again = run_import(aio, tenant, data, mode=ImportMode.PARTIAL)

    assert again.errors == BAD_RPPS_500
    assert (again.created_organisations, again.created_professionals) == (0, 0)
    assert (again.skipped_organisations, again.skipped_professionals) == (100, 899)
    assert count(sql_owner, "organisation", tenant) == 100
    assert count(sql_owner, "professional", tenant) == 899


def test_reimporting_a_valid_file_skips_everything_in_this_tenant_only(aio, make_tenant, sql_owner):
    first, other = make_tenant(), make_tenant()
    data = directory_csv([organisation(1), organisation(2, finess_et="", siret=""), professional(3)])

    created = run_import(aio, first, data)
    again = run_import(aio, first, data)
    elsewhere = run_import(aio, other, data)

    assert created.ok and created.written
    assert (created.created_organisations, created.created_professionals) == (2, 1)
    assert again.ok and again.written
    assert (again.created_organisations, again.created_professionals, again.skipped) == (0, 0, 3)
    assert (elsewhere.created_organisations, elsewhere.created_professionals) == (2, 1)
    assert count(sql_owner, "organisation", first) == 2
    assert count(sql_owner, "professional", first) == 1


def test_rows_already_present_are_matched_by_identifier_or_name(aio, make_tenant, sql_owner):
    tenant = make_tenant()
    run_import(
        aio,
        tenant,
        directory_csv(
            [
                organisation(1),
                organisation(2, finess_et="", siret="", name="CCAS de Dax", kind="ccas"),
                professional(3, rpps="", adeli=""),
            ]
        ),
    )

    report = run_import(
        aio,
        tenant,
        directory_csv(
            [
                organisation(1, name="Autre nom, même FINESS"),  # same FINESS ET and SIRET
                organisation(4, finess_et="", siret="", name="  ccas DE  dax ", kind="ccas"),  # same name
                organisation(5, name="CCAS de Dax"),  # same name, the known one has no identifier
                organisation(6, name="Pharmacie n°1"),  # same name, another FINESS ET: another one
                professional(3, rpps="", adeli="", family_name="NOM3"),  # same names, no identifier
                professional(7, rpps="", adeli="", given_names="Paul"),  # another person
            ]
        ),
    )

    assert report.ok
    assert (report.skipped_organisations, report.created_organisations) == (3, 1)
    assert (report.skipped_professionals, report.created_professionals) == (1, 1)
    names = sql_owner.execute(
        "SELECT name FROM organisation WHERE tenant_id = %s ORDER BY name", (tenant.id,)
    ).fetchall()
    assert [name for (name,) in names] == ["CCAS de Dax", "Pharmacie n°1", "Pharmacie n°1"]


def test_semicolons_bom_french_types_and_kind_labels(aio, make_tenant, sql_owner):
    tenant = make_tenant()
    rows = [
        organisation(1, type="Organisation", kind="Cabinet infirmier"),
        organisation(2, kind="PHARMACIE"),
        organisation(3, kind="service d’aide à domicile"),  # typographic apostrophe
        organisation(4, kind="Établissement de santé", name="Centre hospitalier; site de Dax"),
        professional(5, type="professionnel", given_names="Jean, Pierre"),
    ]

    report = run_import(aio, tenant, directory_csv(rows, delimiter=";", bom=True))

    assert report.ok, report.errors
    assert (report.created_organisations, report.created_professionals) == (4, 1)
    kinds = sql_owner.execute(
        "SELECT name, kind FROM organisation WHERE tenant_id = %s ORDER BY name", (tenant.id,)
    ).fetchall()
    assert kinds == [
        ("Centre hospitalier; site de Dax", "hospital"),
        ("Pharmacie n°1", "nursing_practice"),
        ("Pharmacie n°2", "pharmacy"),
        ("Pharmacie n°3", "home_help_provider"),
    ]
    assert sql_owner.execute(
        "SELECT rpps, given_names FROM professional WHERE tenant_id = %s", (tenant.id,)
    ).fetchall() == [(rpps(5), "Jean, Pierre")]


def test_each_bad_cell_is_reported_with_its_field_and_a_french_message(aio, make_tenant):
    tenant = make_tenant()
    rows = [
        organisation(
            1,
            kind="clinique",
            finess_et=wrong_key(finess_et(1)),
            finess_ej="12345",
            siret=wrong_key(siret(1)),
            commune_insee="4O192",
            email="pas-une-adresse",
        ),
        professional(
            2, rpps="1234", adeli="12345678A", family_name=" ", email="a" * 64 + "@" + "b" * 255 + ".fr"
        ),
        {"type": "médecin", "name": "?"},
    ]

    report = run_import(aio, tenant, directory_csv(rows))

    by_field = {(e.line, e.field): e.message for e in report.errors}
    assert by_field[(2, "kind")].startswith("type d'organisation inconnu : « clinique »")
    assert by_field[(2, "finess_et")] == "clé de contrôle du numéro FINESS incorrecte"
    assert by_field[(2, "finess_ej")] == "le numéro FINESS compte 9 caractères"
    assert by_field[(2, "siret")] == "clé de contrôle du SIRET incorrecte"
    assert by_field[(2, "commune_insee")] == "code commune INSEE à 5 caractères"
    assert by_field[(2, "email")] == "adresse électronique invalide"
    assert by_field[(3, "rpps")] == "le numéro RPPS compte 11 chiffres"
    assert by_field[(3, "adeli")] == "le numéro ADELI ne contient que des chiffres (0 à 9)"
    assert by_field[(3, "family_name")] == "obligatoire"
    assert by_field[(3, "email")] == "320 caractères au plus"
    assert by_field[(4, "type")].startswith("type de ligne inconnu : « médecin »")
    assert report.rejected_lines == [2, 3, 4]
    assert not report.written


def test_duplicates_inside_the_file_are_errors_on_the_later_row(aio, make_tenant, sql_owner):
    tenant = make_tenant()
    rows = [
        professional(1),
        professional(2, rpps=rpps(1), family_name="Homonyme"),
        organisation(3),
        organisation(4, finess_et=finess_et(3)),
        organisation(5, siret=siret(3)),
    ]

    report = run_import(aio, tenant, directory_csv(rows), mode=ImportMode.PARTIAL)

    assert report.errors == [
        RowError(3, "rpps", "numéro RPPS déjà présent ligne 2 du fichier"),
        RowError(5, "finess_et", "FINESS géographique déjà présent ligne 4 du fichier"),
        RowError(6, "siret", "SIRET déjà présent ligne 4 du fichier"),
    ]
    assert (report.created_professionals, report.created_organisations) == (1, 1)
    assert sql_owner.execute(
        "SELECT family_name FROM professional WHERE tenant_id = %s", (tenant.id,)
    ).fetchall() == [("Nom1",)]


def test_a_file_that_is_not_utf8_is_refused_clearly(aio, make_tenant, sql_owner):
    tenant = make_tenant()
    text = "type;profession;family_name;given_names\nprofessional;infirmière;Léger;Hélène\n"

    with pytest.raises(DirectoryFileError) as refused:
        run_import(aio, tenant, text.encode("latin-1"))

    assert refused.value.detail == (
        "le fichier n'est pas encodé en UTF-8 (octet invalide ligne 2) : "
        "enregistrez-le au format « CSV UTF-8 »"
    )
    assert [e.field for e in refused.value.errors] == ["encodage"]
    with pytest.raises(DirectoryFileError, match="UTF-16"):
        run_import(aio, tenant, text.encode("utf-16"))
    assert count(sql_owner, "professional", tenant) == 0


def test_missing_required_columns_are_named(aio, make_tenant):
    tenant = make_tenant()
    columns = [c for c in COLUMNS if c not in ("given_names", "name")]

    with pytest.raises(DirectoryFileError) as refused:
        run_import(aio, tenant, directory_csv([organisation(1), professional(2)], columns=columns))

    assert refused.value.detail == "colonne(s) obligatoire(s) manquante(s) : name, given_names"
    assert [e.field for e in refused.value.errors] == ["name", "given_names"]
    with pytest.raises(DirectoryFileError, match="colonne obligatoire manquante : type"):
        run_import(aio, tenant, b"kind;name\npharmacy;Pharmacie\n")


def test_professionals_only_need_no_organisation_column_and_unknown_columns_are_reported(
    aio, make_tenant, sql_owner
):
    tenant = make_tenant()
    columns = ["type", "profession", "family_name", "given_names", "rpps", "organisation", "fax"]
    rows = [{**professional(1), "organisation": "Pharmacie n°1", "fax": "0558000000"}]

    report = run_import(aio, tenant, directory_csv(rows, columns=columns))

    assert report.ok and report.created_professionals == 1
    assert report.ignored_columns == ("organisation", "fax")
    assert count(sql_owner, "membership", tenant) == 0


@hypothesis_settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.integers(min_value=1, max_value=30).flatmap(
        lambda size: st.tuples(st.just(size), st.sets(st.integers(min_value=0, max_value=size - 1)))
    )
)
def test_partial_import_writes_exactly_the_good_rows(
    aio: Any, make_tenant: Callable[..., TenantRecord], sql_owner: Any, case: tuple[int, set[int]]
) -> None:
    size, bad = case
    tenant = make_tenant()
    rows = []
    for i in range(size):
        if i % 3 == 0:
            rows.append(organisation(i, finess_et=wrong_key(finess_et(i))) if i in bad else organisation(i))
        else:
            rows.append(professional(i, rpps=wrong_key(rpps(i))) if i in bad else professional(i))

    report = run_import(aio, tenant, directory_csv(rows), mode=ImportMode.PARTIAL)

    good_organisations = sum(1 for i in range(size) if i % 3 == 0 and i not in bad)
    good_professionals = size - len(bad) - good_organisations
    assert report.rejected_lines == sorted(i + 2 for i in bad)
    assert report.written
    assert (report.created_organisations, report.created_professionals) == (
        good_organisations,
        good_professionals,
    )
    assert count(sql_owner, "organisation", tenant) == good_organisations
    assert count(sql_owner, "professional", tenant) == good_professionals
