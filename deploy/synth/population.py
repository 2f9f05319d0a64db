"""The synthetic LA's children, as every synthetic source sees them.

`chorus synth` writes the case-management database first; the health (FHIR)
and education (school file) writers then read the same children from it, so
one child carries the same NHS number, UPN and date of birth in all three
sources, as real systems would hold them. Traits no source records directly
(how a child's development is going, family circumstances) come from
`latent`, a deterministic draw per (seed, child), so the health visitor's
2-2½ year review and the school's EYFSP at age 5 tell a consistent story.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import create_engine, select

from connectors.case_management.ssd import address, linked_identifiers, person

UPN_TYPE = "Unique Pupil Number"


@dataclass(frozen=True)
class Child:
    person_id: str
    nhs_number: str | None
    upn: str | None
    dob: date
    sex: str
    forename: str
    surname: str
    postcode: str | None
    death_date: date | None


@dataclass(frozen=True)
class Latent:
    """Traits that make the sources agree with each other; never published as such."""

    development: float  # standard normal: below about -1.3 the child struggles to communicate at 2
    fsm: bool  # family eligible for free school meals (about 24%)
    sen: str  # N none, K SEN support (about 13%), E EHCP (about 4%)
    parent_concern: bool  # a parent worries about the child's development before the review


def latent(seed: int, person_id: str) -> Latent:
    rng = random.Random(f"{seed}:{person_id}")
    development = rng.gauss(0.0, 1.0)
    fsm = rng.random() < (0.34 if development < -0.5 else 0.21)
    r = rng.random()
    if development < -1.3:
        sen = "E" if r < 0.18 else "K" if r < 0.6 else "N"
    else:
        sen = "E" if r < 0.03 else "K" if r < 0.11 else "N"
    parent_concern = rng.random() < (0.55 if development < -1.0 else 0.08)
    return Latent(development, fsm, sen, parent_concern)


def children(db_url: str) -> Iterator[Child]:
    """Every child in the synthetic case-management database, in person id order."""
    engine = create_engine(db_url)
    upn = (
        select(linked_identifiers.c.link_identifier_value)
        .where(linked_identifiers.c.link_person_id == person.c.pers_person_id)
        .where(linked_identifiers.c.link_identifier_type == UPN_TYPE)
        .limit(1)
        .scalar_subquery()
    )
    postcode = (
        select(address.c.addr_address_postcode)
        .where(address.c.addr_person_id == person.c.pers_person_id)
        .order_by(address.c.addr_address_start_date.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = select(
        person.c.pers_person_id,
        person.c.pers_common_child_id,
        upn.label("upn"),
        person.c.pers_dob,
        person.c.pers_sex,
        person.c.pers_forename,
        person.c.pers_surname,
        postcode.label("postcode"),
        person.c.pers_death_date,
    ).order_by(person.c.pers_person_id)
    try:
        with engine.connect() as conn:
            for row in conn.execution_options(yield_per=5000).execute(query):
                if row.pers_dob is None:
                    continue  # an unborn child is in no health review or school file yet
                yield Child(
                    row.pers_person_id,
                    row.pers_common_child_id,
                    row.upn,
                    row.pers_dob,
                    row.pers_sex,
                    row.pers_forename,
                    row.pers_surname,
                    row.postcode,
                    row.pers_death_date,
                )
    finally:
        engine.dispose()
