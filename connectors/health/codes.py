"""The code systems and codes the health connector reads, declared once.

National identifiers use their published NHS systems. For ASQ-3 we looked for
LOINC and SNOMED CT concepts: LOINC has no ASQ-3 area scores (the instrument is
copyright), and the UK edition of SNOMED CT has assessment-scale concepts whose
ids we could not verify (domain.md §3.3 marks them [verify]). So the area
scores, zones, interval, concerns, onward referral, comment category and CP-IS
codes come from **declared local code systems** under ``LOCAL``, a base in the
reserved ``.example`` domain that can never collide with a real one. An LA
whose system sends SNOMED CT concepts maps them to these codes in one place:
``ASQ3_DOMAIN_CODES`` accepts any number of (system, code) pairs per area.

Every list here is documented in connectors/health/README.md.
"""

from __future__ import annotations

from schemas.validation.health import ASQ3_CUTOFFS, ASQ3_DOMAINS

__all__ = ["ASQ3_CUTOFFS", "ASQ3_DOMAINS"]

# --------------------------------------------------------------------------- national systems

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_ORGANISATION_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
ODS_SITE_SYSTEM = "https://fhir.nhs.uk/Id/ods-site-code"
#: UK Core extension on the NHS number identifier, and its England code system.
NHS_VERIFICATION_EXTENSION = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
)
NHS_VERIFIED_CODE = "01"  # "Number present and verified"
#: HL7 v3 participation modes (Communication.medium): how a comment was made.
PARTICIPATION_MODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
SPOKEN_MODES = frozenset({"VERBAL", "FACE", "PHONE", "VIDEOCONF", "DICTATE", "REMOTE"})
WRITTEN_MODES = frozenset(
    {"WRITTEN", "HANDWRIT", "TYPEWRIT", "ONLINEWRIT", "EMAILWRIT", "MAILWRIT", "FAXWRIT"}
)

# --------------------------------------------------------------------------- local systems

LOCAL = "https://fhir.chorus.example/"
REVIEW_SYSTEM = LOCAL + "CodeSystem/hcp-review"  # Observation.code, QR item linkIds
ZONE_SYSTEM = LOCAL + "CodeSystem/asq3-zone"  # Observation.interpretation
INTERVAL_SYSTEM = LOCAL + "CodeSystem/asq3-interval"  # Observation.method
CONCERN_SYSTEM = LOCAL + "CodeSystem/parent-concern"
REFERRAL_SYSTEM = LOCAL + "CodeSystem/onward-referral"
ENCOUNTER_TYPE_SYSTEM = LOCAL + "CodeSystem/encounter-type"  # Encounter.type
CARE_SETTING_SYSTEM = LOCAL + "CodeSystem/care-setting"  # Encounter.type of an attendance
CATEGORY_SYSTEM = LOCAL + "CodeSystem/communication-category"  # Communication.category
PLAN_TYPE_SYSTEM = LOCAL + "CodeSystem/cpis-plan-type"  # Communication.reasonCode
CONSENT_EXTENSION = LOCAL + "StructureDefinition/consent-for-reports"
REVIEW_QUESTIONNAIRE = LOCAL + "Questionnaire/hcp-2-2.5-review"

REVIEW_ENCOUNTER = "hcp-2-2.5-review"
ATTENDANCE_ENCOUNTER = "unscheduled-care-attendance"

#: (system, code) -> ASQ-3 area. Add verified SNOMED CT concepts here when an LA sends them.
ASQ3_DOMAIN_CODES: dict[tuple[str, str], str] = {
    (REVIEW_SYSTEM, "asq3-" + d.replace("_", "-")): d for d in ASQ3_DOMAINS
}
#: Systems other than ours whose codes the connector reads (from ASQ3_DOMAIN_CODES).
FOREIGN_SYSTEMS = frozenset(s for s, _ in ASQ3_DOMAIN_CODES if not s.startswith(LOCAL))
ASQ3_PANEL = "asq3-panel"  # one Observation with the five areas as components
ASQSE2_TOTAL = "asqse2-total"
PARENT_CONCERN = "parent-concern"
PRACTITIONER_CONCERN = "practitioner-concern"
ONWARD_REFERRAL = "onward-referral"
INTERVAL = "asq3-interval"  # QuestionnaireResponse item
ZONE = "zone"  # nested QuestionnaireResponse item under an area score
PARENT_COMMENT = "parent-comment"  # Communication category and QR item
CONSENT_REPORTING = "parent-comment-consent-reporting"  # QR item, boolean
CONSENT_QUOTES = "parent-comment-consent-quotes"  # QR item, boolean
CPIS_NOTIFICATION = "cpis-access-notification"

REVIEW_CODES = frozenset(
    {c for _, c in ASQ3_DOMAIN_CODES}
    | {ASQ3_PANEL, ASQSE2_TOTAL, PARENT_CONCERN, PRACTITIONER_CONCERN, ONWARD_REFERRAL}
)
ZONES = frozenset({"ABOVE", "MONITOR", "BELOW"})
INTERVALS = frozenset({"I24", "I27", "I30"})
#: In the order of the ParentConcern enum, which is the order events list them in.
CONCERN_ORDER = (
    "HEARING",
    "TALKING",
    "UNDERSTOOD",
    "MOVEMENT",
    "VISION",
    "MEDICAL",
    "BEHAVIOUR",
    "OTHER",
)
CONCERNS = frozenset(CONCERN_ORDER)
REFERRALS = frozenset(
    {"SALT", "AUDIOLOGY", "PAEDIATRICS", "EARLY_HELP", "CHILDRENS_CENTRE", "OTHER"}
)
CARE_SETTINGS = frozenset(
    {"ED", "WIC", "MIU", "OOH_GP", "NHS111", "AMBULANCE", "MATERNITY", "PAEDIATRIC_WARD"}
)
PLAN_TYPES = frozenset({"CPP", "LAC", "UNBORN_CPP"})
CATEGORIES = frozenset({PARENT_COMMENT, CPIS_NOTIFICATION})

#: ASQ-3 questionnaire windows by age when the source does not say which was used:
#: (interval, first day of age in months+days, last) from the ASQ-3 age ranges.
INTERVAL_WINDOWS: tuple[tuple[str, tuple[int, int], tuple[int, int]], ...] = (
    ("I24", (23, 0), (25, 15)),
    ("I27", (25, 16), (28, 15)),
    ("I30", (28, 16), (31, 15)),
)
