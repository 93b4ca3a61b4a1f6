"""« Suivi du territoire » through HTTP: indicators with charts, an event's record, pseudonymous exports
(audited), the follow-up API and its scope, the readmission watch in the person's file."""

from __future__ import annotations

import csv
import datetime as dt
import html as markup
import io
import json
import re
import uuid

import msgspec
import pytest

from core import locale
from core.followup.export import COLUMNS
from core.proposals.queries import MASKED
from tests.conftest import wait_for
from tests.factories import discharge
from tests.web.conftest import sign_in
from web.api.followup import TerritoryRowOut

SLUG = "landes"
SUIVI = f"/t/{SLUG}/suivi"
NAMES = ("Lafitte", "Jeanne", "Darrigrand", "Labat")
"""Names of the demo people (and of the person the tests declare): never in an export."""


@pytest.fixture
def discharge_id(client, landes, token_for, sql_owner) -> str:
    """A discharge of Jeanne Lafitte (the demo person: her care team includes the coordination),
    declared by a partner and routed; every event of the territory routed."""
    headers = token_for(landes)
    occurred = (dt.datetime.now(dt.UTC) + dt.timedelta(days=20)).isoformat()
    response = client.post(
        f"/t/{SLUG}/api/v1/events",
        json=discharge(occurred_at=occurred),
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 201, response.text
    event_id = response.json()["id"]
    wait_for(
        lambda: sql_owner.execute(
            "SELECT count(*) = 0 FROM event WHERE tenant_id = %s AND status <> 'routed'", (landes.id,)
        ).fetchone()[0],
        timeout=20,
    )
    return str(event_id)


def actions_in(sql_owner, tenant) -> int:
    return sql_owner.execute(
        "SELECT count(*) FROM action_proposal WHERE tenant_id = %s", (tenant.id,)
    ).fetchone()[0]


def section(html: str, category: str) -> str:
    match = re.search(rf'<section id="section-{category}".*?</section>', html, re.S)
    assert match, f"no section {category}"
    return match.group(0)


def test_coordinator_sees_indicators_charts_and_the_latest_events(browser, landes, discharge_id):
    sign_in(browser, "coordinatrice.landes")
    page = browser.get(SUIVI)
    assert page.status_code == 200, page.text
    assert "no-store" in page.headers["cache-control"]
    html = markup.unescape(page.text)
    assert "<h1>Suivi du territoire</h1>" in html
    assert html.count("<svg") >= 3
    assert 'role="img"' in html and "<desc" in html and "Données du graphique" in html
    assert "Réhospitalisation à J+7" in html and "Délai médian de première réponse" in html
    assert f'href="{SUIVI}/evenements/{discharge_id}"' in html
    assert f"{SUIVI}/export.csv?du=" in html
    assert not any(name in html for name in NAMES)
    assert 'aria-current="page"' in html and ">Suivi du territoire" in html
    # A period chosen by hand; a bad date is a 422.
    assert browser.get(SUIVI, params={"du": "2020-01-01", "au": "2020-01-31"}).status_code == 200
    assert (
        "Aucun événement sur la période"
        in browser.get(SUIVI, params={"du": "2020-01-01", "au": "2020-01-31"}).text
    )
    assert browser.get(SUIVI, params={"du": "hier"}).status_code == 422


def test_record_shows_the_chain_and_names_the_person_only_with_consent(browser, landes, discharge_id):
    sign_in(browser, "coordinatrice.landes")
    page = browser.get(f"{SUIVI}/evenements/{discharge_id}")
    assert page.status_code == 200, page.text
    assert "no-store" in page.headers["cache-control"]
    html = markup.unescape(page.text)
    assert "Sortie d'hospitalisation du" in html
    assert "Jeanne Lafitte" in html  # her care team includes the coordination
    for expected in (
        "Évaluation des besoins d'aide à domicile",
        "Passage infirmier",
        "Échéance",
        "Réalisée par (prestataire)",
        "Retour à l'hôpital",
        "J+7",
        "J+30",
        "À vérifier",
    ):
        assert expected in html, expected

    sign_in(browser, "admin.landes")  # the territory's administrator: no ground to read her identity
    masked = browser.get(f"{SUIVI}/evenements/{discharge_id}")
    assert masked.status_code == 200
    assert MASKED in masked.text and "Lafitte" not in masked.text
    assert browser.get(f"{SUIVI}/evenements/{uuid.uuid4()}").status_code == 404


def test_csv_export_one_row_per_action_bom_semicolons_no_name_and_audited(
    browser, landes, discharge_id, sql_owner
):
    sign_in(browser, "coordinatrice.landes")
    response = browser.get(f"{SUIVI}/export.csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    today = dt.datetime.now(locale.TIME_ZONE).date().isoformat()
    assert response.headers["content-disposition"] == f'attachment; filename="suivi-{SLUG}-{today}.csv"'
    assert "no-store" in response.headers["cache-control"]
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == [header for _, header in COLUMNS]
    assert rows[0][:3] == ["Événement (identifiant)", "Type d'événement (code)", "Type d'événement"]
    data = rows[1:]
    assert len(data) == actions_in(sql_owner, landes)
    assert len({row[5] for row in data}) == len(data)  # one row per action
    assert discharge_id in {row[0] for row in data}
    assert all(len(row) == len(COLUMNS) for row in data)
    assert not any(name in text for name in NAMES)

    entry = sql_owner.execute(
        "SELECT actor_kind, target_kind, detail FROM audit_entry WHERE tenant_id = %s "
        "AND action = 'followup.export' ORDER BY seq DESC LIMIT 1",
        (landes.id,),
    ).fetchone()
    assert entry is not None
    detail = entry[2] if isinstance(entry[2], dict) else json.loads(entry[2])
    assert (entry[0], entry[1], detail["rows"], detail["format"], detail["via"]) == (
        "user",
        "tenant",
        len(data),
        "csv",
        "page",
    )

    exported = browser.get(f"{SUIVI}/export.json")
    assert exported.status_code == 200
    document = exported.json()
    assert document["count"] == len(data) == len(document["rows"])
    assert set(document["rows"][0]) == set(TerritoryRowOut.__struct_fields__)


def test_professional_is_refused_the_territory_follow_up(browser, landes, discharge_id):
    sign_in(browser, "medecin.landes")
    for path in (SUIVI, f"{SUIVI}/export.csv", f"{SUIVI}/evenements/{discharge_id}"):
        assert browser.get(path, follow_redirects=False).status_code == 403, path
    assert 'href="/t/landes/suivi"' not in browser.get(f"/t/{SLUG}/moi").text


def test_api_needs_the_followup_scope_and_stays_pseudonymous(
    client, landes, discharge_id, token_for, sql_owner
):
    url = f"/t/{SLUG}/api/v1/events/{discharge_id}/follow-up"
    assert client.get(url).status_code == 401
    without = client.get(url, headers=token_for(landes, scopes=("events:read",)))
    assert without.status_code == 403
    assert without.headers["content-type"].startswith("application/problem+json")
    assert "followup:read" in without.json()["detail"]

    headers = token_for(landes, scopes=("followup:read",))
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["event_id"] == discharge_id and record["event_type"] == "hospital_discharge"
    assert len(record["person_pseudonym"]) == 16 and "person_id" not in record
    assert {a["action_type"] for a in record["actions"]} >= {"home_help_assessment", "nurse_visit"}
    assert [(r["horizon_days"], r["state"]) for r in record["readmissions"]] == [
        (7, "pending"),
        (30, "pending"),
    ]
    assert not any(name in response.text for name in NAMES)
    assert client.get(f"/t/{SLUG}/api/v1/events/{uuid.uuid4()}/follow-up", headers=headers).status_code == 404

    rows = client.get(f"/t/{SLUG}/api/v1/follow-up", headers=headers)
    assert rows.status_code == 200
    document = rows.json()
    assert document["count"] == actions_in(sql_owner, landes)
    mine = [row for row in document["rows"] if row["event_id"] == discharge_id]
    assert len(mine) == len(record["actions"])
    assert {row["person_pseudonym"] for row in mine} == {record["person_pseudonym"]}
    msgspec.convert(document["rows"], list[TerritoryRowOut])

    # The period is in Paris dates: an event at 23:30 UTC belongs to the next Paris day.
    day = dt.datetime.fromisoformat(record["occurred_at"]).astimezone(locale.TIME_ZONE).date().isoformat()
    as_csv = client.get(
        f"/t/{SLUG}/api/v1/follow-up", params={"since": day, "until": day, "format": "csv"}, headers=headers
    )
    assert as_csv.status_code == 200
    assert as_csv.content.startswith(b"\xef\xbb\xbf") and ";" in as_csv.text.splitlines()[0]
    assert as_csv.headers["content-disposition"].startswith(f'attachment; filename="suivi-{SLUG}-')
    assert discharge_id in as_csv.text
    bad = client.get(
        f"/t/{SLUG}/api/v1/follow-up", params={"since": "2026-02-02", "until": "2026-02-01"}, headers=headers
    )
    assert bad.status_code == 422
    assert client.get(f"/t/{SLUG}/api/v1/follow-up", headers=token_for(landes)).status_code == 403
    audited = sql_owner.execute(
        "SELECT actor_kind, detail->>'via' FROM audit_entry WHERE tenant_id = %s "
        "AND action = 'followup.export' ORDER BY seq DESC LIMIT 1",
        (landes.id,),
    ).fetchone()
    assert audited == ("api_client", "api")


def test_openapi_documents_the_follow_up_in_french(client):
    schema = client.get("/schema/openapi.json").json()
    territory = schema["paths"]["/t/{slug}/api/v1/follow-up"]["get"]
    record = schema["paths"]["/t/{slug}/api/v1/events/{event_id}/follow-up"]["get"]
    assert territory["summary"].startswith("Suivi du territoire")
    assert record["summary"].startswith("Suivi d'un événement")
    assert {p["name"] for p in territory["parameters"]} >= {"since", "until", "format"}


def test_person_file_shows_the_readmission_watch_with_the_medical_section(
    browser, landes, discharge_id, sql_owner
):
    person_id = sql_owner.execute("SELECT person_id FROM event WHERE id = %s", (discharge_id,)).fetchone()[0]
    url = f"/t/{SLUG}/personnes/{person_id}?finalite=care_coordination"
    sign_in(browser, "coordinatrice.landes")
    medical = markup.unescape(section(browser.get(url).text, "medical"))
    assert "Retour à l'hôpital" in medical and "à J+7" in medical and "à vérifier" in medical

    sign_in(browser, "assistante-sociale.landes")  # medical data refused: no readmission either
    page = browser.get(url)
    assert page.status_code == 200
    assert "Retour à l'hôpital" not in markup.unescape(section(page.text, "medical"))
