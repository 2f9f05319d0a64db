package chorus.sharing_test

import data.chorus.sharing

# A day on which the real agreements in policies/data/agreements.yaml are in force.
day := "2026-06-01"

referral := {
	"event_type": "case_management.referral",
	"purpose": "strategic_reporting",
	"recipient": "la_performance_team",
	"date": "2025-06-01",
}

statement := {
	"event_type": "voice.statement_recorded",
	"purpose": "strategic_reporting",
	"recipient": "la_performance_team",
	"date": day,
	"voice_consent": {"strategic_reporting": true, "verbatim_quotes": true},
}

development_review := {
	"event_type": "health.development_review_completed",
	"purpose": "strategic_reporting",
	"recipient": "la_performance_team",
	"date": day,
}

with_subject(i, s) := object.union(i, {"subject": s})

has_reason(d, text) if {
	some r in d.reasons
	contains(r, text)
}

# --- purpose, recipient, subscription, event type, agreement -------------------------

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
	d.lawful_basis == null
	has_reason(d, "purpose 'marketing' is not registered")
}

test_unregistered_recipient_is_denied if {
	d := sharing.decision with input as object.union(referral, {"recipient": "someone_else"})
	not d.allow
	has_reason(d, "recipient 'someone_else' is not registered")
}

test_recipient_not_subscribed_to_the_purpose_is_denied if {
	d := sharing.decision with input as object.union(referral, {"recipient": "dfe"})
	not d.allow
	has_reason(d, "recipient 'dfe' is not subscribed to purpose 'strategic_reporting'")
}

test_event_type_outside_purpose_is_denied if {
	d := sharing.decision with input as object.union(referral, {"event_type": "health.development_review"})
	not d.allow
	has_reason(d, "does not receive 'health.development_review' events")
}

test_event_type_without_categories_is_denied if {
	d := sharing.decision with input as referral
		with data.data.categories as {}
	not d.allow
	has_reason(d, "has no data categories")
}

test_expired_agreement_stops_sharing if {
	d := sharing.decision with input as object.union(referral, {"date": "2028-01-01"})
	not d.allow
	d.agreement == null
	has_reason(d, "no information-sharing agreement in force on 2028-01-01")
}

test_input_without_a_date_is_denied if {
	d := sharing.decision with input as object.remove(referral, ["date"])
	not d.allow
	d.transforms == {}
	has_reason(d, "the decision input has no 'date'")
}

test_input_without_a_purpose_is_denied_with_a_decision if {
	d := sharing.decision with input as object.remove(referral, ["purpose"])
	not d.allow
	d.lawful_basis == null
	has_reason(d, "the decision input has no 'purpose'")
}

test_empty_input_is_denied if {
	d := sharing.decision with input as {}
	not d.allow
	d.data_categories == []
}

test_badly_written_date_is_denied if {
	d := sharing.decision with input as object.union(referral, {"date": "1/6/2026"})
	not d.allow
	has_reason(d, "YYYY-MM-DD")
}

test_agreement_not_yet_valid_stops_sharing if {
	d := sharing.decision with input as object.union(referral, {"date": "2023-12-31"})
	not d.allow
}

expired_evaluation := {
	"event_type": "voice.voice_note_recorded",
	"purpose": "research",
	"recipient": "la_performance_team",
	"voice_consent": {"strategic_reporting": true, "verbatim_quotes": false},
	"subject": {"preferences": [{"expressed_by": "PARENT_CARER", "decision": "ALLOW"}]},
}

test_pair_covered_only_by_an_expired_agreement_is_denied if {
	d := sharing.decision with input as object.union(expired_evaluation, {"date": day})
	not d.allow
	has_reason(d, "no information-sharing agreement in force")
}

test_pair_covered_by_that_agreement_was_allowed_while_in_force if {
	d := sharing.decision with input as object.union(expired_evaluation, {"date": "2025-03-31"})
	d.allow
	d.agreement == "isa_voice_note_evaluation"
}

test_allowed_reason_names_agreement_and_basis if {
	d := sharing.decision with input as referral
	contains(d.reasons[0], "under agreement 'isa_strategic_reporting'")
	contains(d.reasons[0], "public task")
}

test_subscriptions_list_recipient_purpose_pairs if {
	{"recipient": "la_performance_team", "purpose": "strategic_reporting"} in sharing.subscriptions
	{"recipient": "children_social_care", "purpose": "safeguarding"} in sharing.subscriptions
}

# --- data minimisation -----------------------------------------------------------------

test_transforms_are_the_purposes_field_list if {
	d := sharing.decision with input as referral
	d.transforms == data.data.purposes.strategic_reporting.events["case_management.referral"]
}

test_denied_decision_releases_no_fields if {
	d := sharing.decision with input as object.union(referral, {"date": "2028-01-01"})
	d.transforms == {}
}

test_strategic_reporting_gets_no_names_and_only_month_of_birth if {
	d := sharing.decision with input as object.union(referral, {"event_type": "case_management.person_registered", "date": day})
	d.allow
	not d.transforms.forename
	not d.transforms.surname
	d.transforms.dob == "month"
	d.transforms.postcode == "district"
}

test_direct_care_releases_identifiers if {
	d := sharing.decision with input as {
		"event_type": "health.development_review_completed",
		"purpose": "direct_care",
		"recipient": "health_visiting_team",
		"date": day,
	}
	d.allow
	d.transforms.review_date == "keep"
	not "pseudonymise_subject" in d.obligations
}

test_purpose_releasing_identifiers_has_no_pseudonymise_obligation if {
	d := sharing.decision with input as referral
		with data.data.purposes.strategic_reporting.release_identifiers as true
	d.allow
	not "pseudonymise_subject" in d.obligations
}

