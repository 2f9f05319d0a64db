"""Check digits, validators and synthetic generators for children's identifiers.

Two identifiers travel with a child across health, education and social care:

* **NHS number** (domain.md §3.4): 10 digits; the 10th is a modulus-11 check
  digit over digits 1-9 weighted 10..2. A remainder giving check 11 means 0; one
  giving 10 means the nine digits can never form a valid number.
* **Unique Pupil Number, UPN** (domain.md §4.1): a check letter, then the DfE LA
  number (positions 2-4), establishment number (5-8), two-digit year of
  allocation (9-10) and serial (11-13). A *temporary* UPN has a letter in
  position 13. The check letter is the sum of positions 2-13 weighted 2..13
  (a letter in position 13 counts as its index in ``UPN_ALPHABET``), mod 23,
  mapped through ``UPN_ALPHABET``.

Synthetic values: NHS numbers come from 999 000 0000-999 999 9999, which pass
the check but are never issued to patients; synthetic UPNs use a caller-chosen
(fictitious) LA number.

Everything here is pure: no I/O, no global state beyond a cached lookup table.
Messages never contain the identifier being checked, because it is personal
data and messages end up in logs.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import cache

__all__ = [
    "NHS_SYNTHETIC_FIRST",
    "NHS_SYNTHETIC_LAST",
    "UPN_ALPHABET",
    "is_valid_nhs_number",
    "is_valid_upn",
    "nhs_number_check_digit",
    "nhs_number_error",
    "synthetic_nhs_number",
    "synthetic_nhs_number_count",
    "synthetic_upn",
    "upn_check_letter",
    "upn_error",
]

_NHS_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
_NHS_BODY = re.compile(r"[0-9]{9}", re.ASCII)
_NHS_NUMBER = re.compile(r"[0-9]{10}", re.ASCII)

#: First and last 10-digit numbers of the range reserved for synthetic data.
NHS_SYNTHETIC_FIRST = "9990000000"
NHS_SYNTHETIC_LAST = "9999999999"
_SYNTHETIC_BODY_BASE = 999_000_000
_SYNTHETIC_BODIES = 1_000_000
# The synthetic range is scanned in blocks of 1,000 bodies (the last three
# digits vary). Which offsets in a block are valid depends only on the weighted
# sum of the block's first six digits mod 11, so 11 patterns cover every block.
_BLOCK = 1_000

#: Check-letter alphabet of the DfE UPN guide: A=0 ... Z=22 (no I, O or S).
UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"
_UPN_WEIGHTS = tuple(range(2, 14))
_UPN_BODY = re.compile(r"[0-9]{12}|[0-9]{11}[A-Z]", re.ASCII)
# The 903 validator's shape rule (V903 rule 168), matched with fullmatch.
_UPN_SHAPE = re.compile(r"^(?![IOS])[A-Z](\d{12}|\d{11}[A-Z])$", re.ASCII)


# --------------------------------------------------------------------------- NHS number


def _nhs_weighted_sum(digits: str) -> int:
    return sum(int(d) * w for d, w in zip(digits, _NHS_WEIGHTS, strict=True))


def _nhs_check_from_sum(total: int) -> int | None:
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def nhs_number_check_digit(first9: str) -> int | None:
    """Return the mod-11 check digit for the first nine digits of an NHS number.

    Returns ``None`` when the check works out as 10: such nine digits can never
    form a valid NHS number. Raises ``ValueError`` if ``first9`` is not exactly
    nine ASCII digits.
    """
    if not isinstance(first9, str) or not _NHS_BODY.fullmatch(first9):
        raise ValueError("NHS number body must be exactly 9 digits")
    return _nhs_check_from_sum(_nhs_weighted_sum(first9))


def nhs_number_error(value: str) -> str | None:
    """Say why ``value`` is not a valid NHS number, or return ``None`` if it is.

    ``value`` must already be normalised (no spaces or dashes). The message
    never includes the value.
    """
    if not isinstance(value, str) or not _NHS_NUMBER.fullmatch(value):
        return "NHS number must be exactly 10 digits"
    check = _nhs_check_from_sum(_nhs_weighted_sum(value[:9]))
    if check is None or check != int(value[9]):
        return "NHS number fails the mod-11 check"
    return None


def is_valid_nhs_number(value: str) -> bool:
    """True when ``value`` is exactly 10 ASCII digits with a correct check digit."""
    return nhs_number_error(value) is None


@cache
def _synthetic_tables() -> tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[int, ...], ...]]:
    """Cumulative valid counts per block, each block's residue, valid offsets per residue."""
    offsets_by_residue: list[tuple[int, ...]] = []
    for residue in range(11):
        valid = []
        for offset in range(_BLOCK):
            if _nhs_check_from_sum(residue + _offset_weighted_sum(offset)) is not None:
                valid.append(offset)
        offsets_by_residue.append(tuple(valid))
    residues = tuple(_block_residue(block) for block in range(_SYNTHETIC_BODIES // _BLOCK))
    cumulative = [0]
    for residue in residues:
        cumulative.append(cumulative[-1] + len(offsets_by_residue[residue]))
    return tuple(cumulative), residues, tuple(offsets_by_residue)


def _offset_weighted_sum(offset: int) -> int:
    """Weighted sum of body digits 7-9 (weights 4, 3, 2) for an offset 0-999."""
    return 4 * (offset // 100) + 3 * (offset // 10 % 10) + 2 * (offset % 10)


def _block_residue(block: int) -> int:
    """Weighted sum mod 11 of the first six digits of bodies in ``block``."""
    prefix = f"{(_SYNTHETIC_BODY_BASE + block * _BLOCK) // _BLOCK:06d}"
    return sum(int(d) * w for d, w in zip(prefix, _NHS_WEIGHTS[:6], strict=True)) % 11


def synthetic_nhs_number_count() -> int:
    """How many valid NHS numbers the synthetic range holds (a little over 900,000)."""
    cumulative, _, _ = _synthetic_tables()
    return cumulative[-1]


def synthetic_nhs_number(n: int) -> str:
    """Return the ``n``-th (from 0) valid NHS number in 999 000 0000-999 999 9999.

    Bodies whose check would be 10 are skipped, so ``n`` -> number is strictly
    increasing and therefore injective. ``synthetic_nhs_number(0)`` is
    ``"9990000018"`` (body 999000000 is invalid). Raises ``ValueError`` when
    ``n`` is outside ``range(synthetic_nhs_number_count())``.
    """
    cumulative, residues, offsets_by_residue = _synthetic_tables()
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < cumulative[-1]:
        raise ValueError("synthetic NHS number index is out of range")
    block = bisect_right(cumulative, n) - 1
    offset = offsets_by_residue[residues[block]][n - cumulative[block]]
    check = _nhs_check_from_sum(residues[block] + _offset_weighted_sum(offset))
    assert check is not None  # guaranteed by the offset table
    return f"{_SYNTHETIC_BODY_BASE + block * _BLOCK + offset:09d}{check}"


# --------------------------------------------------------------------------- UPN


_UPN_VALUES = {**{str(d): d for d in range(10)}, **{c: i for i, c in enumerate(UPN_ALPHABET)}}


def upn_check_letter(body12: str) -> str:
    """Return the check letter for UPN characters 2-13 (``body12``).

    ``body12`` is 12 digits, or 11 digits and a letter from ``UPN_ALPHABET``
    for a temporary UPN. Raises ``ValueError`` for any other shape.
    """
    if (
        not isinstance(body12, str)
        or not _UPN_BODY.fullmatch(body12)
        or (body12[-1].isalpha() and body12[-1] not in UPN_ALPHABET)
    ):
        raise ValueError("UPN body must be 12 digits, or 11 digits and a check-alphabet letter")
    total = sum(_UPN_VALUES[c] * w for c, w in zip(body12, _UPN_WEIGHTS, strict=True))
    return UPN_ALPHABET[total % 23]


def upn_error(value: str) -> str | None:
    """Say why ``value`` is not a valid UPN, or return ``None`` if it is.

    Only the shape and the check letter are tested; whether positions 2-4 are a
    real LA number is a reference-data question left to the caller. The message
    never includes the value.
    """
    if not isinstance(value, str) or not _UPN_SHAPE.fullmatch(value):
        return "UPN must be a letter (not I, O or S) then 12 digits, or 11 digits and a letter"
    if value[-1].isalpha() and value[-1] not in UPN_ALPHABET:
        return "UPN temporary letter in position 13 must not be I, O or S"
    if upn_check_letter(value[1:]) != value[0]:
        return "UPN has the wrong check letter"
    return None


def is_valid_upn(value: str) -> bool:
    """True when ``value`` has the UPN shape and the right mod-23 check letter."""
    return upn_error(value) is None


def synthetic_upn(la_code: str, establishment: int, year2: int, serial: int) -> str:
    """Build a (permanent) UPN from its parts, adding the check letter.

    ``la_code`` is a 3-digit LA number, ``establishment`` 0-9999, ``year2`` the
    two-digit year of allocation (0-99) and ``serial`` 0-999. Distinct parts
    give distinct UPNs.
    """
    if not isinstance(la_code, str) or not re.fullmatch(r"[0-9]{3}", la_code, re.ASCII):
        raise ValueError("LA code must be exactly 3 digits")
    for name, part, upper in (
        ("establishment", establishment, 9999),
        ("year2", year2, 99),
        ("serial", serial, 999),
    ):
        if isinstance(part, bool) or not isinstance(part, int) or not 0 <= part <= upper:
            raise ValueError(f"UPN {name} must be an integer from 0 to {upper}")
    body = f"{la_code}{establishment:04d}{year2:02d}{serial:03d}"
    return upn_check_letter(body) + body
