"""The territory's settings of its funders (« Financements »), through HTTP on the demo territory:
changing a ceiling changes eligibility at once, without code; a wrong value stores nothing."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import pytest

from core.audit.trail import Actor as AuditActor
from core.financing.registry import territory_funders
from core.financing.settings import load_settings, set_parameters
from core.financing.situation import Household, PensionScheme, Situation, exact_income
from core.funders import Assessment, Verdict
from tests.web.conftest import DEMO_SLUG, sign_in
from tests.web.test_login import form_fields

PAGE = f"/t/{DEMO_SLUG}/admin/financements"
FIELD = "carsat_ardh.ardh.income_ceiling_single_cents"
SITUATION = Situation(
    age=80,
    household=Household.SINGLE,
    pension_scheme=PensionScheme.GENERAL,
    days_since_discharge=4,
    **exact_income(200_000),
)


def assess(aio: Any, runtime: Any, landes: Any) -> Assessment:
    """What the core says today of the same situation for the ARDH (the territory's values)."""

    async def run() -> Assessment:
        funders = await territory_funders(runtime.plugins, landes.id, landes.enabled_plugins)
        found = funders.find("ardh")
        assert found is not None
        return found[0].assess(found[1], SITUATION)

    return aio.run(run())


def stored(aio: Any, landes: Any) -> dict[str, Any]:
    settings = aio.run(load_settings(landes.id))
    return dict(settings["carsat_ardh"].overrides.get("ardh", {})) if "carsat_ardh" in settings else {}


@pytest.fixture
def ceiling_restored(aio: Any, runtime: Any, landes: Any) -> Iterator[None]:
    """The demo's ceiling is back to its default after the test (other tests read it)."""
    yield

    async def restore() -> None:
        funders = await territory_funders(runtime.plugins, landes.id, landes.enabled_plugins)
        funder = funders.funder("carsat_ardh")
        assert funder is not None
        await set_parameters(
            landes.id,
            funder,
            "ardh",
            {"income_ceiling_single_cents": None},
            AuditActor("system", "test"),
            "test",
        )

    aio.run(restore())


def test_changing_the_ardh_ceiling_changes_eligibility(browser, aio, runtime, landes, ceiling_restored):
    before = assess(aio, runtime, landes)
    assert before.verdict is Verdict.ELIGIBLE, before.explanation

    sign_in(browser, "admin.landes")
    home = browser.get(f"/t/{DEMO_SLUG}/admin/")
    assert PAGE in home.text
    page = browser.get(PAGE)
    assert page.status_code == 200, page.text
    text = html.unescape(page.text)
    assert "Plafond de ressources mensuelles, personne seule" in text
    assert "2\u202f281,00\u00a0€" in text  # current value, shown French style
    assert "Barème de ressources et de participation" in text  # the default's source
    assert "Source de plus d'un an : à vérifier." in text  # the 2003 circular
    assert "Organisme qui instruit ses demandes" in text
    fields = form_fields(page.text)
    assert fields[FIELD] == "2281,00"

    fields[FIELD] = "1 500,00"
    saved = browser.post(PAGE, data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert stored(aio, landes)["income_ceiling_single_cents"] == 150_000

    after = assess(aio, runtime, landes)
    assert after.verdict is Verdict.NOT_ELIGIBLE
    assert "1\u202f500,00\u00a0€" in after.explanation, after.explanation
    shown = html.unescape(browser.get(saved.headers["location"]).text)
    assert "Les réglages des financements sont enregistrés" in shown
    assert "1\u202f500,00\u00a0€" in shown


def test_a_wrong_value_is_said_inline_and_nothing_is_stored(browser, aio, runtime, landes, ceiling_restored):
    sign_in(browser, "admin.landes")
    fields = form_fields(browser.get(PAGE).text)
    before = stored(aio, landes)
    fields[FIELD] = "beaucoup"
    fields["carsat_ardh.ardh.min_age"] = "60"  # valid, but not stored either: all or nothing
    refused = browser.post(PAGE, data=fields)
    assert refused.status_code == 422, refused.text
    text = html.unescape(refused.text)
    assert "Rien n'a été enregistré" in text
    assert "montant en euros" in text and 'value="beaucoup"' in text
    assert stored(aio, landes) == before
    assert assess(aio, runtime, landes).verdict is Verdict.ELIGIBLE

    fields[FIELD] = "2 281,00"
    fields["carsat_ardh.ardh.min_age"] = "200"
    too_old = browser.post(PAGE, data=fields)
    assert too_old.status_code == 422 and "valeur attendue entre 0 ans et 130 ans" in html.unescape(
        too_old.text
    )
    assert stored(aio, landes) == before


def test_only_administrators_change_the_settings(browser, landes):
    csrf = sign_in(browser, "financeur.landes")
    assert browser.get(PAGE).status_code == 403
    assert browser.post(PAGE, data={"_csrf": csrf, FIELD: "1,00"}).status_code == 403