# --- safeguarding --------------------------------------------------------------------

attendance_for_safeguarding := {
	"event_type": "education.attendance_summarised",
	"purpose": "safeguarding",
	"recipient": "children_social_care",
	"date": day,
}

test_safeguarding_with_an_active_concern_is_allowed_and_recorded if {
	d := sharing.decision with input as with_subject(attendance_for_safeguarding, {"safeguarding_concern": true})
	d.allow
	"record_safeguarding_share" in d.obligations
	not "pseudonymise_subject" in d.obligations
	has_reason(d, "safeguard the child while a safeguarding concern is active")
}

test_safeguarding_without_a_concern_is_denied if {
	d := sharing.decision with input as with_subject(attendance_for_safeguarding, {"safeguarding_concern": false})
	not d.allow
	has_reason(d, "needs an active safeguarding concern")
}

test_safeguarding_with_a_subject_that_does_not_say_is_denied if {
	d := sharing.decision with input as with_subject(attendance_for_safeguarding, {"preferences": []})
	not d.allow
}

test_safeguarding_without_subject_is_denied if {
	d := sharing.decision with input as attendance_for_safeguarding
	not d.allow
	not "record_safeguarding_share" in d.obligations
}

test_safeguarding_goes_ahead_despite_an_objection if {
	objection := {"expressed_by": "YOUNG_PERSON", "decision": "OBJECT"}
	d := sharing.decision with input as with_subject(
		attendance_for_safeguarding,
		{"safeguarding_concern": true, "preferences": [objection]},
	)
	d.allow
	has_reason(d, "an objection applies, but 'safeguarding' does not rest on consent")
}

# --- national data opt-out -----------------------------------------------------------

test_opt_out_stops_confidential_health_for_reporting if {
	d := sharing.decision with input as with_subject(development_review, {"national_data_opt_out": true})
	not d.allow
	has_reason(d, "national data opt-out applies")
}

test_without_opt_out_health_reaches_reporting if {
	d := sharing.decision with input as with_subject(development_review, {"national_data_opt_out": false})
	d.allow
	d.transforms.review_date == "month"
}

test_opt_out_does_not_stop_individual_care if {
	d := sharing.decision with input as with_subject(
		object.union(development_review, {"purpose": "direct_care", "recipient": "health_visiting_team"}),
		{"national_data_opt_out": true},
	)
	d.allow
}

test_opt_out_does_not_cover_social_care_records if {
	d := sharing.decision with input as with_subject(referral, {"national_data_opt_out": true})
	d.allow
}

# --- voice ---------------------------------------------------------------------------

test_voice_with_consent_to_count_and_quote_is_shared_scrubbed_for_reporting if {
	d := sharing.decision with input as statement
	d.allow
	d.transforms.text == "scrub"
	d.transforms.items == "keep"
	d.transforms.themes == "keep"
	not has_reason(d, "own words are withheld")
}

test_voice_note_item_text_is_scrubbed_with_consent_to_quote if {
	d := sharing.decision with input as object.union(statement, {"event_type": "voice.voice_note_recorded"})
	d.allow
	d.transforms["items[].text"] == "scrub"
}

test_research_gets_quoted_words_redacted_not_scrubbed if {
	d := sharing.decision with input as with_subject(
		object.union(statement, {"purpose": "research", "recipient": "university_research_unit"}),
		{"preferences": [{"expressed_by": "YOUNG_PERSON", "decision": "ALLOW"}]},
	)
	d.allow
	d.transforms.text == "redact"
}

test_parent_comment_with_consent_to_quote_stays_redacted_for_reporting if {
	d := sharing.decision with input as object.union(statement, {"event_type": "health.parent_comment_recorded"})
	d.allow
	d.transforms.text == "redact"
}

test_voice_without_consent_to_quote_withholds_the_words if {
	d := sharing.decision with input as object.union(statement, {"voice_consent": {"strategic_reporting": true, "verbatim_quotes": false}})
	d.allow
	d.transforms.text == "drop"
	d.transforms.items == "keep"
	has_reason(d, "own words are withheld")
}

test_voice_note_item_text_is_withheld_without_consent_to_quote if {
	d := sharing.decision with input as object.union(statement, {
		"event_type": "voice.voice_note_recorded",
		"voice_consent": {"strategic_reporting": true, "verbatim_quotes": false},
	})
	d.allow
	d.transforms.items == "keep"
	d.transforms["items[].text"] == "drop"
}

test_voice_without_consent_to_count_is_denied if {
	d := sharing.decision with input as object.union(statement, {"voice_consent": {"strategic_reporting": false, "verbatim_quotes": true}})
	not d.allow
	has_reason(d, "has not agreed to it being counted in reports")
}

test_voice_without_any_recorded_consent_is_denied if {
	d := sharing.decision with input as object.union(statement, {"voice_consent": null})
	not d.allow
}

test_voice_consents_do_not_limit_individual_care if {
	d := sharing.decision with input as {
		"event_type": "voice.statement_recorded",
		"purpose": "early_help_triage",
		"recipient": "early_help_hub",
		"date": day,
		"voice_consent": {"strategic_reporting": false, "verbatim_quotes": false},
		"subject": {"preferences": [{"expressed_by": "PARENT_CARER", "decision": "ALLOW"}]},
	}
	d.allow
	d.transforms.text == "keep"
}

test_voice_consent_that_does_not_say_is_no_consent if {
	without := object.remove(statement, ["voice_consent"])
	d := sharing.decision with input as object.union(without, {"voice_consent": {"verbatim_quotes": true}})
	not d.allow
}

test_voice_consent_not_an_object_is_no_consent if {
	d := sharing.decision with input as object.union(statement, {"voice_consent": true})
	not d.allow
}
