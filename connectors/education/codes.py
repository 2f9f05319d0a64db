"""Code lists the education files use, and how they map onto the Chorus contract.

Sources (see the domain notes, §4): the national attendance codes in
force from 19 August 2024, the EYFSP judgements (1 emerging, 2 expected, A not
assessed), school census SEN provision and need types, exclusion categories and
reason codes, and the EHCP milestones of the SEN2 chain.
"""

from __future__ import annotations

from schemas.validation.education import ATTENDANCE_CODE_CATEGORIES_2024

#: The 17 early learning goals, ELG01-ELG17 (Chorus numbering, framework order).
ELGS: tuple[str, ...] = tuple(f"ELG{n:02d}" for n in range(1, 18))
GLD_ELGS: tuple[str, ...] = ELGS[:12]

#: EYFSP judgement as files write it -> contract symbol.
ELG_JUDGEMENTS: dict[str, str] = {
    "1": "EMERGING",
    "2": "EXPECTED",
    "A": "NOT_ASSESSED",
    "EMERGING": "EMERGING",
    "EXPECTED": "EXPECTED",
    "NOT_ASSESSED": "NOT_ASSESSED",
}

#: Attendance code as a register writes it -> the contract's by_code key.
ATTENDANCE_SYMBOLS: dict[str, str] = {"/": "PRESENT_AM", "\\": "PRESENT_PM", "#": "PLANNED_CLOSURE"}
_CATS = ATTENDANCE_CODE_CATEGORIES_2024
PRESENT_CODES = _CATS["present"] | _CATS["attending_elsewhere"]
AUTHORISED_CODES = _CATS["leave_of_absence"] | _CATS["other_authorised"]
UNAUTHORISED_CODES = _CATS["unauthorised"]
NOT_POSSIBLE_CODES = _CATS["administrative"]
ATTENDANCE_CODES = PRESENT_CODES | AUTHORISED_CODES | UNAUTHORISED_CODES | NOT_POSSIBLE_CODES

#: Census term codes (and their names) -> contract term.
TERMS: dict[str, str] = {
    "AUT": "AUTUMN",
    "SPR": "SPRING",
    "SUM": "SUMMER",
    "AUTUMN": "AUTUMN",
    "SPRING": "SPRING",
    "SUMMER": "SUMMER",
}

#: Exclusion category codes (census PERM / FIXD; SUSP as some MIS export it) -> contract.
EXCLUSION_CATEGORIES: dict[str, str] = {
    "PERM": "PERMANENT",
    "PERMANENT": "PERMANENT",
    "FIXD": "SUSPENSION",
    "SUSP": "SUSPENSION",
    "SUSPENSION": "SUSPENSION",
}

#: School census exclusion reason codes (2020 onwards) [verify in the census guide]:
#: physical assault against a pupil / an adult, verbal abuse or threatening behaviour
#: against a pupil / an adult, use or threat of use of an offensive weapon or prohibited
#: item, bullying, racist abuse, abuse against sexual orientation and gender identity,
#: abuse relating to disability, sexual misconduct, drug and alcohol related, damage,
#: theft, inappropriate use of social media or online technology, wilful and repeated
#: transgression of protective measures, persistent or general disruptive behaviour.
EXCLUSION_REASONS: frozenset[str] = frozenset(
    {"PP", "PA", "VP", "VA", "OW", "BU", "RA", "LG", "DS", "SM", "DA", "DM", "TH", "MT", "PH", "DB"}
)

SEN_PROVISIONS: frozenset[str] = frozenset({"E", "K", "N"})
SEN_NEED_TYPES: frozenset[str] = frozenset(
    {"SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "HI", "VI", "MSI", "PD", "ASD", "OTH", "NSA"}
)

EHCP_MILESTONES: frozenset[str] = frozenset(
    {
        "REQUEST_RECEIVED",
        "DECISION_TO_ASSESS",
        "DECISION_NOT_TO_ASSESS",
        "PLAN_ISSUED",
        "PLAN_CEASED",
        "ANNUAL_REVIEW",
    }
)

YES = frozenset({"Y", "YES", "TRUE", "1", "T"})
NO = frozenset({"N", "NO", "FALSE", "0", "F"})

#: Source systems that write these files (a subset of the envelope's SourceSystem enum).
SOURCE_SYSTEMS: tuple[str, ...] = ("SIMS", "ARBOR", "CAPITA_ONE", "SYNERGY", "OTHER")
