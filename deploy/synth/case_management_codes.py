"""Code lists and weights for the synthetic LA's social care, looked-after, care leaver,
early help and voice rows (the people, contacts and referrals use ``codes``).

Codes are the statutory ones (domain.md sections 2.1, 2.2, 2.4 and 6); the weights are
rough shapes of the DfE "Characteristics of children in need" and SSDA903 tables, enough
for aggregates to look plausible. They are *not* calibrated statistics and must not be
quoted as such.
"""

from __future__ import annotations

from deploy.synth.codes import WeightedCodes

# --------------------------------------------------------------------------- assessment, CP
# Shapes of the DfE "Characteristics of children in need" tables (factors at assessment,
# category of abuse) and of the SSDA903 tables (placements, legal status, reasons ceased,
# participation); rough, as above.

#: Factors identified at assessment (the CIN code without the AF_ prefix), by how often
#: they are recorded: parental mental health and domestic abuse lead.
ASSESSMENT_FACTORS = WeightedCodes.of(
    (
        ("4B", 33.0), ("3B", 31.0), ("4A", 19.0), ("17A", 18.0), ("16A", 18.0), ("3A", 16.0),
        ("2B", 16.0), ("1B", 15.0), ("18C", 12.0), ("20", 10.0), ("14A", 9.0), ("15A", 8.0),
        ("5A", 6.0), ("10A", 5.0), ("3C", 5.0), ("6A", 4.0), ("19C", 4.0), ("6B", 3.0),
        ("5B", 3.0), ("2A", 3.0), ("7A", 3.0), ("24A", 3.0), ("11A", 3.0), ("4C", 2.0),
        ("13A", 2.0), ("18B", 2.0), ("19B", 2.0), ("1A", 1.0), ("2C", 1.0), ("1C", 1.0),
        ("9A", 1.0), ("6C", 0.5), ("5C", 0.5), ("8E", 0.3), ("8F", 0.2), ("12A", 0.3),
        ("22A", 0.2), ("23A", 0.2), ("8B", 0.1), ("8C", 0.1), ("8D", 0.1),
    )
)  # fmt: skip

#: Initial category of abuse of a child protection plan (neglect and emotional abuse lead).
CATEGORIES_OF_ABUSE = WeightedCodes.of(
    (("NEG", 51.0), ("EMO", 38.0), ("PHY", 6.0), ("SAB", 4.0), ("MUL", 1.0))
)

#: How a child aged 4 or over took part in a review (PN0 is for under-4s only).
PARTICIPATION = WeightedCodes.of(
    (("PN1", 45.0), ("PN2", 5.0), ("PN3", 8.0), ("PN4", 3.0), ("PN5", 17.0), ("PN6", 15.0),
     ("PN7", 7.0))
)  # fmt: skip

# --------------------------------------------------------------------------- looked after

#: Placement type at the start of a placement (foster care about two thirds).
PLACEMENT_TYPES = WeightedCodes.of(
    (
        ("U4", 25.0), ("U6", 20.0), ("U3", 8.0), ("U1", 6.0), ("U2", 1.0), ("U5", 1.0),
        ("K2", 10.0), ("P1", 7.0), ("K3", 3.0), ("R1", 2.0), ("A6", 1.5), ("A4", 1.0),
        ("A5", 0.5), ("S1", 0.5), ("K1", 0.3), ("R2", 0.3), ("R3", 0.3), ("R5", 0.2),
        ("Z12", 0.3), ("Z13", 0.2),
    )
)  # fmt: skip
#: Placement types used only from age 16 (supported accommodation, SSDA903 rule 371).
PLACEMENTS_FROM_16 = frozenset({"K3"})
#: Provider by placement type family (first letter, or the code); none for Z1x.
PLACEMENT_PROVIDERS: dict[str, WeightedCodes] = {
    "U": WeightedCodes.of((("PR1", 55.0), ("PR4", 40.0), ("PR5", 5.0))),
    "K": WeightedCodes.of((("PR4", 70.0), ("PR1", 25.0), ("PR5", 5.0))),
    "R": WeightedCodes.of((("PR4", 60.0), ("PR3", 40.0))),
    "A": WeightedCodes.of((("PR1", 60.0), ("PR3", 30.0), ("PR5", 10.0))),
    "S": WeightedCodes.of((("PR4", 70.0), ("PR3", 30.0))),
    "P": WeightedCodes.of((("PR0", 100.0),)),
}
#: Legal status when a period of care starts, and the order that usually follows an interim one.
LEGAL_STATUSES_AT_START = WeightedCodes.of(
    (("C1", 40.0), ("V2", 35.0), ("L2", 8.0), ("L1", 7.0), ("C2", 6.0), ("J1", 2.0),
     ("E1", 1.0), ("V3", 1.0))
)  # fmt: skip
LEGAL_STATUS_NEXT: dict[str, str] = {"C1": "C2", "L1": "V2", "L2": "C1", "V2": "C1", "C2": "E1"}
CLA_NEEDS = WeightedCodes.of(
    (("N1", 65.0), ("N5", 13.0), ("N8", 9.0), ("N4", 6.0), ("N2", 3.0), ("N3", 3.0),
     ("N6", 1.0))
)  # fmt: skip
#: Why a period of care ended (its last episode's REC), for children under 18.
REASONS_CEASED = WeightedCodes.of(
    (("E4A", 25.0), ("E45", 6.0), ("E46", 2.0), ("E47", 4.0), ("E48", 1.0), ("E11", 5.0),
     ("E12", 4.0), ("E41", 4.0), ("E13", 4.0), ("E4B", 4.0), ("E8", 8.0), ("E3", 2.0),
     ("E5", 3.0), ("E6", 2.0), ("E9", 1.0), ("E14", 1.0), ("E16", 0.5))
)  # fmt: skip
#: Why a care leaver's period ended at (or shortly before) 18.
REASONS_CEASED_AT_18 = WeightedCodes.of(
    (("E17", 30.0), ("E5", 30.0), ("E6", 15.0), ("E8", 15.0), ("E4A", 7.0), ("E13", 3.0))
)
REASONS_PLACE_CHANGE = WeightedCodes.of(
    (("CARPL", 40.0), ("CREQB", 12.0), ("CREQO", 10.0), ("LAREQ", 10.0), ("CHILD", 8.0),
     ("STAND", 5.0), ("PLACE", 5.0), ("CLOSE", 4.0), ("OTHER", 3.0), ("ALLEG", 2.0),
     ("APPRR", 1.0))
)  # fmt: skip

