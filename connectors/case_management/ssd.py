"""The Standard Safeguarding Dataset (SSD) tables this connector reads.

The SSD (data-to-insight/ssd-data-model) is the common shape LAs extract from
Liquidlogic, Mosaic, Eclipse and others: one ``ssd_*`` table per entity, with
column names prefixed by a four-letter table code. Chorus adds one column the
SSD leaves to each LA: ``last_updated``, the time the row last changed, which
the connector uses as its high-water mark.

Only the tables and columns Chorus reads are declared here. The synthetic LA
(``chorus synth``) creates exactly these tables.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Integer, MetaData, String, Table, Text

metadata = MetaData()

person = Table(
    "ssd_person",
    metadata,
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
    Column("last_updated", DateTime, nullable=False),
)

linked_identifiers = Table(
    "ssd_linked_identifiers",
    metadata,
    Column("link_table_id", Integer, primary_key=True),
    Column("link_person_id", String(20), nullable=False, index=True),
    Column("link_identifier_type", String(100), doc="'Unique Pupil Number', 'NHS Number', ..."),
    Column("link_identifier_value", String(100)),
    Column("link_valid_from_date", Date),
    Column("link_valid_to_date", Date),
    Column("last_updated", DateTime, nullable=False),
)

address = Table(
    "ssd_address",
    metadata,
    Column("addr_table_id", Integer, primary_key=True),
    Column("addr_person_id", String(20), nullable=False, index=True),
    Column("addr_address_type", String(20)),
    Column("addr_address_start_date", Date),
    Column("addr_address_end_date", Date),
    Column("addr_address_postcode", String(8)),
    Column("last_updated", DateTime, nullable=False),
)

contacts = Table(
    "ssd_contacts",
    metadata,
    Column("cont_contact_id", String(48), primary_key=True),
    Column("cont_person_id", String(20), nullable=False, index=True),
    Column("cont_contact_date", DateTime),
    Column("cont_contact_source_code", String(3), doc="CIN referral source code"),
    Column("cont_contact_source_desc", String(255)),
    Column("cont_contact_outcome_json", Text),
    Column("last_updated", DateTime, nullable=False),
)

cin_episodes = Table(
    "ssd_cin_episodes",
    metadata,
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
    Column("last_updated", DateTime, nullable=False, index=True),
)

early_help_episodes = Table(
    "ssd_early_help_episodes",
    metadata,
    Column("earl_episode_id", String(48), primary_key=True),
    Column("earl_person_id", String(20), nullable=False, index=True),
    Column("earl_episode_start_date", Date),
    Column("earl_episode_end_date", Date),
    Column("earl_episode_reason", String(255)),
    Column("earl_episode_end_reason", String(255)),
    Column("earl_episode_organisation", String(255)),
    Column("earl_episode_worker_id", String(48)),
    Column("last_updated", DateTime, nullable=False),
)
