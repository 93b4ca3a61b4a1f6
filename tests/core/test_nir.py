"""The INS / NIR value object: what a partner may send as a person's identifier."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from core.identity.nir import InvalidIdentifier, Nir, nir_key

VALID = "242024019212329"  # sex 2, 1942-02, Landes (40), commune 192, order 123, key 29
CORSICA_2A = "269052A004012"  # 1969-05, Corse-du-Sud
CORSICA_2B = "269052B004012"  # same, Haute-Corse
WELL_SHAPED_PREFIX = re.compile(r"^[1-478]\d{4}(\d{2}|2A|2B)\d{6}$")


def with_key(first13: str) -> str:
    return first13 + f"{nir_key(first13):02d}"


def fixed_digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


prefixes = st.builds(
    lambda sex, year, month, dept, commune, order: sex + year + month + dept + commune + order,
    st.sampled_from("123478"),
    fixed_digits(2),
    fixed_digits(2),
    st.one_of(fixed_digits(2), st.sampled_from(["2A", "2B"])),
    fixed_digits(3),
    fixed_digits(3),
)
"""Any 13-character beginning of a NIR of the accepted shape (NIA and Corsica included)."""


def test_key_is_97_minus_the_number_mod_97():
    """The check key follows the published rule on an ordinary NIR."""
    assert nir_key(VALID[:13]) == 97 - 2420240192123 % 97 == 29


def test_valid_nir_is_accepted_and_normalised():
    """A well-formed NIR is accepted; spaces, dots and dashes typed by people are tolerated."""
    for text in (VALID, "2 42 02 40 192 123 29", "2.42.02.40.192.123.29", " 2-42-02-40-192-123-29 "):
        parsed = Nir.parse(text)
        assert parsed.value == VALID
        assert str(parsed) == VALID
        assert not parsed.is_temporary


def test_corsica_2a_key_reads_2a_as_19():
    """A Corse-du-Sud NIR (2A) is checked with 2A read as 19."""
    assert nir_key(CORSICA_2A) == 97 - 2690519004012 % 97 == 28
    assert Nir.parse(CORSICA_2A + "28").value == CORSICA_2A + "28"
    assert Nir.parse("2 69 05 2a 004 012 28").value == CORSICA_2A + "28"  # lower case tolerated


def test_corsica_2b_key_reads_2b_as_18():
    """A Haute-Corse NIR (2B) is checked with 2B read as 18."""
    assert nir_key(CORSICA_2B) == 97 - 2690518004012 % 97 == 55
    assert Nir.parse(CORSICA_2B + "55").value == CORSICA_2B + "55"


@pytest.mark.parametrize(
    "text",
    [
        CORSICA_2A + "55",  # the 2B key on a 2A number
        CORSICA_2B + "28",  # the 2A key on a 2B number
        CORSICA_2A + "29",
        CORSICA_2B + "54",
    ],
)
def test_corsica_with_a_wrong_key_is_refused(text):
    """A Corsican NIR whose key does not match its département is refused, naming the key."""
    with pytest.raises(InvalidIdentifier, match="clé"):
        Nir.parse(text)


def test_wrong_key_is_refused_with_a_message_on_the_key():
    """A NIR with a wrong key is refused and the message says the key is wrong."""
    with pytest.raises(InvalidIdentifier, match="clé"):
        Nir.parse(VALID[:13] + "30")


@pytest.mark.parametrize("first", ["7", "8"])
def test_temporary_nia_is_flagged(first):
    """A temporary number (NIA, first digit 7 or 8) is accepted and flagged as temporary."""
    parsed = Nir.parse(with_key(first + VALID[1:13]))
    assert parsed.is_temporary


@pytest.mark.parametrize("first", ["1", "2", "3", "4"])
def test_definitive_nir_is_not_temporary(first):
    """A definitive NIR (first digit 1 to 4) is not flagged as temporary."""
    assert not Nir.parse(with_key(first + VALID[1:13])).is_temporary


@pytest.mark.parametrize(
    "text",
    [
        "",
        VALID[:14],  # 14 characters
        VALID + "0",  # 16 characters
        VALID[:13],  # key missing
        "1234567890123456789",
    ],
)
def test_wrong_length_is_refused(text):
    """A NIR that does not count 15 characters is refused, saying so."""
    with pytest.raises(InvalidIdentifier, match="15 caractères"):
        Nir.parse(text)


@pytest.mark.parametrize("first", ["0", "5", "6", "9"])
def test_unknown_first_digit_is_refused(first):
    """Only 1, 2, 3, 4 (NIR) and 7, 8 (NIA) may start the number, whatever the key."""
    for key in range(1, 98):
        with pytest.raises(InvalidIdentifier, match="format"):
            Nir.parse(first + VALID[1:13] + f"{key:02d}")


@pytest.mark.parametrize(
    "text",
    [
        "2420240A9212329",  # a letter in the commune
        "242022C19212329",  # 2C is not a Corsican département
        "24202A419212329",  # A4 is not a département
        "2420240192123X9",  # a letter in the key
    ],
)
def test_wrong_shape_is_refused(text):
    """Letters outside the Corsican 2A / 2B are refused."""
    with pytest.raises(InvalidIdentifier, match="format"):
        Nir.parse(text)


@pytest.mark.parametrize(
    "text",
    [
        "24202\uff14019212329",  # full-width 4 in the département
        "2420240192123\u0662\u0669",  # Arabic-Indic key 29
    ],
)
def test_non_ascii_digits_are_refused(text):
    """Only ASCII digits make a NIR (otherwise one person gets two different identifiers)."""
    with pytest.raises(InvalidIdentifier):
        Nir.parse(text)


@given(prefixes)
@example("269052A004012")
@example("169052B004012")
@example("7000000000000")  # a NIA of zeros: n mod 97 = 0, key 97
def test_any_valid_prefix_with_its_key_is_accepted(first13):
    """Every number of the right shape is accepted once its computed key is appended."""
    key = nir_key(first13)
    assert 1 <= key <= 97
    parsed = Nir.parse(first13 + f"{key:02d}")
    assert parsed.value == first13 + f"{key:02d}"
    assert parsed.is_temporary == (first13[0] in "78")


@given(prefixes, st.integers(min_value=0, max_value=14), st.integers(min_value=1, max_value=9))
@example("100002A000000", 5, 8)  # the 2 of 2A becomes 0: "0A" is no département
@example("269052A004012", 13, 1)  # a key digit
@example("7000000000000", 14, 5)
def test_any_single_digit_substitution_is_rejected(first13, index, shift):
    """Changing any one digit of a valid NIR (key included) to another digit is always refused.

    97 is prime and does not divide any ``d × 10^k`` (1 ≤ |d| ≤ 9), so ``97 − n mod 97``
    detects every single-digit substitution: the key of the altered number differs.
    """
    valid = first13 + f"{nir_key(first13):02d}"
    digit_positions = [i for i, char in enumerate(valid) if char.isdigit()]
    position = digit_positions[index % len(digit_positions)]
    replacement = str((int(valid[position]) + shift) % 10)  # shift 1..9: always another digit
    altered = valid[:position] + replacement + valid[position + 1 :]
    assert len(altered) == 15 and altered != valid
    if position < 13 and WELL_SHAPED_PREFIX.match(altered[:13]):
        # The arithmetic the rejection rests on: the key of the altered prefix changed.
        assert nir_key(altered[:13]) != nir_key(valid[:13])
    with pytest.raises(InvalidIdentifier):
        Nir.parse(altered)
