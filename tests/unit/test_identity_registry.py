"""Identity linkage rules, on plain dicts standing in for the faust tables."""

from streams.identity.registry import IdentityRegistry


def registry() -> IdentityRegistry:
    return IdentityRegistry({}, {})


def test_one_child_known_to_three_systems_gets_one_person_key():
    r = registry()
    social_care = r.resolve({"la": "la-1", "nhs": "nhs-1"}).person_key
    health = r.resolve({"nhs": "nhs-1"}).person_key
    school = r.resolve({"upn": "upn-1"}).person_key
    assert social_care == health
    assert school != social_care  # nothing links the UPN yet
    linked = r.resolve({"la": "la-1", "upn": "upn-1"})
    assert linked.person_key == social_care
    assert [f.rule for f in linked.findings] == ["identity.persons_merged"]
    assert r.resolve({"upn": "upn-1"}).person_key == social_care


def test_two_records_first_seen_apart_are_merged_and_the_merge_is_recorded():
    r = registry()
    health = r.resolve({"nhs": "nhs-1"}).person_key
    school = r.resolve({"upn": "upn-1"}).person_key
    both = r.resolve({"la": "la-1", "nhs": "nhs-1", "upn": "upn-1"})
    assert both.person_key == health  # the NHS number is stronger than the UPN
    merge = both.findings[0]
    assert (merge.severity, merge.other_person) == ("MERGE", school)
    assert r.canonical(school) == health


def test_a_second_nhs_number_for_one_la_child_is_a_conflict_and_is_not_linked():
    r = registry()
    child = r.resolve({"la": "la-1", "nhs": "nhs-A"}).person_key
    clash = r.resolve({"la": "la-1", "nhs": "nhs-B"})
    assert clash.person_key == child
    assert [(f.rule, f.severity, f.field) for f in clash.findings] == [
        ("identity.conflicting_nhs", "CONFLICT", "subject.nhs_number")
    ]
    assert r.resolve({"nhs": "nhs-B"}).person_key != child  # never silently merged
    assert r.resolve({"nhs": "nhs-A"}).person_key == child


def test_identifiers_of_two_different_children_are_never_merged():
    r = registry()
    first = r.resolve({"la": "la-1", "nhs": "nhs-A"}).person_key
    second = r.resolve({"la": "la-2", "nhs": "nhs-B"}).person_key
    clash = r.resolve({"la": "la-1", "nhs": "nhs-B"})
    assert clash.person_key == first  # the LA child id is the strongest identifier
    assert clash.findings[0].severity == "CONFLICT"
    assert clash.findings[0].other_person == second
    assert r.canonical(second) == second
    assert r.resolve({"nhs": "nhs-B"}).person_key == second


def test_differing_dates_of_birth_from_two_sources_are_a_conflict():
    r = registry()
    r.resolve({"la": "la-1", "nhs": "nhs-1"}, source="lcs", dob_token="dob-1")
    same_source_fix = r.resolve({"la": "la-1"}, source="lcs", dob_token="dob-2")
    assert same_source_fix.findings == []
    other = r.resolve({"la": "la-1"}, source="ehm", dob_token="dob-3")
    assert [f.rule for f in other.findings] == ["identity.date_of_birth_differs"]
    agreeing = r.resolve({"nhs": "nhs-1"}, source="ehm2", dob_token="dob-2")
    assert [f.rule for f in agreeing.findings] == ["identity.date_of_birth_differs"]


def test_a_replayed_event_changes_nothing():
    r = registry()
    first = r.resolve({"la": "la-1", "nhs": "nhs-1", "upn": "upn-1"})
    links, persons = dict(r.links), {k: dict(v) for k, v in r.persons.items()}
    again = r.resolve({"la": "la-1", "nhs": "nhs-1", "upn": "upn-1"})
    assert again.person_key == first.person_key and again.findings == []
    assert dict(r.links) == links and r.persons == persons


def test_former_upns_are_aliases_and_an_event_without_identifiers_has_no_person():
    r = registry()
    child = r.resolve({"upn": "upn-new", "former_upn": "upn-old"}).person_key
    assert r.resolve({"upn": "upn-old"}).person_key == child
    assert r.resolve({}).person_key is None
