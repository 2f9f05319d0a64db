"""People and their identifiers: ssd_person (with ssd_disability and the current
ssd_address) -> case_management.person_registered; ssd_linked_identifiers ->
case_management.identifier_linked."""

from __future__ import annotations

from connectors.case_management import ssd
from connectors.case_management.mappings.base import (
    Event,
    Lookup,
    Row,
    Source,
    TableMapping,
    code,
    date,
    enum,
    make_envelope,
    required,
    subject,
    text,
    validated,
    yn,
)
from schemas.errors import ContractError
from schemas.identifiers import nhs_number_error, upn_error

PERSON = "case_management.person_registered"
IDENTIFIER = "case_management.identifier_linked"

SEXES = enum("chorus.case_management.Sex")
ETHNICITIES = enum("chorus.case_management.Ethnicity")
DISABILITIES = enum("chorus.case_management.Disability")
UPN_UNKNOWN = enum("chorus.case_management.UpnUnknown")

#: SSD link_identifier_type values (and common spellings) -> IdentifierType.
IDENTIFIER_TYPES = {
    "NHS NUMBER": "NHS_NUMBER",
    "UNIQUE PUPIL NUMBER": "UPN",
    "UPN": "UPN",
    "FORMER UNIQUE PUPIL NUMBER": "FORMER_UPN",
    "FORMER UPN": "FORMER_UPN",
    "UNIQUE LEARNER NUMBER": "ULN",
    "ULN": "ULN",
    "CASE NUMBER": "CASE_NUMBER",
    "HOME OFFICE REGISTRATION": "HOME_OFFICE_REF",
    "NATIONAL INSURANCE NUMBER": "NI_NUMBER",
}
_CHECKS = {"NHS_NUMBER": nhs_number_error, "UPN": upn_error, "FORMER_UPN": upn_error}

PERSON_COLUMNS = {
    "dob": "pers_dob",
    "expected_dob": "pers_expected_dob",
    "death_date": "pers_death_date",
    "sex": "pers_sex",
    "gender": "pers_gender",
    "upn_unknown": "pers_upn_unknown",
    "disabilities": "disa_disability_code",
}


def person_events(row: Row, src: Source) -> list[Event]:
    key = str(row["pers_person_id"])
    disabilities: list[str] = []
    for d in row.get("disabilities") or []:
        found = code(
            d.get("disa_disability_code"),
            DISABILITIES,
            "disa_disability_code",
            "disability.code_list",
        )
        if found is not None and found not in disabilities:
            disabilities.append(found)
    home = row.get("home_address") or {}
    record = {
        "envelope": make_envelope(
            PERSON,
            row,
            src,
            entity=ssd.person.name,
            key=key,
            event_time=row["last_updated"],
            subject_record=subject(row, "pers_person_id"),
        ),
        "forename": text(row.get("pers_forename")),
        "surname": text(row.get("pers_surname")),
        "dob": date(row.get("pers_dob"), "pers_dob"),
        "expected_dob": date(row.get("pers_expected_dob"), "pers_expected_dob"),
        "sex": code(row.get("pers_sex"), SEXES, "pers_sex", "sex.code_list") or "U",
        "gender": text(row.get("pers_gender")),
        "ethnicity": code(
            row.get("pers_ethnicity"), ETHNICITIES, "pers_ethnicity", "ethnicity.code_list"
        ),
        "death_date": date(row.get("pers_death_date"), "pers_death_date"),
        "nationality": text(row.get("pers_nationality")),
        "upn_unknown": code(
            row.get("pers_upn_unknown"), UPN_UNKNOWN, "pers_upn_unknown", "upn_unknown.code_list"
        ),
        "disabilities": disabilities,
        "send_flag": yn(row.get("pers_send_flag"), "pers_send_flag"),
        "is_mother": yn(row.get("pers_is_mother"), "pers_is_mother"),
        "postcode": text(home.get("addr_address_postcode")),
    }
    return [validated(PERSON, record, PERSON_COLUMNS)]


def identifier_events(row: Row, src: Source) -> list[Event]:
    key = str(row["link_table_id"])
    kind_text = required(text(row.get("link_identifier_type")), "link_identifier_type")
    kind = IDENTIFIER_TYPES.get(kind_text.upper())
    if kind is None:
        raise ContractError(
            "identifier_type.code_list",
            "link_identifier_type is not a known identifier type",
            "link_identifier_type",
        )
    value = required(text(row.get("link_identifier_value")), "link_identifier_value")
    value = value.replace(" ", "").upper()
    check = _CHECKS.get(kind)
    valid_from = date(row.get("link_valid_from_date"), "link_valid_from_date")
    record = {
        "envelope": make_envelope(
            IDENTIFIER,
            row,
            src,
            entity=ssd.linked_identifiers.name,
            key=key,
            event_time=valid_from or row["last_updated"],
            subject_record=subject(row, "link_person_id"),
        ),
        "identifier_type": kind,
        "value": value,
        "valid_from": valid_from,
        "valid_to": date(row.get("link_valid_to_date"), "link_valid_to_date"),
        "verified": None,
        "check_passed": None if check is None else check(value) is None,
    }
    return [validated(IDENTIFIER, record, {"valid_to": "link_valid_to_date"})]


PEOPLE = TableMapping(
    ssd.person,
    key="pers_person_id",
    event_types=(PERSON,),
    to_events=person_events,
    person="pers_person_id",
    lookups=(
        Lookup(
            "disabilities",
            ssd.disability,
            match="disa_person_id",
            on="pers_person_id",
            many=True,
            versioned=True,
            order_by=("disa_table_id",),
        ),
        Lookup(
            "home_address",
            ssd.address,
            match="addr_person_id",
            on="pers_person_id",
            versioned=True,
            order_by=("-addr_address_start_date", "-addr_table_id"),
        ),
    ),
    description="people, with their disabilities and current home postcode",
)
IDENTIFIERS = TableMapping(
    ssd.linked_identifiers,
    key="link_table_id",
    event_types=(IDENTIFIER,),
    to_events=identifier_events,
    person="link_person_id",
    description="identifiers linked to people (NHS number, UPN, ...)",
)
