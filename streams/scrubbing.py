"""The `scrub` transform: a person's own words kept, the details that identify anyone replaced.

Used where the sharing policy lets a purpose quote what a child or family said
(strategic reporting, with the speaker's consent to verbatim quotes). The words
stay readable; each identifying detail becomes a marker:

- e-mail addresses -> ``[email]``
- dates: numeric (``12/03/2020``, ``2020-03-12``) and written (``12 March 2020``,
  ``12th Mar``, ``March 12, 2020``) -> ``[date]``
- UPNs and former UPNs (a letter and 12 digits, or a temporary UPN ending in a
  letter) -> ``[UPN]``
- UK phone numbers (``01632 960123``, ``+44 7700 900123``) -> ``[phone]``
- NHS numbers (10 digits, spaced ``943 476 5919`` or not) -> ``[NHS number]``
- UK postcodes (``OL1 3AB``, ``OL13AB``) -> ``[postcode]``
- personal names on the list in streams/data/names.txt, written with a capital
  letter (``Callum``, ``CALLUM``, ``Callum's``) -> ``[name]``

Scrubbing errs on the side of removing: a capitalised ordinary word that is also
a name on the list (``Grace``) is replaced too. It cannot know every name, so it
is a second line of defence: the policy releases scrubbed words only with consent
to quotes, and aggregates show them only in cells large enough (disclosure control).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

NAMES_FILE = Path(__file__).parent / "data" / "names.txt"

_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DAY = r"(?:[12][0-9]|3[01]|0?[1-9])(?:st|nd|rd|th)?"

#: (marker, pattern), applied in this order: the more specific shapes first.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("[email]", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    (
        "[date]",
        re.compile(
            rf"\b(?:{_DAY}\s+(?:of\s+)?{_MONTHS}\b\.?(?:,?\s+\d{{4}})?"
            rf"|{_MONTHS}\.?\s+{_DAY}\b(?:,?\s+\d{{4}})?)(?!\w)",
            re.IGNORECASE,
        ),
    ),
    ("[date]", re.compile(r"\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b")),
    ("[date]", re.compile(r"\b\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})\b")),
    ("[UPN]", re.compile(r"\b[A-Z]\d{11}[0-9A-Z]\b", re.IGNORECASE)),
    (
        "[phone]",
        re.compile(r"(?:\+44\s?(?:\(0\)\s?)?|\b0)\d{2,4}[\s-]?\d{3,4}[\s-]?\d{3,4}\b"),
    ),
    ("[NHS number]", re.compile(r"\b\d{3}[\s-]?\d{3}[\s-]?\d{4}\b")),
    (
        "[postcode]",
        re.compile(r"\b(?:GIR\s?0AA|[A-Z]{1,2}[0-9][A-Z0-9]?\s?[0-9][A-Z]{2})\b", re.IGNORECASE),
    ),
)
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z]*\b")
NAME = "[name]"


@lru_cache(maxsize=4)
def load_names(path: Path = NAMES_FILE) -> frozenset[str]:
    """The names list: one name a line, # starts a comment."""
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        word = line.split("#", 1)[0].strip()
        if word:
            names.add(word.casefold())
    return frozenset(names)


def scrub(text: str, names: frozenset[str] | None = None) -> str:
    """`text` with every identifying detail it recognises replaced by a marker."""
    known = load_names() if names is None else names
    for marker, pattern in PATTERNS:
        text = pattern.sub(marker, text)

    def name(match: re.Match[str]) -> str:
        word = match.group(0)
        return NAME if word.casefold() in known else word

    return _CAPITALISED.sub(name, text)
