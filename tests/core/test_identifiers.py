"""RPPS, ADELI, FINESS, SIREN, SIRET: the identifiers of professionals and organisations.

Numbers of people are built with ``luhn_check_digit`` (no real person's number
here); numbers of public organisations (hospitals, La Poste, INSEE's own
example) are the published ones.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from core.identity.identifiers import (
    FR_CORE_IDENTIFIER_TYPE_SYSTEM,
    IDENTIFIER_KINDS,
    IDNPS_SYSTEM,
    IDNST_SYSTEM,
    LA_POSTE_SIREN,
    Adeli,
    Finess,
    FinessKind,
    InvalidIdentifier,
    Rpps,
    Siren,
    Siret,
    finess_check_digit,
    luhn_check_digit,
    luhn_is_valid,
    parse_identifier,
)
from core.identity.nir import Nir


def with_key(payload: str) -> str:
    return payload + luhn_check_digit(payload)


def fixed_digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


def substitute(valid: str, index: int, shift: int) -> str:
    """``valid`` with one of its digits (picked by ``index``) replaced by another digit."""
    positions = [i for i, char in enumerate(valid) if char in "0123456789"]
    position = positions[index % len(positions)]
    replacement = str((int(valid[position]) + shift) % 10)  # shift 1..9: always another digit
    altered = valid[:position] + replacement + valid[position + 1 :]
    assert len(altered) == len(valid) and altered != valid
    return altered


RPPS = with_key("1000123456")  # built, not a real professional's number
ADELI = with_key("75912345")
SIREN_INSEE = "732829320"  # INSEE's example of a SIREN
SIRET_INSEE = "73282932000074"  # …and its 7th establishment

# Corsican FINESS numbers of public hospitals and EHPAD, as published by the ARS de Corse
# in the préfectures' recueils des actes administratifs (see core.identity.identifiers.Finess).
CORSICA_2A = ["2A0000170", "2A0000386", "2A0002606", "2A0000022"]
CORSICA_2B = [
    "2B0000020",
    "2B0005342",
    "2B0004246",
    "2B0000442",
    "2B0003107",
    "2B0003057",
    "2B0004238",
    "2B0000939",
    "2B0003628",
    "2B0003073",
    "2B0000459",
    "2B0001341",
]
MAINLAND_FINESS = ["010000016", "010000156", "010780195", "010787190"]  # ANS FINESS sample (Ain)

LA_POSTE_HEAD_OFFICE = "35600000000048"
LA_POSTE_OFFICES = ["35600000009075", "35600000049837"]  # published La Poste establishments


# ---------------------------------------------------------------- Luhn


def test_luhn_known_vectors():
    """The classic Luhn example and INSEE's SIREN / SIRET examples."""
    assert luhn_check_digit("7992739871") == "3"
    assert luhn_is_valid("79927398713")
    assert not luhn_is_valid("79927398710")
    assert luhn_is_valid(SIREN_INSEE)
    assert luhn_is_valid(SIRET_INSEE)
    assert luhn_check_digit("0") == "0"


@pytest.mark.parametrize("text", ["", "12a4", "１２３", "\u0661\u0662\u0663", " 123", "-0"])
def test_luhn_is_false_on_anything_but_ascii_digits(text):
    """Empty, letters, non-ASCII digits or separators are never Luhn-valid."""
    assert not luhn_is_valid(text)


@pytest.mark.parametrize("payload", ["", "12a", "１２３", "\u0661\u0662"])
def test_luhn_check_digit_needs_ascii_digits(payload):
    with pytest.raises(ValueError):
        luhn_check_digit(payload)


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_payload_with_its_check_digit_is_valid(payload):
    key = luhn_check_digit(payload)
    assert len(key) == 1 and key in "0123456789"
    assert luhn_is_valid(payload + key)


@given(st.text(alphabet="0123456789", min_size=1, max_size=20), st.integers(0, 20), st.integers(1, 9))
def test_luhn_detects_every_single_digit_substitution(payload, index, shift):
    """Changing one digit changes its contribution mod 10 (doubling is a bijection on 0..9)."""
    assert not luhn_is_valid(substitute(with_key(payload), index, shift))


