package chorus.sharing_test

import data.chorus.sharing

# Strategic reporting honours objections; research also relies on consent.
reporting := {
	"event_type": "case_management.referral",
	"purpose": "strategic_reporting",
	"recipient": "la_performance_team",
	"date": "2026-06-01",
}

research := {
	"event_type": "education.eyfsp_assessed",
	"purpose": "research",
	"recipient": "university_research_unit",
	"date": "2026-06-01",
}

pref(by, decision) := {
	"expressed_by": by,
	"child_age_years": 12,
	"competence_assessed": "NOT_ASSESSED",
	"purpose": null,
	"recipient": null,
	"data_category": null,
	"decision": decision,
	"override": null,
}

competent_child(decision) := object.union(pref("CHILD", decision), {"competence_assessed": "GILLICK_COMPETENT"})

younger_child(decision) := object.union(pref("CHILD", decision), {"child_age_years": 7, "competence_assessed": "NOT_COMPETENT"})

decide(i, prefs) := d if {
	d := sharing.decision with input as object.union(i, {"subject": {"preferences": prefs}})
}

# --- objections ------------------------------------------------------------------------

test_parent_objection_stops_a_purpose_that_honours_objections if {
	d := decide(reporting, [pref("PARENT_CARER", "OBJECT")])
	not d.allow
	has_reason(d, "a parent or carer objects to this sharing")
}

test_no_preferences_no_objection if {
	d := decide(reporting, [])
	d.allow
	d.obligations == {"pseudonymise_subject"}
}

test_objection_overridden_for_significant_harm_allows_and_is_recorded if {
	objection := object.union(pref("PARENT_CARER", "OBJECT"), {"override": {"reason_code": "SIGNIFICANT_HARM", "legal_reference": null}})
	d := decide(reporting, [objection])
	d.allow
	"record_override" in d.obligations
	has_reason(d, "was overridden for a recorded reason (SIGNIFICANT_HARM)")
}

test_legal_duty_override_with_a_reference_allows if {
	objection := object.union(pref("PARENT_CARER", "OBJECT"), {"override": {"reason_code": "LEGAL_DUTY", "legal_reference": "CA1989_S47"}})
	d := decide(reporting, [objection])
	d.allow
	"record_override" in d.obligations
}

test_legal_duty_override_without_a_reference_does_not_count if {
	objection := object.union(pref("PARENT_CARER", "OBJECT"), {"override": {"reason_code": "LEGAL_DUTY", "legal_reference": null}})
	d := decide(reporting, [objection])
	not d.allow
}

test_other_override_with_a_blank_reference_does_not_count if {
	objection := object.union(pref("OTHER_WITH_PR", "OBJECT"), {"override": {"reason_code": "OTHER", "legal_reference": "  "}})
	d := decide(reporting, [objection])
	not d.allow
}

test_objection_for_another_purpose_does_not_apply if {
	d := decide(reporting, [object.union(pref("PARENT_CARER", "OBJECT"), {"purpose": "research"})])
	d.allow
}

test_objection_for_another_recipient_does_not_apply if {
	d := decide(reporting, [object.union(pref("PARENT_CARER", "OBJECT"), {"recipient": "dfe"})])
	d.allow
}

test_objection_for_this_recipient_and_purpose_applies if {
	objection := object.union(pref("PARENT_CARER", "OBJECT"), {"purpose": "strategic_reporting", "recipient": "la_performance_team"})
	d := decide(reporting, [objection])
	not d.allow
}

test_objection_to_a_category_of_the_event_applies if {
	d := decide(reporting, [object.union(pref("PARENT_CARER", "OBJECT"), {"data_category": "social_care"})])
	not d.allow
}

test_objection_to_the_event_type_applies if {
	d := decide(reporting, [object.union(pref("PARENT_CARER", "OBJECT"), {"data_category": "case_management.referral"})])
	not d.allow
}

test_objection_to_another_category_does_not_apply if {
	d := decide(reporting, [object.union(pref("PARENT_CARER", "OBJECT"), {"data_category": "health"})])
	d.allow
}

test_objection_does_not_stop_a_statutory_return if {
	d := sharing.decision with input as object.union(reporting, {
		"purpose": "statutory_return",
		"recipient": "dfe",
		"subject": {"preferences": [pref("PARENT_CARER", "OBJECT")]},
	})
	d.allow
	has_reason(d, "does not rest on consent and does not stop for objections")
}

# --- consent -------------------------------------------------------------------------

test_purpose_relying_on_consent_without_consent_is_denied if {
	d := decide(research, [])
	not d.allow
	has_reason(d, "'research' relies on consent, and no consent from a parent or carer applies")
}

test_purpose_relying_on_consent_with_parent_consent_is_allowed if {
	d := decide(research, [pref("PARENT_CARER", "ALLOW")])
	d.allow
	has_reason(d, "shared with the consent of a parent or carer")
}

test_consent_for_another_purpose_is_not_consent if {
	d := decide(research, [object.union(pref("PARENT_CARER", "ALLOW"), {"purpose": "strategic_reporting"})])
	not d.allow
}

test_objection_with_consent_still_stops_research if {
	d := decide(research, [pref("PARENT_CARER", "ALLOW"), pref("PARENT_CARER", "OBJECT")])
	not d.allow
}

# --- the child's own view ----------------------------------------------------------

test_competent_child_objection_prevails_over_parent_consent if {
	d := decide(research, [competent_child("OBJECT"), pref("PARENT_CARER", "ALLOW")])
	not d.allow
	has_reason(d, "the child or young person (competent to decide) objects")
}

test_competent_child_consent_prevails_over_parent_objection if {
	d := decide(research, [competent_child("ALLOW"), pref("PARENT_CARER", "OBJECT")])
	d.allow
	has_reason(d, "the child's own view prevails over a parent's or carer's preference")
	has_reason(d, "consent of the child or young person (competent to decide)")
}

test_young_person_counts_as_competent if {
	d := decide(reporting, [pref("YOUNG_PERSON", "ALLOW"), pref("PARENT_CARER", "OBJECT")])
	d.allow
}

test_young_person_objection_stops_reporting if {
	d := decide(reporting, [pref("YOUNG_PERSON", "OBJECT")])
	not d.allow
}

test_younger_child_objection_is_weighed_not_decisive if {
	d := decide(research, [younger_child("OBJECT"), pref("PARENT_CARER", "ALLOW")])
	d.allow
	"child_view_recorded" in d.obligations
	has_reason(d, "recorded and weighed")
}

test_younger_child_consent_alone_is_not_consent if {
	d := decide(research, [younger_child("ALLOW")])
	not d.allow
}

test_child_not_assessed_is_not_treated_as_competent if {
	d := decide(research, [pref("CHILD", "ALLOW")])
	not d.allow
}

test_younger_child_objection_alone_does_not_stop_reporting if {
	d := decide(reporting, [younger_child("OBJECT")])
	d.allow
	"child_view_recorded" in d.obligations
}

test_no_child_view_recorded_when_denied if {
	d := decide(reporting, [younger_child("OBJECT"), pref("PARENT_CARER", "OBJECT")])
	not d.allow
	not "child_view_recorded" in d.obligations
}

test_purpose_relying_on_consent_alone_still_weighs_a_younger_childs_view if {
	d := decide(research, [younger_child("OBJECT"), pref("PARENT_CARER", "ALLOW")])
		with data.data.purposes.research.honours_objections as false
	d.allow
	"child_view_recorded" in d.obligations
}
