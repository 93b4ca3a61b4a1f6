"""Communes found the way people type them: name in any spelling, « Name (dep) », INSEE code."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import InvalidInput
from core.geo import communes
from core.geo.communes import find, normalised, resolve, suggest

LANDES = ("40",)


def test_the_official_list_is_complete():
    landes = communes.of_departements(LANDES)
    assert len(landes) == 327  # the Landes' communes in 2024
    assert communes.commune("40192").name == "Mont-de-Marsan"
    assert communes.commune("2A004").name == "Ajaccio"
    assert communes.commune("97411").name == "Saint-Denis"
    assert communes.name_of("40192") == "Mont-de-Marsan (40)"
    assert communes.name_of("99999") == "99999"


@pytest.mark.parametrize(
    "typed", ["Saint-Paul-lès-Dax", "saint paul les dax", "ST PAUL LES DAX", "St-Paul-lès-Dax (40)", "40279"]
)
def test_any_spelling_names_the_same_commune(typed):
    assert resolve(typed, LANDES).code == "40279"


def test_homonyms_prefer_the_territory_then_ask_for_the_departement():
    assert resolve("Sainte-Colombe", LANDES).code == "40252"
    assert resolve("Sainte-Colombe (33)", LANDES).code == "33390"
    with pytest.raises(InvalidInput) as ambiguous:
        resolve("Sainte-Colombe", ("33", "40"))
    message = ambiguous.value.errors[0].message
    assert "Sainte-Colombe (33)" in message and "Sainte-Colombe (40)" in message
    assert "précisez le département" in message


def test_a_postcode_or_an_unknown_name_says_what_to_type():
    with pytest.raises(InvalidInput) as postcode:
        resolve("40000", LANDES)
    assert postcode.value.errors[0].field == "commune"
    assert "codes postaux ne sont pas reconnus" in postcode.value.errors[0].message
    with pytest.raises(InvalidInput) as unknown:
        resolve("Mont-de-Marsanne", LANDES)
    assert "commune introuvable" in unknown.value.errors[0].message
    assert find("", LANDES) == []


def test_suggestions_start_with_what_was_typed_the_territorys_first():
    found = suggest("mont de", LANDES)
    assert found[0].code == "40192"
    assert all(normalised(c.name).startswith("mont de") for c in found)
    assert [c.code for c in suggest("4019", LANDES)][:1] == ["40190"]
    assert suggest("m", LANDES) == []


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(communes.of_departements(("40", "2A", "974", "33")), key=lambda c: c.code)))
def test_every_commune_is_found_by_its_code_and_its_label(commune):
    assert resolve(commune.code).code == commune.code
    assert resolve(commune.label).code == commune.code
    assert commune in find(commune.name.upper())
