"""Code lists and weights for the synthetic case-management database.

Codes are the statutory ones (domain.md §1.3 and §2.1); the weights are rough
shapes of the published national CIN census and school census tables, enough
for dashboards and aggregates to look plausible. They are *not* calibrated
statistics and must not be quoted as such. Names, postcodes, teams and early
help categories are local, made-up lists.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate

__all__ = [
    "CLOSE_REASONS",
    "CONTACT_OUTCOME_KEYS",
    "CONTACT_OUTCOMES_WITHOUT_REFERRAL",
    "EARLY_HELP_END_REASONS",
    "EARLY_HELP_ORGANISATIONS",
    "EARLY_HELP_REASONS",
    "ETHNICITIES",
    "FEMALE_FORENAMES",
    "MALE_FORENAMES",
    "POSTCODE_DISTRICTS",
    "POSTCODE_INWARD_LETTERS",
    "PRIMARY_NEEDS",
    "REFERRAL_OUTCOME_KEYS",
    "REFERRAL_SOURCES",
    "REFERRAL_SOURCE_DESCRIPTIONS",
    "REFERRAL_TEAMS",
    "SEXES",
    "SURNAMES",
    "TERMINAL_CLOSE_REASONS",
    "WeightedCodes",
]


@dataclass(frozen=True)
class WeightedCodes:
    """A closed code list with relative weights, sampled through ``random.Random``."""

    codes: tuple[str, ...]
    weights: tuple[float, ...]
    _cumulative: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.codes) != len(self.weights) or not self.codes:
            raise ValueError("codes and weights must be non-empty and the same length")
        if len(set(self.codes)) != len(self.codes):
            raise ValueError("codes must be distinct")
        if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
            raise ValueError("weights must be non-negative with a positive total")
        object.__setattr__(self, "_cumulative", tuple(accumulate(self.weights)))

    @classmethod
    def of(cls, pairs: tuple[tuple[str, float], ...]) -> WeightedCodes:
        """Build from ``(code, weight)`` pairs."""
        return cls(tuple(c for c, _ in pairs), tuple(w for _, w in pairs))

    def pick(self, rng: random.Random) -> str:
        """Draw one code with probability proportional to its weight."""
        cumulative = self._cumulative
        return self.codes[
            bisect_right(cumulative, rng.random() * cumulative[-1], 0, len(cumulative) - 1)
        ]

    def share(self, code: str) -> float:
        """The expected proportion of draws that give ``code``."""
        return self.weights[self.codes.index(code)] / sum(self.weights)


# --------------------------------------------------------------------------- CIN census

#: The 22 CIN referral source codes and their descriptions (domain.md §2.1).
REFERRAL_SOURCE_DESCRIPTIONS: dict[str, str] = {
    "1A": "Individual: family member, relative or carer",
    "1B": "Individual: acquaintance (including neighbours and child minders)",
    "1C": "Individual: self",
    "1D": "Individual: other",
    "2A": "Schools",
    "2B": "Education services",
    "3A": "Health services: GP",
    "3B": "Health services: health visitor",
    "3C": "Health services: school nurse",
    "3D": "Health services: other primary health services",
    "3E": "Health services: A&E",
    "3F": "Health services: other",
    "4": "Housing",
    "5A": "LA services: social care (e.g. adults social care)",
    "5B": "LA services: other internal department",
    "5C": "LA services: external (e.g. another LA's services)",
    "5D": "LA services: early help",
    "6": "Police",
    "7": "Other legal agency",
    "8": "Other",
    "9": "Anonymous",
    "10": "Unknown",
}

#: Referral (and contact) source: police and schools lead, then health and LA services.
REFERRAL_SOURCES = WeightedCodes.of(
    (
        ("1A", 5.0),
        ("1B", 0.5),
        ("1C", 1.5),
        ("1D", 1.0),
        ("2A", 20.0),
        ("2B", 1.5),
        ("3A", 1.5),
        ("3B", 2.0),
        ("3C", 0.5),
        ("3D", 2.0),
        ("3E", 2.5),
        ("3F", 5.0),
        ("4", 2.0),
        ("5A", 2.0),
        ("5B", 5.0),
        ("5C", 3.0),
        ("5D", 3.0),
        ("6", 29.0),
        ("7", 4.0),
        ("8", 4.0),
        ("9", 1.5),
        ("10", 3.5),
    )
)

#: Primary need at assessment: N1 abuse or neglect dominates, then N4, N5, N2.
PRIMARY_NEEDS = WeightedCodes.of(
    (
        ("N1", 50.0),
        ("N4", 14.0),
        ("N5", 12.0),
        ("N2", 8.0),
        ("N9", 5.0),
        ("N3", 3.0),
        ("N6", 3.0),
        ("N0", 2.5),
        ("N8", 2.0),
        ("N7", 0.5),
    )
)

#: Reason for closure of an episode that was not NFA at referral (NFA referrals close as RC8).
CLOSE_REASONS = WeightedCodes.of(
    (
        ("RC7", 45.0),
        ("RC8", 30.0),
        ("RC9", 12.0),
        ("RC5", 5.0),
        ("RC3", 2.5),
        ("RC4", 2.5),
        ("RC6", 2.0),
        ("RC1", 0.5),
        ("RC2", 0.5),
    )
)

#: Closure reasons after which the child can have no later events under the same id.
TERMINAL_CLOSE_REASONS = frozenset({"RC1", "RC2"})

#: Keys of ``cont_contact_outcome_json`` (domain.md §1.2), in SSD order.
CONTACT_OUTCOME_KEYS: tuple[str, ...] = (
    "NEW_REFERRAL_FLAG",
    "EXISTING_REFERRAL_FLAG",
    "CP_ENQUIRY_FLAG",
    "NFA_FLAG",
    "NON_AGENCY_ADOPTION_FLAG",
    "PRIVATE_FOSTERING_FLAG",
    "ADVICE_FLAG",
    "MISSING_FLAG",
    "OLA_CP_FLAG",
    "OTHER_OUTCOMES_EXIST_FLAG",
)

#: Main outcome of a contact that did not become a new referral.
CONTACT_OUTCOMES_WITHOUT_REFERRAL = WeightedCodes.of(
    (
        ("NFA_FLAG", 38.0),
        ("ADVICE_FLAG", 30.0),
        ("EXISTING_REFERRAL_FLAG", 20.0),
        ("OTHER_OUTCOMES_EXIST_FLAG", 7.0),
        ("MISSING_FLAG", 3.0),
        ("OLA_CP_FLAG", 1.0),
        ("PRIVATE_FOSTERING_FLAG", 0.7),
        ("NON_AGENCY_ADOPTION_FLAG", 0.3),
    )
)

#: Keys of ``cine_referral_outcome_json`` (domain.md §1.2), in SSD order.
REFERRAL_OUTCOME_KEYS: tuple[str, ...] = (
    "SINGLE_ASSESSMENT_FLAG",
    "NFA_FLAG",
    "STRATEGY_DISCUSSION_FLAG",
    "CLA_REQUEST_FLAG",
    "NON_AGENCY_ADOPTION_FLAG",
    "PRIVATE_FOSTERING_FLAG",
    "CP_TRANSFER_IN_FLAG",
    "CP_CONFERENCE_FLAG",
    "CARE_LEAVER_FLAG",
    "OTHER_OUTCOMES_EXIST_FLAG",
)

# --------------------------------------------------------------------------- person

SEXES = WeightedCodes.of((("M", 51.0), ("F", 48.7), ("U", 0.3)))

#: DfE ethnicity codes (domain.md §1.3) with rough school-population shares, WBRI the majority.
ETHNICITIES = WeightedCodes.of(
    (
        ("WBRI", 63.0),
        ("WIRI", 0.2),
        ("WOTH", 7.5),
        ("WIRT", 0.1),
        ("WROM", 0.4),
        ("MWBC", 1.6),
        ("MWBA", 0.9),
        ("MWAS", 1.3),
        ("MOTH", 2.6),
        ("AIND", 3.9),
        ("APKN", 4.8),
        ("ABAN", 1.9),
        ("CHNE", 0.5),
        ("AOTH", 2.1),
        ("BCRB", 1.0),
        ("BAFR", 4.5),
        ("BOTH", 0.6),
        ("OOTH", 2.1),
        ("REFU", 0.6),
        ("NOBT", 0.4),
    )
)

FEMALE_FORENAMES: tuple[str, ...] = (
    "Olivia", "Amelia", "Isla", "Ava", "Ivy", "Freya", "Lily", "Florence", "Mia", "Willow",
    "Rosie", "Sophia", "Isabella", "Grace", "Daisy", "Sienna", "Poppy", "Elsie", "Emily", "Ella",
    "Evelyn", "Phoebe", "Sofia", "Evie", "Charlotte", "Harper", "Millie", "Matilda", "Maya",
    "Aisha", "Zara", "Amira", "Hannah", "Chloe", "Jessica", "Ruby", "Layla", "Maryam",
)  # fmt: skip

MALE_FORENAMES: tuple[str, ...] = (
    "Noah", "Muhammad", "George", "Oliver", "Leo", "Arthur", "Oscar", "Theodore", "Freddie",
    "Theo", "Archie", "Harry", "Jack", "Henry", "Charlie", "Alfie", "Jacob", "Thomas", "Joshua",
    "Lucas", "William", "James", "Isaac", "Ethan", "Max", "Mason", "Logan", "Adam", "Yusuf",
    "Ibrahim", "Kai", "Reuben", "Daniel", "Samuel", "Tyler", "Riley",
)  # fmt: skip

SURNAMES: tuple[str, ...] = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
    "Thomas", "Clarke", "Jackson", "Wood", "Harris", "Edwards", "Turner", "Martin", "Cooper",
    "Hill", "Ward", "Hughes", "Moore", "Clark", "King", "Harrison", "Lewis", "Baker", "Lee",
    "Allen", "Morris", "Khan", "Scott", "Watson", "Davis", "Parker", "James", "Bennett", "Young",
    "Phillips", "Richardson", "Mitchell", "Begum", "Ali", "Hussain", "Ahmed", "Nowak", "Okafor",
    "Mensah", "Kaur", "Singh", "Murphy", "Kelly", "Shah",
)  # fmt: skip

# --------------------------------------------------------------------------- address

#: Outward codes of one (fictional) authority's area. Postcodes are areas, not people.
POSTCODE_DISTRICTS: tuple[str, ...] = (
    "OL1",
    "OL2",
    "OL3",
    "OL4",
    "OL5",
    "OL6",
    "OL7",
    "OL8",
    "OL9",
)

#: Letters allowed in the inward code's last two positions (no C, I, K, M, O or V).
POSTCODE_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

# --------------------------------------------------------------------------- teams, early help

REFERRAL_TEAMS: tuple[str, ...] = (
    "MASH",
    "Assessment Team 1",
    "Assessment Team 2",
    "Assessment Team 3",
    "Children in Need Team North",
    "Children in Need Team South",
    "Disabled Children's Team",
)

#: Early-help reasons are not standardised (domain.md §1.3): a small local list.
EARLY_HELP_REASONS = WeightedCodes.of(
    (
        ("Parenting support", 22.0),
        ("Child's emotional wellbeing", 14.0),
        ("Child's behaviour", 12.0),
        ("School attendance", 11.0),
        ("Domestic abuse", 9.0),
        ("Parental mental health", 8.0),
        ("Financial and housing", 8.0),
        ("Early years development", 6.0),
        ("SEND support", 6.0),
        ("Parental substance misuse", 4.0),
    )
)

#: Proposed canonical end reasons (domain.md §8, event 4).
EARLY_HELP_END_REASONS = WeightedCodes.of(
    (
        ("OUTCOMES_MET", 45.0),
        ("STEP_DOWN_UNIVERSAL", 15.0),
        ("STEP_UP_CSC", 12.0),
        ("DISENGAGED", 12.0),
        ("OTHER", 10.0),
        ("MOVED", 6.0),
    )
)

EARLY_HELP_ORGANISATIONS = WeightedCodes.of(
    (
        ("Family Hub North", 25.0),
        ("Family Hub South", 25.0),
        ("Family Hub Central", 20.0),
        ("School early help lead", 14.0),
        ("Health Visiting Service", 7.0),
        ("Youth Service", 5.0),
        ("Voluntary sector partner", 4.0),
    )
)