# ---------------------------------------------------------------- RPPS / ADELI


def test_rpps_is_accepted_normalised_and_describes_itself():
    for text in (RPPS, f" {RPPS[:1]} {RPPS[1:6]} {RPPS[6:]} ", "-".join(RPPS), ".".join(RPPS)):
        parsed = Rpps.parse(text)
        assert parsed.value == RPPS
        assert str(parsed) == RPPS
    assert Rpps.parse(RPPS).idnps == "8" + RPPS
    assert Rpps.system == "https://rpps.esante.gouv.fr"
    assert (Rpps.label, Rpps.type_code) == ("RPPS", "RPPS")
    assert IDNPS_SYSTEM == "urn:oid:1.2.250.1.71.4.2.1"


def test_rpps_starting_with_8_is_accepted():
    assert Rpps.parse(with_key("8000000001")).value.startswith("8")


@pytest.mark.parametrize("text", ["", RPPS[:10], RPPS + "0", "1" * 12, RPPS[:9]])
def test_rpps_of_wrong_length_is_refused(text):
    with pytest.raises(InvalidIdentifier, match="le numéro RPPS compte 11 chiffres"):
        Rpps.parse(text)


@pytest.mark.parametrize(
    "text",
    [
        RPPS[:5] + "A" + RPPS[6:],
        RPPS[:10] + "X",
        "\uff11" + RPPS[1:],  # full-width 1
        RPPS[:9] + "\u0660" + RPPS[10],  # Arabic-Indic 0
    ],
)
def test_rpps_with_letters_or_non_ascii_digits_is_refused(text):
    with pytest.raises(InvalidIdentifier, match="ne contient que des chiffres"):
        Rpps.parse(text)


def test_rpps_with_a_wrong_key_is_refused():
    wrong = RPPS[:10] + str((int(RPPS[10]) + 1) % 10)
    with pytest.raises(InvalidIdentifier, match="clé de contrôle du numéro RPPS incorrecte"):
        Rpps.parse(wrong)


def test_adeli_is_accepted_and_describes_itself():
    parsed = Adeli.parse(f"{ADELI[:2]} {ADELI[2:4]} {ADELI[4:]}")
    assert parsed.value == ADELI == str(parsed)
    assert parsed.idnps == "0" + ADELI
    assert Adeli.system == "https://adeli.esante.gouv.fr"
    assert (Adeli.label, Adeli.type_code) == ("ADELI", "ADELI")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ADELI[:8], "le numéro ADELI compte 9 chiffres"),
        (ADELI + "1", "le numéro ADELI compte 9 chiffres"),
        ("2A" + ADELI[2:], "ne contient que des chiffres"),
        (ADELI[:8] + "\u0661", "ne contient que des chiffres"),
        (ADELI[:8] + str((int(ADELI[8]) + 5) % 10), "clé de contrôle du numéro ADELI incorrecte"),
    ],
)
def test_bad_adeli_is_refused_saying_why(text, message):
    with pytest.raises(InvalidIdentifier, match=message):
        Adeli.parse(text)


# ---------------------------------------------------------------- FINESS


@pytest.mark.parametrize("number", CORSICA_2A + CORSICA_2B)
def test_published_corsican_finess_numbers_are_accepted(number):
    """Real Corsican FINESS: the key reads 2A as 21 and 2B as 22 — not as 20."""
    assert Finess.parse(number, kind=FinessKind.EJ).value == number
    assert finess_check_digit(number[:8]) == number[8]
    assert luhn_is_valid(("21" if number[1] == "A" else "22") + number[2:])
    assert not luhn_is_valid("20" + number[2:])  # the "2A/2B read as 20" rule would refuse them all


@pytest.mark.parametrize("number", MAINLAND_FINESS)
def test_published_mainland_finess_numbers_are_accepted(number):
    assert Finess.parse(number, kind=FinessKind.ET).value == number
    assert luhn_is_valid(number)


