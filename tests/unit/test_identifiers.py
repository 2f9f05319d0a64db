"""Tests for NHS number and UPN check digits, validators and synthetic generators."""

from __future__ import annotations

import random

import pytest

from schemas.identifiers import (
    UPN_ALPHABET,
    is_valid_nhs_number,
    is_valid_upn,
    nhs_number_check_digit,
    nhs_number_error,
    synthetic_nhs_number,
    synthetic_nhs_number_count,
    synthetic_upn,
    upn_check_letter,
    upn_error,
)

# --------------------------------------------------------------------------- NHS number


def test_nhs_worked_example_has_check_digit_9() -> None:
    assert nhs_number_check_digit("943476591") == 9
    assert is_valid_nhs_number("9434765919")


def test_first_synthetic_body_with_check_8_is_valid() -> None:
    assert nhs_number_check_digit("999000001") == 8
    assert is_valid_nhs_number("9990000018")


def test_body_whose_check_is_10_has_no_check_digit() -> None:
    assert nhs_number_check_digit("999000000") is None
    assert not is_valid_nhs_number("9990000000")


def test_check_of_11_becomes_0() -> None:
    # 999000005: weighted sum 253 = 23 * 11, so 11 - 0 = 11 -> 0.
    assert nhs_number_check_digit("999000005") == 0
    assert is_valid_nhs_number("9990000050")


def test_first_synthetic_nhs_number_skips_invalid_body() -> None:
    assert synthetic_nhs_number(0) == "9990000018"
    assert synthetic_nhs_number(1) == "9990000026"


def test_many_synthetic_nhs_numbers_are_valid_distinct_and_in_range() -> None:
    indices = list(range(5_000)) + random.Random(7).sample(range(900_000), 5_000)
    numbers = [synthetic_nhs_number(n) for n in indices]
    assert all(is_valid_nhs_number(number) for number in numbers)
    assert len(set(numbers)) == len(set(indices))
    assert all("9990000000" <= number <= "9999999999" for number in numbers)


def test_synthetic_nhs_numbers_increase_with_index() -> None:
    numbers = [synthetic_nhs_number(n) for n in range(0, 900_000, 997)]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == len(numbers)


def test_synthetic_range_holds_at_least_900000_numbers() -> None:
    count = synthetic_nhs_number_count()
    assert count >= 900_000
    assert synthetic_nhs_number(count - 1) == "9999999999"


def test_consecutive_bodies_map_to_consecutive_valid_numbers() -> None:
    expected = []
    body = 999_000_000
    while len(expected) < 300:
        check = nhs_number_check_digit(str(body))
        if check is not None:
            expected.append(f"{body}{check}")
        body += 1
    assert [synthetic_nhs_number(n) for n in range(300)] == expected


@pytest.mark.parametrize("n", [-1, 909_091, 10**7])
def test_out_of_range_synthetic_index_is_rejected(n: int) -> None:
    with pytest.raises(ValueError):
        synthetic_nhs_number(n)


def test_corrupted_nhs_number_fails_check() -> None:
    rng = random.Random(3)
    for n in rng.sample(range(900_000), 200):
        number = synthetic_nhs_number(n)
        position = rng.randrange(10)
        wrong = rng.choice([d for d in "0123456789" if d != number[position]])
        corrupted = number[:position] + wrong + number[position + 1 :]
        assert not is_valid_nhs_number(corrupted)


def test_every_single_digit_change_of_a_valid_nhs_number_fails_check() -> None:
    number = "9434765919"
    for position in range(10):
        for digit in "0123456789":
            if digit != number[position]:
                assert not is_valid_nhs_number(number[:position] + digit + number[position + 1 :])


@pytest.mark.parametrize(
    "value",
    [
        "",
        "943476591",
        "94347659190",
        "943 476 5919",
        "943-476-5919",
        " 9434765919",
        "9434765919\n",
        "94347659l9",
        "９４３４７６５９１９",  # full-width digits
        "٩٤٣٤٧٦٥٩١٩",  # Arabic-Indic digits
    ],
)
def test_badly_shaped_nhs_number_is_rejected(value: str) -> None:
    assert not is_valid_nhs_number(value)
    assert nhs_number_error(value) == "NHS number must be exactly 10 digits"


def test_non_string_nhs_number_is_rejected() -> None:
    assert not is_valid_nhs_number(9434765919)  # type: ignore[arg-type]


@pytest.mark.parametrize("body", ["", "12345678", "1234567890", "12345678a", " 12345678"])
def test_badly_shaped_nhs_body_raises(body: str) -> None:
    with pytest.raises(ValueError, match="9 digits"):
        nhs_number_check_digit(body)


def test_nhs_error_messages_never_contain_the_value() -> None:
    for value in ["9434765918", "9990000000", "943476591", "943 476 5919"]:
        message = nhs_number_error(value)
        assert message is not None
        assert value not in message
        assert value.replace(" ", "")[:6] not in message


