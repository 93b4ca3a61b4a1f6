"""`parcours directory import` in a subprocess, against the test session's database."""

from __future__ import annotations

import csv
import re
import subprocess
import uuid

import pytest

from core.tenancy.service import create_tenant
from tests.core.test_directory_import import (
    directory_csv,
    organisation,
    professional,
    rpps,
    wrong_key,
)
from tests.support.processes import PARCOURS, ROOT, command_env

pytestmark = pytest.mark.slow


def run_cli(settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PARCOURS, *args],
        env=command_env(settings, COLUMNS="160"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def counts(sql_owner, tenant_id: uuid.UUID) -> tuple[int, int]:
    row = sql_owner.execute(
        "SELECT (SELECT count(*) FROM organisation WHERE tenant_id = %s), "
        "(SELECT count(*) FROM professional WHERE tenant_id = %s)",
        (tenant_id, tenant_id),
    ).fetchone()
    return row[0], row[1]


def test_import_refuses_everything_then_imports_the_good_rows_with_partial(
    settings, aio, sql_owner, tmp_path
):
    slug = "annuaire-" + uuid.uuid4().hex[:6]
    tenant = aio.run(create_tenant(slug, "Territoire annuaire", ["40"], []))
    source = tmp_path / "annuaire.csv"
    source.write_bytes(
        directory_csv(
            [organisation(1), professional(2), professional(3, rpps=wrong_key(rpps(3))), professional(4)],
            delimiter=";",
            bom=True,
        )
    )

    refused = run_cli(settings, "directory", "import", "--tenant", slug, str(source))

    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert re.search(r"\b4\b.*\brpps\b.*clé de contrôle du numéro RPPS incorrecte", refused.stderr)
    assert "Rien n'a été importé" in refused.stderr
    assert counts(sql_owner, tenant.id) == (0, 0)

    report = tmp_path / "r.csv"
    partial = run_cli(
        settings, "directory", "import", "--tenant", slug, "--partial", "--report", str(report), str(source)
    )

    assert partial.returncode == 1, partial.stdout + partial.stderr
    assert "Import partiel" in partial.stderr
    assert re.search(r"Professionnels créés\s*│\s*2\b", partial.stdout), partial.stdout
    assert counts(sql_owner, tenant.id) == (1, 2)
    with report.open(encoding="utf-8-sig", newline="") as stream:
        assert list(csv.reader(stream, delimiter=";")) == [
            ["line", "field", "message"],
            ["4", "rpps", "clé de contrôle du numéro RPPS incorrecte"],
        ]

    again = run_cli(settings, "directory", "import", "--tenant", slug, str(tmp_path / "missing.csv"))
    assert again.returncode == 2
    assert "impossible de lire" in again.stderr
    (tmp_path / "no-type.csv").write_text("kind;name\npharmacy;Pharmacie\n", encoding="utf-8")
    unusable = run_cli(settings, "directory", "import", "--tenant", slug, str(tmp_path / "no-type.csv"))
    assert unusable.returncode == 2
    assert "colonne obligatoire manquante : type" in unusable.stderr
    unknown = run_cli(settings, "directory", "import", "--tenant", "nulle-part", str(source))
    assert unknown.returncode == 2
    assert "aucun territoire 'nulle-part'" in unknown.stderr
