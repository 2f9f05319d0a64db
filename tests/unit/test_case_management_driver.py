"""Rows read through the database driver: plain tuples turned into row dicts, dates parsed."""

import datetime as dt

from connectors.case_management import ssd
from connectors.case_management.driver import row_builder


def test_a_sqlite_row_becomes_a_dict_with_its_dates_and_times_parsed():
    names = ("pers_person_id", "pers_dob", "pers_expected_dob", "last_updated")
    build = row_builder(ssd.person, names, True)
    row = build(("P1", "2015-06-30", None, "2026-03-01 02:00:00.000000"))
    assert row == {
        "pers_person_id": "P1",
        "pers_dob": dt.date(2015, 6, 30),
        "pers_expected_dob": None,
        "last_updated": dt.datetime(2026, 3, 1, 2, 0),
    }
    assert type(row["pers_dob"]) is dt.date


def test_postgresql_values_are_taken_as_the_driver_gives_them():
    names = ("pers_dob", "pers_person_id")
    build = row_builder(ssd.person, names, False)
    born = dt.date(2016, 1, 2)
    assert build((born, "P2")) == {"pers_dob": born, "pers_person_id": "P2"}


def test_each_row_is_a_new_dict():
    build = row_builder(ssd.person, ("pers_person_id",), True)
    first, second = build(("P3",)), build(("P3",))
    first["nhs_number"] = "x"
    assert second == {"pers_person_id": "P3"}
