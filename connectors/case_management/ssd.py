"""The Standard Safeguarding Dataset (SSD) tables this connector reads.

The SSD (data-to-insight/ssd-data-model) is the common shape LAs extract from
Liquidlogic, Mosaic, Eclipse and others: one ``ssd_*`` table per entity, with
column names prefixed by a four-letter table code. Chorus adds one column the
SSD leaves to each LA: ``last_updated``, the time the row last changed, which
the connector uses as its high-water mark (indexed with the key, so "rows after
a mark" is an index range scan).

Tables the SSD does not have (yet) are marked "Chorus addition" and use the
same conventions: ``ssd_form_answers`` (form content held entity-attribute-value
style, as Liquidlogic FACT_FORM_ANSWERS is), ``ssd_pathway_plan_reviews`` and
``ssd_pathway_plan_domains`` (a review's ratings per statutory domain),
``ssd_early_help_outcomes`` (Supporting Families outcomes) and
``ssd_sharing_preferences`` (children's and families' sharing wishes). The
change table that change-table mode follows is in
:mod:`connectors.case_management.changes`.

Only the tables and columns Chorus reads are declared here. The synthetic LA
(``chorus synth``) creates exactly these tables.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()


def _ssd_table(name: str, key: Column, *columns: Column) -> Table:
    """A table with its key, its columns and ``last_updated``, indexed as the connector reads it."""
    table = Table(name, metadata, key, *columns, Column("last_updated", DateTime, nullable=False))
    Index(f"ix_{name}_last_updated_key", table.c.last_updated, table.c[key.name])
    return table


def _person(prefix: str) -> Column:
    return Column(f"{prefix}_person_id", String(20), nullable=False, index=True)


# --------------------------------------------------------------------------- people

person = _ssd_table(
    "ssd_person",
    Column("pers_person_id", String(20), primary_key=True, doc="LA child id (CMS person id)"),
    Column("pers_forename", String(100)),
    Column("pers_surname", String(100)),
    Column("pers_sex", String(1), doc="F, M or U"),
    Column("pers_gender", String(2), doc="00, 01, 02 or 09"),
    Column("pers_ethnicity", String(4), doc="DfE 4-letter ethnicity code"),
    Column("pers_dob", Date),
    Column("pers_expected_dob", Date),
    Column("pers_death_date", Date),
    Column("pers_common_child_id", String(10), doc="NHS number"),
    Column("pers_upn_unknown", String(3), doc="UN1-UN7 when no UPN is held"),
    Column("pers_send_flag", String(1), doc="Y when the child has an EHCP"),
    Column("pers_is_mother", String(1), doc="Y when the person is a mother (SSDA903 MOTHER)"),
    Column("pers_nationality", String(20), doc="nationality code, held mainly for UASC"),
)

linked_identifiers = _ssd_table(
    "ssd_linked_identifiers",
    Column("link_table_id", Integer, primary_key=True),
    Column("link_person_id", String(20), nullable=False, index=True),
    Column("link_identifier_type", String(100), doc="'Unique Pupil Number', 'NHS Number', ..."),
    Column("link_identifier_value", String(100)),
    Column("link_valid_from_date", Date),
    Column("link_valid_to_date", Date),
)

address = _ssd_table(
    "ssd_address",
    Column("addr_table_id", Integer, primary_key=True),
    Column("addr_person_id", String(20), nullable=False, index=True),
    Column("addr_address_type", String(20)),
    Column("addr_address_start_date", Date),
    Column("addr_address_end_date", Date),
    Column("addr_address_postcode", String(8)),
)

disability = _ssd_table(
    "ssd_disability",
    Column("disa_table_id", Integer, primary_key=True),
    _person("disa"),
    Column("disa_disability_code", String(4), doc="CIN disability code"),
)

family = _ssd_table(
    "ssd_family",
    Column("fami_table_id", Integer, primary_key=True),
    Column("fami_family_id", String(48), nullable=False, index=True),
    _person("fami"),
)

legal_status = _ssd_table(
    "ssd_legal_status",
    Column("lega_legal_status_id", String(48), primary_key=True),
    _person("lega"),
    Column("lega_legal_status", String(4), doc="SSDA903 LS code"),
    Column("lega_legal_status_start_date", Date),
    Column("lega_legal_status_end_date", Date),
)

# --------------------------------------------------------------------------- front door, CIN

contacts = _ssd_table(
    "ssd_contacts",
    Column("cont_contact_id", String(48), primary_key=True),
    Column("cont_person_id", String(20), nullable=False, index=True),
    Column("cont_contact_date", DateTime),
    Column("cont_contact_source_code", String(3), doc="CIN referral source code"),
    Column("cont_contact_source_desc", String(255)),
    Column("cont_contact_outcome_json", Text),
)

cin_episodes = _ssd_table(
    "ssd_cin_episodes",
    Column("cine_referral_id", String(48), primary_key=True),
    Column("cine_person_id", String(20), nullable=False, index=True),
    Column("cine_referral_date", Date),
    Column("cine_cin_primary_need_code", String(3), doc="N0-N9"),
    Column("cine_referral_source_code", String(3), doc="CIN referral source code (1A-10)"),
    Column("cine_referral_source_desc", String(255)),
    Column("cine_referral_outcome_json", Text),
    Column("cine_referral_nfa", String(1), doc="Y or N"),
    Column("cine_close_reason", String(3), doc="RC1-RC9"),
    Column("cine_close_date", Date),
    Column("cine_referral_team", String(48)),
    Column("cine_referral_worker_id", String(48)),
)

cin_assessments = _ssd_table(
    "ssd_cin_assessments",
    Column("cina_assessment_id", String(48), primary_key=True),
    _person("cina"),
    Column("cina_referral_id", String(48)),
    Column("cina_assessment_start_date", Date),
    Column("cina_assessment_child_seen", String(1), doc="Y or N"),
    Column("cina_assessment_auth_date", Date),
    Column("cina_assessment_outcome_json", Text),
    Column("cina_assessment_outcome_nfa", String(1), doc="Y or N"),
    Column("cina_assessment_team", String(48)),
    Column("cina_assessment_worker_id", String(48)),
)

assessment_factors = _ssd_table(
    "ssd_assessment_factors",
    Column("cinf_table_id", Integer, primary_key=True),
    Column("cinf_assessment_id", String(48), nullable=False, index=True),
    Column("cinf_assessment_factors_json", Text, doc='JSON array of CIN factor codes ["3B", ...]'),
)

cin_plans = _ssd_table(
    "ssd_cin_plans",
    Column("cinp_cin_plan_id", String(48), primary_key=True),
    Column("cinp_referral_id", String(48)),
    _person("cinp"),
    Column("cinp_cin_plan_start_date", Date),
    Column("cinp_cin_plan_end_date", Date),
    Column("cinp_cin_plan_team", String(48)),
    Column("cinp_cin_plan_worker_id", String(48)),
)

s47_enquiry = _ssd_table(
    "ssd_s47_enquiry",
    Column("s47e_s47_enquiry_id", String(48), primary_key=True),
    Column("s47e_referral_id", String(48)),
    _person("s47e"),
    Column("s47e_s47_start_date", Date, doc="strategy discussion date"),
    Column("s47e_s47_end_date", Date),
    Column("s47e_s47_nfa", String(1), doc="Y or N"),
    Column("s47e_s47_outcome_json", Text),
    Column("s47e_s47_completed_by_team", String(48)),
    Column("s47e_s47_completed_by_worker_id", String(48)),
)

initial_cp_conference = _ssd_table(
    "ssd_initial_cp_conference",
    Column("icpc_icpc_id", String(48), primary_key=True),
    Column("icpc_icpc_meeting_id", String(48)),
    Column("icpc_s47_enquiry_id", String(48), index=True),
    _person("icpc"),
    Column("icpc_cp_plan_id", String(48)),
    Column("icpc_referral_id", String(48)),
    Column("icpc_icpc_transfer_in", String(1), doc="Y or N"),
    Column("icpc_icpc_target_date", Date),
    Column("icpc_icpc_date", Date),
    Column("icpc_icpc_outcome_cp_flag", String(1), doc="Y or N"),
    Column("icpc_icpc_outcome_json", Text),
    Column("icpc_icpc_team", String(48)),
)

# --------------------------------------------------------------------------- child protection

cp_plans = _ssd_table(
    "ssd_cp_plans",
    Column("cppl_cp_plan_id", String(48), primary_key=True),
    Column("cppl_referral_id", String(48)),
    Column("cppl_icpc_id", String(48)),
    _person("cppl"),
    Column("cppl_cp_plan_start_date", Date),
    Column("cppl_cp_plan_end_date", Date),
    Column("cppl_cp_plan_ola", String(1), doc="Y when another LA holds the plan"),
    Column("cppl_cp_plan_initial_category", String(3), doc="NEG, PHY, SAB, EMO or MUL"),
    Column("cppl_cp_plan_latest_category", String(3)),
    Column("cppl_cp_plan_team", String(48), doc="Chorus addition: the team responsible"),
)

cp_reviews = _ssd_table(
    "ssd_cp_reviews",
    Column("cppr_cp_review_id", String(48), primary_key=True),
    _person("cppr"),
    Column("cppr_cp_plan_id", String(48), index=True),
    Column("cppr_cp_review_due", Date),
    Column("cppr_cp_review_date", Date),
    Column("cppr_cp_review_meeting_id", String(48)),
    Column("cppr_cp_review_outcome_continue_cp", String(1), doc="Y or N"),
    Column("cppr_cp_review_quorate", String(1), doc="Y or N"),
    Column("cppr_cp_review_participation", String(3), doc="PN0-PN7"),
)

# --------------------------------------------------------------------------- looked after

cla_episodes = _ssd_table(
    "ssd_cla_episodes",
    Column("clae_cla_episode_id", String(48), primary_key=True),
    _person("clae"),
    Column("clae_cla_placement_id", String(48), index=True),
    Column("clae_cla_episode_start_date", Date),
    Column("clae_cla_episode_start_reason", String(1), doc="RNE"),
    Column("clae_cla_primary_need_code", String(3), doc="N1-N8"),
    Column("clae_cla_episode_ceased_date", Date),
    Column("clae_cla_episode_ceased_reason", String(4), doc="REC"),
    Column("clae_cla_id", String(48), index=True, doc="period of care"),
    Column("clae_referral_id", String(48)),
    Column("clae_entered_care_date", Date),
)

cla_placement = _ssd_table(
    "ssd_cla_placement",
    Column("clap_cla_placement_id", String(48), primary_key=True),
    Column("clap_cla_id", String(48), index=True),
    _person("clap"),
    Column("clap_cla_placement_start_date", Date),
    Column("clap_cla_placement_type", String(4), doc="SSDA903 PLACE"),
    Column("clap_cla_placement_urn", String(8)),
    Column("clap_cla_placement_distance", Float),
    Column("clap_cla_placement_provider", String(3), doc="PR0-PR5"),
    Column("clap_cla_placement_postcode", String(8)),
    Column("clap_cla_placement_end_date", Date),
    Column("clap_cla_placement_change_reason", String(6)),
)

cla_reviews = _ssd_table(
    "ssd_cla_reviews",
    Column("clar_cla_review_id", String(48), primary_key=True),
    Column("clar_cla_id", String(48), nullable=False, index=True),
    Column("clar_cla_review_due_date", Date),
    Column("clar_cla_review_date", Date),
    Column("clar_cla_review_cancelled", String(1), doc="Y or N"),
    Column("clar_cla_review_participation", String(3), doc="PN0-PN7"),
)

missing = _ssd_table(
    "ssd_missing",
    Column("miss_table_id", String(48), primary_key=True),
    _person("miss"),
    Column("miss_missing_episode_start_date", DateTime),
    Column("miss_missing_episode_type", String(1), doc="M or A"),
    Column("miss_missing_episode_end_date", DateTime),
    Column("miss_missing_rhi_offered", String(2), doc="Y, N or NA"),
    Column("miss_missing_rhi_accepted", String(2), doc="Y, N or NA"),
)

care_leavers = _ssd_table(
    "ssd_care_leavers",
    Column("clea_table_id", String(48), primary_key=True),
    _person("clea"),
    Column("clea_care_leaver_eligibility", String(30)),
    Column("clea_care_leaver_in_touch", String(4)),
    Column("clea_care_leaver_latest_contact", Date),
    Column("clea_care_leaver_accommodation", String(2), doc="ACCOM letter"),
    Column("clea_care_leaver_accom_suitable", String(1), doc="1 suitable, 2 unsuitable"),
    Column("clea_care_leaver_activity", String(2), doc="ACTIV"),
    Column("clea_pathway_plan_review_date", Date),
    Column("clea_care_leaver_personal_advisor", String(48), doc="an id, never a name"),
    Column("clea_care_leaver_allocated_team", String(48)),
    Column("clea_care_leaver_worker_id", String(48)),
)

pathway_plan_reviews = _ssd_table(
    "ssd_pathway_plan_reviews",  # Chorus addition
    Column("ppre_review_id", String(48), primary_key=True),
    _person("ppre"),
    Column("ppre_review_date", Date),
    Column("ppre_next_review_date", Date),
    Column("ppre_personal_adviser_id", String(48)),
)

pathway_plan_domains = _ssd_table(
    "ssd_pathway_plan_domains",  # Chorus addition: one row per domain of a review
    Column("ppdo_table_id", Integer, primary_key=True),
    Column("ppdo_review_id", String(48), nullable=False, index=True),
    Column("ppdo_domain", String(30), doc="CONTACT_SUPPORT ... IDENTITY (Schedule 1)"),
    Column("ppdo_status", String(12), doc="MET, PARTLY_MET or NOT_MET"),
    Column("ppdo_young_person_rating", Integer, doc="0-10"),
    Column("ppdo_adviser_rating", Integer, doc="0-10"),
)

# --------------------------------------------------------------------------- early help

early_help_episodes = _ssd_table(
    "ssd_early_help_episodes",
    Column("earl_episode_id", String(48), primary_key=True),
    Column("earl_person_id", String(20), nullable=False, index=True),
    Column("earl_episode_start_date", Date),
    Column("earl_episode_end_date", Date),
    Column("earl_episode_reason", String(255)),
    Column("earl_episode_end_reason", String(255)),
    Column("earl_episode_organisation", String(255)),
    Column("earl_episode_worker_id", String(48)),
    Column("earl_family_needs_json", Text, doc="Chorus addition: JSON array of headlines"),
)

early_help_outcomes = _ssd_table(
    "ssd_early_help_outcomes",  # Chorus addition
    Column("ehou_outcome_id", String(48), primary_key=True),
    Column("ehou_family_id", String(48), nullable=False),
    _person("ehou"),
    Column("ehou_episode_id", String(48)),
    Column("ehou_headline", String(30), doc="Supporting Families headline"),
    Column("ehou_sub_outcome", String(64)),
    Column("ehou_evidence_source", String(30)),
    Column("ehou_achieved_date", Date),
    Column("ehou_sustained_until", Date),
)

# --------------------------------------------------------------------------- voice and consent

form_answers = _ssd_table(
    "ssd_form_answers",  # Chorus addition, the shape of Liquidlogic FACT_FORM_ANSWERS
    Column("foan_answer_id", Integer, primary_key=True),
    Column("foan_form_id", String(48), nullable=False, index=True),
    Column("foan_form_type", String(64), nullable=False, doc="the CMS form template code"),
    _person("foan"),
    Column("foan_question_code", String(64), nullable=False, doc="ANSWER_NO"),
    Column("foan_answer", Text),
    Column("foan_answered_at", DateTime),
)

sharing_preferences = _ssd_table(
    "ssd_sharing_preferences",  # Chorus addition
    Column("shpr_preference_id", String(48), primary_key=True),
    _person("shpr"),
    Column("shpr_expressed_by", String(20), doc="CHILD, YOUNG_PERSON, PARENT_CARER, ..."),
    Column("shpr_competence_assessed", String(20)),
    Column("shpr_purpose", String(100)),
    Column("shpr_recipient", String(100)),
    Column("shpr_data_category", String(100)),
    Column("shpr_decision", String(6), doc="ALLOW or OBJECT"),
    Column("shpr_effective_from", DateTime),
    Column("shpr_effective_to", DateTime),
    Column("shpr_withdrawn_at", DateTime),
    Column("shpr_override_reason", String(20)),
    Column("shpr_override_legal_reference", String(100)),
    Column("shpr_override_by_role", String(50)),
    Column("shpr_override_at", DateTime),
    Column("shpr_national_data_opt_out", String(1), doc="Y or N"),
)