# --------------------------------------------------------------------------- care leavers

#: In touch with a care leaver (DIED is left out: the synthetic young people all live).
CARE_LEAVER_IN_TOUCH = WeightedCodes.of(
    (("YES", 88.0), ("NO", 4.0), ("NREQ", 3.0), ("REFU", 2.5), ("RHOM", 2.0))
)
CARE_LEAVER_ACTIVITY = WeightedCodes.of(
    (("G5", 27.0), ("F2", 18.0), ("F5", 15.0), ("G4", 9.0), ("F1", 7.0), ("P5", 6.0),
     ("G6", 6.0), ("F4", 3.0), ("P2", 3.0), ("P1", 1.0), ("P4", 0.5))
)  # fmt: skip
CARE_LEAVER_ACCOMMODATION = WeightedCodes.of(
    (("U", 33.0), ("D", 14.0), ("B", 11.0), ("Z", 10.0), ("E", 5.0), ("T", 4.0), ("Y", 4.0),
     ("K", 3.0), ("C", 3.0), ("X", 2.0), ("R", 2.0), ("S", 1.0), ("V", 1.0), ("W", 1.0),
     ("G", 0.5))
)  # fmt: skip
#: The pathway plan domains (Care Leavers (England) Regulations 2010, Schedule 1).
PATHWAY_DOMAINS: tuple[str, ...] = (
    "CONTACT_SUPPORT", "EDUCATION_TRAINING", "EMPLOYMENT", "CONTINGENCY", "ACCOMMODATION",
    "RELATIONSHIPS", "PRACTICAL_SKILLS", "FINANCE", "HEALTH_WELLBEING", "IDENTITY",
)  # fmt: skip

# --------------------------------------------------------------------------- early help

SUPPORTING_FAMILIES_HEADLINES = WeightedCodes.of(
    (("FAMILY_RELATIONSHIPS", 20.0), ("HEALTH", 18.0), ("EDUCATION", 16.0),
     ("DOMESTIC_ABUSE", 10.0), ("FINANCIAL_STABILITY", 9.0), ("EARLY_YEARS", 6.0),
     ("SAFE_FROM_ABUSE", 6.0), ("SECURE_HOUSING", 6.0), ("CRIME_PREVENTION", 5.0),
     ("SUBSTANCE_USE", 4.0))
)  # fmt: skip
#: The headline need an early help reason points to first.
EARLY_HELP_REASON_HEADLINES: dict[str, str] = {
    "Parenting support": "FAMILY_RELATIONSHIPS",
    "Child's emotional wellbeing": "HEALTH",
    "Child's behaviour": "FAMILY_RELATIONSHIPS",
    "School attendance": "EDUCATION",
    "Domestic abuse": "DOMESTIC_ABUSE",
    "Parental mental health": "HEALTH",
    "Financial and housing": "FINANCIAL_STABILITY",
    "Early years development": "EARLY_YEARS",
    "SEND support": "EDUCATION",
    "Parental substance misuse": "SUBSTANCE_USE",
}
EVIDENCE_SOURCES = WeightedCodes.of(
    (("ADMINISTRATIVE_DATA", 35.0), ("PARTNER_AGENCY", 20.0), ("PRACTITIONER_ASSESSMENT", 20.0),
     ("FAMILY_REPORTED", 12.0), ("VALIDATED_TOOL", 10.0), ("OTHER", 3.0))
)  # fmt: skip

# --------------------------------------------------------------------------- voice, consent

VOICE_MODES = WeightedCodes.of(
    (("SPOKEN", 50.0), ("WRITTEN", 20.0), ("APP_EMOJI", 15.0), ("CREATIVE", 8.0),
     ("NON_VERBAL", 7.0))
)  # fmt: skip
LANGUAGES = WeightedCodes.of(
    (("en", 92.0), ("pl", 2.0), ("ur", 2.0), ("bn", 1.0), ("ro", 1.0), ("so", 1.0), ("cy", 1.0))
)
#: Purposes (policies/data/purposes.yaml keys) a preference names; None covers every purpose.
PREFERENCE_PURPOSES = WeightedCodes.of(
    (("strategic_reporting", 40.0), ("research", 20.0), ("", 25.0), ("early_help_triage", 10.0),
     ("statutory_return", 5.0))
)  # fmt: skip
PREFERENCE_CATEGORIES = WeightedCodes.of(
    (("voice", 40.0), ("", 30.0), ("health", 12.0), ("education", 10.0), ("early_help", 8.0))
)

#: CIN census disabilities of a disabled child (learning disability and autism lead).
DISABILITIES = WeightedCodes.of(
    (("LD", 30.0), ("AUT", 25.0), ("COMM", 15.0), ("BEH", 12.0), ("MOB", 6.0), ("DDA", 5.0),
     ("HAND", 3.0), ("PC", 3.0), ("INC", 2.0), ("HEAR", 2.0), ("VIS", 2.0), ("CON", 1.0))
)  # fmt: skip
