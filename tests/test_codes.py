"""The national code standards, checked against the DOMAIN.md vectors and round-trips."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from db.codes import (
    CodeError,
    credit_code_check_char,
    generate_credit_code,
    generate_id_number,
    id_number_birth_date,
    id_number_check_char,
    id_number_gender,
    is_division_code_format,
    is_industry_code_format,
    is_occupation_code_format,
    normalize_credit_code,
    normalize_id_number,
    normalize_mobile_phone,
    validate_period,
)
from db.models.enums import Gender

VALID_IDS = ["11010519491231002X", "34052419800101001X", "360426199101010071"]


@pytest.mark.parametrize("id_number", VALID_IDS)
def test_valid_id_numbers_pass(id_number: str) -> None:
    assert normalize_id_number(id_number) == id_number
    assert id_number_check_char(id_number[:17]) == id_number[17]


def test_id_number_is_stripped_and_x_uppercased() -> None:
    assert normalize_id_number(" 11010519491231002x ") == "11010519491231002X"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("340524198001010013", "check character"),
        ("11010519491331002X", "not a real date"),
        ("1101051949123100", "18 characters"),
        ("11010519491231002XX", "18 characters"),
        ("1101051949123100AX", "17 digits"),
        ("11010519491231002Y", "17 digits"),
        ("１１０１０５１９４９１２３１００２X", "17 digits"),
    ],
)
def test_invalid_id_numbers_are_rejected(value: str, message: str) -> None:
    with pytest.raises(CodeError, match=message):
        normalize_id_number(value)


@pytest.mark.parametrize(
    "value",
    ["13800138000", "138 0013 8000", "138-0013-8000", "+8613800138000", "+86 138 0013 8000",
     "008613800138000", " 13800138000 "],
)
def test_mobile_numbers_are_read_without_country_code_and_separators(value: str) -> None:
    assert normalize_mobile_phone(value) == "13800138000"


@pytest.mark.parametrize(
    "value",
    ["1380013800", "138001380001", "12800138000", "23800138000", "+85213800138000",
     "138.0013.8000", "１３８００１３８０００", "", "8613800138000"],
)
def test_other_phone_numbers_are_rejected(value: str) -> None:
    with pytest.raises(CodeError, match="mobile number has 11 digits"):
        normalize_mobile_phone(value)


def test_id_number_born_in_the_future_is_rejected() -> None:
    tomorrow = date.today() + timedelta(days=1)
    with pytest.raises(CodeError, match="in the future"):
        normalize_id_number(generate_id_number("110105", tomorrow, 1, male=True))


def test_birth_date_and_gender_come_from_the_id_number() -> None:
    assert id_number_birth_date("11010519491231002X") == date(1949, 12, 31)
    assert id_number_gender("11010519491231002X") is Gender.FEMALE
    assert id_number_gender("34052419800101001X") is Gender.MALE
    assert id_number_gender("360426199101010071") is Gender.MALE


@pytest.mark.parametrize("male", [True, False])
@pytest.mark.parametrize("sequence", [0, 1, 250, 499])
def test_generated_id_numbers_round_trip(sequence: int, male: bool) -> None:
    birth = date(1988, 2, 29)
    id_number = generate_id_number("440306", birth, sequence, male)
    assert normalize_id_number(id_number) == id_number
    assert id_number.startswith("440306")
    assert id_number_birth_date(id_number) == birth
    assert id_number_gender(id_number) is (Gender.MALE if male else Gender.FEMALE)


def test_generator_reproduces_a_known_id_number() -> None:
    assert generate_id_number("110105", date(1949, 12, 31), 1, male=False) == "11010519491231002X"


@pytest.mark.parametrize(("region", "sequence"), [("11010", 1), ("110105", 500), ("110105", -1)])
def test_id_generator_rejects_bad_input(region: str, sequence: int) -> None:
    with pytest.raises(CodeError):
        generate_id_number(region, date(1990, 1, 1), sequence, male=True)


def test_valid_credit_code_passes() -> None:
    assert normalize_credit_code("91110000600037341L") == "91110000600037341L"
    assert normalize_credit_code(" 91110000600037341l ") == "91110000600037341L"
    assert credit_code_check_char("91110000600037341") == "L"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("91110000600037341M", "check character"),
        ("91110000600037341", "18 characters"),
        ("9111000060003734IL", "no I, O, S, V, Z"),
        ("91110000600037341-", "check character"),
    ],
)
def test_invalid_credit_codes_are_rejected(value: str, message: str) -> None:
    with pytest.raises(CodeError, match=message):
        normalize_credit_code(value)


@pytest.mark.parametrize("serial", [0, 1, 30, 31, 123_456_789, 31**9 - 1])
def test_generated_credit_codes_round_trip(serial: int) -> None:
    code = generate_credit_code("440300", serial)
    assert normalize_credit_code(code) == code
    assert code[:2] == "91"
    assert code[2:8] == "440300"


def test_generated_credit_codes_are_distinct() -> None:
    codes = {generate_credit_code("510100", serial) for serial in range(2_000)}
    assert len(codes) == 2_000


@pytest.mark.parametrize(("region", "serial"), [("44030", 1), ("440300", -1), ("440300", 31**9)])
def test_credit_generator_rejects_bad_input(region: str, serial: int) -> None:
    with pytest.raises(CodeError):
        generate_credit_code(region, serial)


def test_code_formats() -> None:
    assert is_division_code_format("110108")
    assert not is_division_code_format("11010")
    assert not is_division_code_format("１１０１０８")
    assert is_occupation_code_format("4-02-07-10")
    assert not is_occupation_code_format("9-02-07-10")
    assert not is_occupation_code_format("4-2-07-10")
    assert all(is_industry_code_format(code) for code in ["C", "C13", "O801", "O8010"])
    assert not any(is_industry_code_format(code) for code in ["U", "C1", "C13456", "c13"])


def test_period_is_the_first_day_of_a_past_month() -> None:
    assert validate_period("2024-02") == date(2024, 2, 1)
    this_month = date.today().replace(day=1)
    assert validate_period(f"{this_month:%Y-%m}") == this_month


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2024-13", "not a real month"),
        ("2024-00", "not a real month"),
        ("0000-01", "not a real month"),
        ("2024-2", "YYYY-MM"),
        ("202402", "YYYY-MM"),
        (f"{date.today().year + 1}-01", "in the future"),
    ],
)
def test_invalid_periods_are_rejected(value: str, message: str) -> None:
    with pytest.raises(CodeError, match=message):
        validate_period(value)