def test_finess_kind_sets_label_type_code_and_idnst():
    ej = Finess.parse("2a 000 017 0", kind=FinessKind.EJ)  # lower case and spaces tolerated
    et = Finess.parse("01-078-019-5", kind=FinessKind.ET)
    assert (ej.value, ej.kind, ej.label, ej.type_code) == (
        "2A0000170",
        FinessKind.EJ,
        "FINESS juridique",
        "FINEJ",
    )
    assert (et.value, et.kind, et.label, et.type_code) == (
        "010780195",
        FinessKind.ET,
        "FINESS géographique",
        "FINEG",
    )
    assert Finess.system == "https://finess.esante.gouv.fr"
    assert et.idnst == "1010780195"
    assert ej.idnst is None  # the national structure identifier exists for establishments only
    assert str(ej) == "2A0000170"
    assert Finess.parse(ej.value, kind=FinessKind.ET) != ej  # same number, other kind: another identifier


def test_finess_corsican_keys_differ_between_2a_and_2b():
    """The same 7 digits get different keys in 2A and 2B, so a 2A/2B mix-up is caught."""
    assert finess_check_digit("2A000002") != finess_check_digit("2B000002")
    with pytest.raises(InvalidIdentifier, match="clé"):
        Finess.parse("2B0000022", kind=FinessKind.ET)  # the Ajaccio hospital's number with 2B


@pytest.mark.parametrize("text", ["", "2A000017", "2A00001700", "01000001", "0100000166"])
def test_finess_of_wrong_length_is_refused(text):
    with pytest.raises(InvalidIdentifier, match="le numéro FINESS compte 9 caractères"):
        Finess.parse(text, kind=FinessKind.EJ)


@pytest.mark.parametrize(
    "text",
    [
        "2C0000170",  # 2C is no département
        "A20000170",
        "3A0000170",
        "2A000017A",
        "01000001\uff16",  # full-width 6
        "\u0660\u0661\u0660000016",  # Arabic-Indic 010
    ],
)
def test_finess_of_wrong_shape_is_refused(text):
    with pytest.raises(InvalidIdentifier, match="format de numéro FINESS invalide"):
        Finess.parse(text, kind=FinessKind.ET)


def test_finess_with_a_wrong_key_is_refused():
    with pytest.raises(InvalidIdentifier, match="clé de contrôle du numéro FINESS incorrecte"):
        Finess.parse("010000017", kind=FinessKind.EJ)


@pytest.mark.parametrize("payload", ["2A00001", "2C000017", "0100000\uff11", "010000016"])
def test_finess_check_digit_needs_8_well_shaped_characters(payload):
    with pytest.raises(ValueError):
        finess_check_digit(payload)


finess_payloads = st.builds(
    lambda dept, rest: dept + rest,
    st.one_of(fixed_digits(2), st.sampled_from(["2A", "2B"])),
    fixed_digits(6),
)
"""Any first 8 characters of a FINESS number, Corsica included."""


@given(finess_payloads, st.sampled_from(FinessKind))
@example("2A000017", FinessKind.EJ)
@example("00000000", FinessKind.ET)
def test_any_finess_payload_with_its_key_is_accepted(payload, kind):
    number = payload + finess_check_digit(payload)
    parsed = Finess.parse(number, kind=kind)
    assert (parsed.value, parsed.kind) == (number, kind)


@given(finess_payloads, st.integers(0, 8), st.integers(1, 9))
@example("2A000017", 0, 1)  # the 2 of 2A becomes 3: "3A" is no département
@example("2B000002", 7, 5)
def test_any_single_digit_substitution_in_a_finess_is_rejected(payload, index, shift):
    altered = substitute(payload + finess_check_digit(payload), index, shift)
    with pytest.raises(InvalidIdentifier):
        Finess.parse(altered, kind=FinessKind.ET)


# ---------------------------------------------------------------- SIREN / SIRET


