package chorus.sharing_test

import data.chorus.sharing

referral := {
	"event_type": "case_management.referral",
	"purpose": "strategic_reporting",
	"recipient": "la_performance_team",
	"date": "2025-06-01",
}

test_registered_subscription_with_agreement_is_allowed if {
	d := sharing.decision with input as referral
	d.allow
	d.transforms.referral_source == "keep"
	d.transforms.referral_date == "month"
	"pseudonymise_subject" in d.obligations
	d.agreement == "isa_strategic_reporting"
}

test_unregistered_purpose_is_denied if {
	d := sharing.decision with input as object.union(referral, {"purpose": "marketing"})
	not d.allow
	d.transforms == {}
	some r in d.reasons
	contains(r, "purpose 'marketing' is not registered")
}

test_unregistered_recipient_is_denied if {
	d := sharing.decision with input as object.union(referral, {"recipient": "someone_else"})
	not d.allow
	some r in d.reasons
	contains(r, "recipient 'someone_else' is not registered")
}

test_event_type_outside_purpose_is_denied if {
	d := sharing.decision with input as object.union(referral, {"event_type": "health.development_review"})
	not d.allow
	some r in d.reasons
	contains(r, "does not receive 'health.development_review' events")
}

test_expired_agreement_stops_sharing if {
	d := sharing.decision with input as object.union(referral, {"date": "2028-01-01"})
	not d.allow
	some r in d.reasons
	contains(r, "no information-sharing agreement in force on 2028-01-01")
}

test_agreement_not_yet_valid_stops_sharing if {
	d := sharing.decision with input as object.union(referral, {"date": "2023-12-31"})
	not d.allow
}

test_allowed_reason_names_agreement_and_basis if {
	d := sharing.decision with input as referral
	contains(d.reasons[0], "under agreement 'isa_strategic_reporting'")
	contains(d.reasons[0], "public task")
}

test_purpose_releasing_identifiers_has_no_pseudonymise_obligation if {
	d := sharing.decision with input as referral
		with data.data.purposes.strategic_reporting.release_identifiers as true
	d.allow
	not "pseudonymise_subject" in d.obligations
}

test_subscriptions_list_recipient_purpose_pairs if {
	{"recipient": "la_performance_team", "purpose": "strategic_reporting"} in sharing.subscriptions
}