def test_nhs_check_failure_message_names_the_rule() -> None:
    assert nhs_number_error("9434765918") == "NHS number fails the mod-11 check"
    assert nhs_number_error("9434765919") is None


def test_nhs_body_error_does_not_echo_the_body() -> None:
    with pytest.raises(ValueError) as info:
        nhs_number_check_digit("94347659X")
    assert "94347659" not in str(info.value)


# --------------------------------------------------------------------------- UPN


def test_upn_worked_example_has_check_letter_w() -> None:
    assert upn_check_letter("820200124001") == "W"
    assert is_valid_upn("W820200124001")


def test_temporary_upn_worked_example_has_check_letter_m() -> None:
    assert upn_check_letter("93020012400A") == "M"
    assert is_valid_upn("M93020012400A")


@pytest.mark.parametrize("upn", ["A950000178301", "H243278544154"])
def test_upns_from_the_cin_validator_tests_are_valid(upn: str) -> None:
    assert is_valid_upn(upn)


@pytest.mark.parametrize("upn", ["R247962919251", "X428558133462"])
def test_upns_with_wrong_initial_letter_fail_check(upn: str) -> None:
    assert not is_valid_upn(upn)
    assert upn_error(upn) == "UPN has the wrong check letter"


def test_synthetic_upn_is_valid_and_carries_its_parts() -> None:
    upn = synthetic_upn("820", 2001, 24, 1)
    assert upn == "W820200124001"
    assert is_valid_upn(upn)


def test_many_synthetic_upns_are_valid_and_distinct() -> None:
    rng = random.Random(11)
    parts = {
        (rng.randrange(1000, 8000), rng.randrange(100), rng.randrange(1000)) for _ in range(5_000)
    }
    upns = [synthetic_upn("999", e, y, s) for e, y, s in parts]
    assert all(is_valid_upn(upn) for upn in upns)
    assert len(set(upns)) == len(parts)


def test_corrupted_upn_fails_check() -> None:
    rng = random.Random(5)
    for _ in range(300):
        upn = synthetic_upn(
            "999", rng.randrange(1000, 8000), rng.randrange(100), rng.randrange(1000)
        )
        position = rng.randrange(1, 13)
        wrong = rng.choice([d for d in "0123456789" if d != upn[position]])
        assert not is_valid_upn(upn[:position] + wrong + upn[position + 1 :])


def test_wrong_check_letter_fails_check() -> None:
    upn = "W820200124001"
    for letter in UPN_ALPHABET.replace("W", ""):
        assert not is_valid_upn(letter + upn[1:])


def test_every_temporary_letter_yields_a_valid_temporary_upn() -> None:
    for letter in UPN_ALPHABET:
        body = "93020012400" + letter
        assert is_valid_upn(upn_check_letter(body) + body)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "W82020012400",
        "W8202001240012",
        "w820200124001",
        "I820200124001",
        "O820200124001",
        "S820200124001",
        "W82020012400AB",
        "WA20200124001",
        "W820200124001\n",
        "W 820200124001",
        "UN1",
        "W８20200124001",  # a full-width digit
    ],
)
def test_badly_shaped_upn_is_rejected(value: str) -> None:
    assert not is_valid_upn(value)
    message = upn_error(value)
    assert message is not None
    assert message.startswith("UPN must be")


@pytest.mark.parametrize("letter", ["I", "O", "S"])
def test_temporary_upn_ending_in_i_o_or_s_is_rejected(letter: str) -> None:
    assert upn_error("A93020012400" + letter) == (
        "UPN temporary letter in position 13 must not be I, O or S"
    )
    with pytest.raises(ValueError):
        upn_check_letter("93020012400" + letter)


@pytest.mark.parametrize(
    "body", ["", "82020012400", "8202001240011", "82020012400a", "8202001240A1"]
)
def test_badly_shaped_upn_body_raises(body: str) -> None:
    with pytest.raises(ValueError, match="UPN body"):
        upn_check_letter(body)


def test_upn_error_messages_never_contain_the_value() -> None:
    for value in ["X820200124001", "W82020012400", "I820200124001", "A93020012400O"]:
        message = upn_error(value)
        assert message is not None
        assert value not in message
        assert value[1:9] not in message


@pytest.mark.parametrize(
    ("la_code", "establishment", "year2", "serial"),
    [
        ("99", 1000, 24, 1),
        ("9999", 1000, 24, 1),
        ("9a9", 1000, 24, 1),
        ("999", -1, 24, 1),
        ("999", 10_000, 24, 1),
        ("999", 1000, 100, 1),
        ("999", 1000, 24, 1000),
        ("999", 1000, 24, -1),
    ],
)
def test_synthetic_upn_rejects_out_of_range_parts(
    la_code: str, establishment: int, year2: int, serial: int
) -> None:
    with pytest.raises(ValueError):
        synthetic_upn(la_code, establishment, year2, serial)