def test_siren_is_accepted_and_describes_itself():
    parsed = Siren.parse("732 829 320")
    assert parsed.value == SIREN_INSEE == str(parsed)
    assert parsed.idnst == "2" + SIREN_INSEE
    assert Siren.system == "https://sirene.fr"
    assert (Siren.label, Siren.type_code) == ("SIREN", "SIREN")
    assert IDNST_SYSTEM == "urn:oid:1.2.250.1.71.4.2.2"
    assert FR_CORE_IDENTIFIER_TYPE_SYSTEM == "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("73282932", "le SIREN compte 9 chiffres"),
        (SIRET_INSEE, "le SIREN compte 9 chiffres"),
        ("73282932O", "ne contient que des chiffres"),  # letter O for a zero
        ("7328293\u0662\u0660", "ne contient que des chiffres"),
        ("732829321", "clé de contrôle du SIREN incorrecte"),
    ],
)
def test_bad_siren_is_refused_saying_why(text, message):
    with pytest.raises(InvalidIdentifier, match=message):
        Siren.parse(text)


def test_siret_is_accepted_and_gives_its_siren():
    parsed = Siret.parse("732 829 320 00074")
    assert parsed.value == SIRET_INSEE == str(parsed)
    assert parsed.siren == Siren(SIREN_INSEE)
    assert parsed.nic == "00074"
    assert parsed.idnst == "3" + SIRET_INSEE
    assert not parsed.is_la_poste
    assert Siret.system == "https://sirene.fr"
    assert (Siret.label, Siret.type_code) == ("SIRET", "SIRET")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SIRET_INSEE[:13], "le SIRET compte 14 chiffres"),
        (SIRET_INSEE + "0", "le SIRET compte 14 chiffres"),
        (SIRET_INSEE[:13] + "X", "ne contient que des chiffres"),
        ("\uff17" + SIRET_INSEE[1:], "ne contient que des chiffres"),
        ("73282932000079", "clé de contrôle du SIRET incorrecte"),
    ],
)
def test_bad_siret_is_refused_saying_why(text, message):
    with pytest.raises(InvalidIdentifier, match=message):
        Siret.parse(text)


def test_siret_whose_siren_fails_but_whole_passes_luhn_is_refused():
    siren_bad = "732829321"
    siret = with_key(siren_bad + "0007")
    assert luhn_is_valid(siret) and not luhn_is_valid(siren_bad)
    with pytest.raises(InvalidIdentifier, match="SIREN"):
        Siret.parse(siret)


def test_la_poste_head_office_passes_luhn_not_the_sum_rule():
    """La Poste's head office SIRET is an ordinary Luhn-valid number (digit sum 26)."""
    assert luhn_is_valid(LA_POSTE_HEAD_OFFICE)
    assert sum(map(int, LA_POSTE_HEAD_OFFICE)) % 5 != 0
    parsed = Siret.parse(LA_POSTE_HEAD_OFFICE)
    assert parsed.is_la_poste and parsed.siren == Siren(LA_POSTE_SIREN)


@pytest.mark.parametrize("number", [*LA_POSTE_OFFICES, "35600000000010", "35600000000024"])
def test_la_poste_offices_fail_luhn_but_pass_the_sum_of_digits_rule(number):
    assert luhn_is_valid(LA_POSTE_SIREN)
    assert not luhn_is_valid(number)
    assert sum(map(int, number)) % 5 == 0
    assert Siret.parse(number).is_la_poste


@pytest.mark.parametrize("number", ["35600000049838", "35600000009076", "35600000000036"])
def test_la_poste_siret_failing_both_rules_is_refused(number):
    assert not luhn_is_valid(number) and sum(map(int, number)) % 5 != 0
    with pytest.raises(InvalidIdentifier, match="clé de contrôle du SIRET incorrecte"):
        Siret.parse(number)


def test_sum_of_digits_rule_applies_to_la_poste_only():
    """A sum multiple of 5 rescues no other company's SIRET."""
    siret = SIRET_INSEE[:13] + "2"  # digit sum 45, Luhn fails
    assert sum(map(int, siret)) % 5 == 0 and not luhn_is_valid(siret)
    with pytest.raises(InvalidIdentifier, match="clé de contrôle du SIRET incorrecte"):
        Siret.parse(siret)


