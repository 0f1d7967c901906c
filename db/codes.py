"""National code standards: resident ID (GB 11643), credit code (GB 32100), mobile phone numbers,
formats, periods.

Pure functions without database access; every rejection is a `CodeError` with a message a
user can act on.
"""

from __future__ import annotations

import re
from datetime import date

from db.models.enums import Gender


class CodeError(ValueError):
    """A code that does not follow its national standard; the message says why."""


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_VALUES = {char: index for index, char in enumerate(CREDIT_ALPHABET)}

CODE_LENGTH = 18

_DIVISION = re.compile(r"\d{6}", re.ASCII)
_OCCUPATION = re.compile(r"[1-8]-\d{2}-\d{2}-\d{2}", re.ASCII)
_INDUSTRY = re.compile(r"[A-T](\d{2,4})?", re.ASCII)
_PERIOD = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
_MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)
_PHONE_SEPARATORS = re.compile(r"[ -]")
COUNTRY_PREFIXES = ("+86", "0086")


# Resident ID number (GB 11643, ISO 7064 MOD 11-2)


def id_number_check_char(first17: str) -> str:
    """The 18th character for 17 leading digits."""
    if len(first17) != CODE_LENGTH - 1 or not first17.isascii() or not first17.isdigit():
        raise CodeError("An ID number starts with 17 digits.")
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def normalize_id_number(value: str) -> str:
    """The canonical form (uppercase `X`) of a valid 18-character resident ID number."""
    id_number = value.strip().upper()
    if len(id_number) != CODE_LENGTH:
        raise CodeError(f"An ID number has 18 characters, got {len(id_number)}.")
    first17, check = id_number[:17], id_number[17]
    if not (first17.isascii() and first17.isdigit()) or check not in "0123456789X":
        raise CodeError("An ID number is 17 digits followed by a digit or X.")
    birth = _birth_date(first17)
    if birth > date.today():
        raise CodeError(f"The birth date {birth.isoformat()} in the ID number is in the future.")
    expected = id_number_check_char(first17)
    if check != expected:
        raise CodeError(
            f"The ID number's check character is {check} but its digits require {expected}."
        )
    return id_number


def _birth_date(first17: str) -> date:
    digits = first17[6:14]
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError as exc:
        raise CodeError(f"The birth date {digits} in the ID number is not a real date.") from exc


def id_number_birth_date(id_number: str) -> date:
    return _birth_date(normalize_id_number(id_number)[:17])


def id_number_gender(id_number: str) -> Gender:
    """The 17th digit is odd for men and even for women."""
    return Gender.MALE if int(normalize_id_number(id_number)[16]) % 2 else Gender.FEMALE


def generate_id_number(region_code: str, birth: date, sequence: int, male: bool) -> str:
    """A valid ID number; `sequence` (0..499) picks the order code, its parity the gender."""
    if not is_division_code_format(region_code):
        raise CodeError(f"A division code has 6 digits, got {region_code!r}.")
    if not 0 <= sequence < 500:
        raise CodeError(f"The sequence must be between 0 and 499, got {sequence}.")
    order = sequence * 2 + (1 if male else 0)
    first17 = f"{region_code}{birth:%Y%m%d}{order:03d}"
    return first17 + id_number_check_char(first17)


# Mobile phone numbers (mainland China)


def normalize_mobile_phone(value: str) -> str:
    """The 11 digits of a mainland mobile number (`13812345678`), from text that may put the
    country code (+86 or 0086) before it and spaces or hyphens between its digits."""
    digits = _PHONE_SEPARATORS.sub("", value.strip())
    for prefix in COUNTRY_PREFIXES:
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
            break
    if not _MOBILE.fullmatch(digits):
        raise CodeError(
            "A mobile number has 11 digits starting with 13 to 19 (+86 may come first)."
        )
    return digits


# Unified social credit code (GB 32100)


def credit_code_check_char(first17: str) -> str:
    """The 18th character for 17 leading characters of the credit-code alphabet."""
    if len(first17) != CODE_LENGTH - 1:
        raise CodeError("A credit code starts with 17 characters.")
    try:
        total = sum(
            _CREDIT_VALUES[char] * weight
            for char, weight in zip(first17, CREDIT_WEIGHTS, strict=True)
        )
    except KeyError as exc:
        raise CodeError(
            f"A credit code uses only {CREDIT_ALPHABET} (no I, O, S, V, Z); found {exc.args[0]!r}."
        ) from exc
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def normalize_credit_code(value: str) -> str:
    """The canonical (uppercase) form of a valid 18-character unified social credit code."""
    code = value.strip().upper()
    if len(code) != CODE_LENGTH:
        raise CodeError(f"A credit code has 18 characters, got {len(code)}.")
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        raise CodeError(
            f"The credit code's check character is {code[17]} but its first 17 require {expected}."
        )
    return code


def generate_credit_code(region_code: str, serial: int) -> str:
    """A valid code of a company (dept 9, type 1) registered in `region_code`.

    The 9-character organisation code is `serial` in base 31 over the credit alphabet.
    """
    if not is_division_code_format(region_code):
        raise CodeError(f"A division code has 6 digits, got {region_code!r}.")
    if not 0 <= serial < 31**9:
        raise CodeError(f"The serial must be between 0 and 31**9 - 1, got {serial}.")
    organisation = ""
    for _ in range(9):
        serial, digit = divmod(serial, 31)
        organisation = CREDIT_ALPHABET[digit] + organisation
    first17 = f"91{region_code}{organisation}"
    return first17 + credit_code_check_char(first17)


# Formats and periods


def is_division_code_format(value: str) -> bool:
    return bool(_DIVISION.fullmatch(value))


def division_prefix(code: str) -> str:
    """The code prefix every division under `code` shares (GB/T 2260: PPCCXX).

    A province (`440000`) owns `44....`, a prefecture (`440300`) owns `4403..`, and a county
    only itself.
    """
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def is_occupation_code_format(value: str) -> bool:
    return bool(_OCCUPATION.fullmatch(value))


def is_industry_code_format(value: str) -> bool:
    return bool(_INDUSTRY.fullmatch(value))


def validate_period(year_month: str) -> date:
    """The first day of a real, not future month written `YYYY-MM`."""
    match = _PERIOD.fullmatch(year_month.strip())
    if not match:
        raise CodeError(f"A period is written YYYY-MM, got {year_month!r}.")
    try:
        first_day = date(int(match[1]), int(match[2]), 1)
    except ValueError as exc:
        raise CodeError(f"The period {year_month} is not a real month.") from exc
    if first_day > date.today().replace(day=1):
        raise CodeError(f"The period {year_month} is in the future.")
    return first_day


_SKILL_CODE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}", re.ASCII)


def is_skill_code_format(code: str) -> bool:
    """A skills-vocabulary code: 1–32 lowercase ASCII letters, digits, `_`, `.` or `-`."""
    return _SKILL_CODE.fullmatch(code) is not None