def test_la_poste_rule_misses_a_digit_changed_by_five():
    """The weakness of La Poste's rule, stated: ±5 on one digit keeps the sum a multiple of 5."""
    office = LA_POSTE_OFFICES[0]  # 35600000009075
    altered = office[:11] + "5" + office[12:]  # 0 → 5 in the NIC
    assert not luhn_is_valid(altered)
    assert Siret.parse(altered).value == altered


sirens = fixed_digits(8).map(with_key)
"""Any Luhn-valid SIREN (La Poste's included)."""


@given(sirens, fixed_digits(4))
@example("732829320", "0007")
@example(LA_POSTE_SIREN, "0000")
def test_any_siren_and_nic_with_their_luhn_key_are_accepted(siren, nic4):
    siret = with_key(siren + nic4)
    assert Siren.parse(siren).value == siren
    parsed = Siret.parse(siret)
    assert parsed.value == siret and parsed.siren.value == siren


@given(sirens, st.integers(0, 8), st.integers(1, 9))
def test_any_single_digit_substitution_in_a_siren_is_rejected(siren, index, shift):
    with pytest.raises(InvalidIdentifier):
        Siren.parse(substitute(siren, index, shift))


@given(sirens, fixed_digits(4), st.integers(0, 13), st.integers(1, 9))
@example("732829320", "0007", 13, 5)
def test_any_single_digit_substitution_in_a_siret_is_rejected(siren, nic4, index, shift):
    """Outside La Poste: a change in the SIREN part breaks the SIREN's key, one in the NIC the SIRET's.

    (A changed SIREN can never become La Poste's: 356000000 is itself Luhn-valid, and two
    Luhn-valid numbers never differ by a single digit.)
    """
    assume(siren != LA_POSTE_SIREN)
    altered = substitute(with_key(siren + nic4), index, shift)
    with pytest.raises(InvalidIdentifier):
        Siret.parse(altered)


@given(fixed_digits(4), st.booleans())
def test_any_la_poste_nic_with_a_digit_sum_multiple_of_5_is_accepted(nic4, plus_five):
    head = LA_POSTE_SIREN + nic4
    key = (-sum(map(int, head))) % 5 + (5 if plus_five else 0)  # the two keys that fit
    siret = head + str(key)
    assert sum(map(int, siret)) % 5 == 0
    assert Siret.parse(siret).is_la_poste


# ---------------------------------------------------------------- parse_identifier

NIR = "242024019212329"
FINESS = "2A0000170"


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("rpps", RPPS, Rpps(RPPS)),
        ("adeli", ADELI, Adeli(ADELI)),
        ("finess_ej", FINESS, Finess(FINESS, FinessKind.EJ)),
        ("finess_et", FINESS, Finess(FINESS, FinessKind.ET)),
        ("siren", SIREN_INSEE, Siren(SIREN_INSEE)),
        ("siret", SIRET_INSEE, Siret(SIRET_INSEE)),
        ("nir", NIR, Nir(NIR)),
    ],
)
def test_parse_identifier_dispatches_on_kind(kind, text, expected):
    assert parse_identifier(kind, text) == expected
    assert parse_identifier(f" {kind.upper()} ", text) == expected  # as typed in a CSV header


def test_every_kind_is_listed():
    assert IDENTIFIER_KINDS == ("rpps", "adeli", "finess_ej", "finess_et", "siren", "siret", "nir")


@pytest.mark.parametrize("kind", ["", "finess", "ins", "rpps2", "sirets"])
def test_parse_identifier_refuses_an_unknown_kind(kind):
    with pytest.raises(InvalidIdentifier, match="type d'identifiant inconnu"):
        parse_identifier(kind, RPPS)


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("rpps", ADELI, "RPPS compte 11 chiffres"),
        ("siret", SIREN_INSEE, "SIRET compte 14 chiffres"),
        ("finess_et", "2C0000170", "FINESS"),
        ("nir", NIR[:13] + "30", "clé"),
    ],
)
def test_parse_identifier_passes_on_the_parser_s_message(kind, text, message):
    with pytest.raises(InvalidIdentifier, match=message):
        parse_identifier(kind, text)
