# METADATA
# title: Purpose-limited sharing
# description: >-
#   Decides, for one event and one subscription (recipient and purpose), whether
#   the recipient may receive the event and in what form. The input is event
#   metadata, never payload values, so decisions can be cached.
#   Input: event_type, purpose, recipient, date (YYYY-MM-DD, the decision day),
#   voice_consent (null, or the event's strategic_reporting and verbatim_quotes
#   consents), and subject (optional): preferences in effect on the date,
#   safeguarding_concern, national_data_opt_out.
#   Data: policies/data/purposes.yaml, recipients.yaml, agreements.yaml, categories.yaml.
#   The rules that weigh the child's and family's wishes are in wishes.rego.
package chorus.sharing

import data.data.agreements
import data.data.categories
import data.data.purposes
import data.data.recipients

# METADATA
# title: Decision
# description: >-
#   Allow or deny; the transform for each released field; the reasons in plain
#   English; the lawful basis; the agreement relied on; obligations the
#   gatekeeper must carry out; the event's data categories.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(b) purpose limitation and Art. 5(1)(c) data minimisation
#   on_failure: nothing is shared; the gatekeeper records the denial in the ledger
decision := {
	"allow": allow,
	"reasons": reasons,
	"transforms": transforms,
	"lawful_basis": lawful_basis,
	"obligations": obligations,
	"agreement": agreement_id,
	"data_categories": event_categories,
}

# METADATA
# title: Allow only when nothing denies
# description: Sharing is allowed when no rule gives a reason to deny.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(b)
#   on_failure: deny
default allow := false

# METADATA
# title: Allow only when nothing denies
# description: Sharing is allowed when no rule gives a reason to deny.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(b)
#   on_failure: deny
allow if count(deny) == 0

# METADATA
# title: The purpose asked for
# description: The purpose's entry in policies/data/purposes.yaml; empty when it is not registered.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(b)
#   on_failure: an unregistered purpose is denied by the rule below
default purpose := {}

# METADATA
# title: The purpose asked for
# description: The purpose's entry in policies/data/purposes.yaml; empty when it is not registered.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(b)
#   on_failure: an unregistered purpose is denied by the rule below
purpose := purposes[input.purpose]

# METADATA
# title: Event categories
# description: The categories of information the event type holds, from policies/data/categories.yaml.
# custom:
#   legal_basis: UK GDPR Art. 30 records of processing (categories of personal data)
#   on_failure: an event type without categories is denied by the rule below
default event_categories := []

# METADATA
# title: Event categories
# description: The categories of information the event type holds, from policies/data/categories.yaml.
# custom:
#   legal_basis: UK GDPR Art. 30 records of processing (categories of personal data)
#   on_failure: an event type without categories is denied by the rule below
event_categories := categories[input.event_type]

# METADATA
# title: Input complete
# description: >-
#   The gatekeeper must say the event type, purpose, recipient and decision day;
#   a decision about an incomplete input is a denial, never a share.
# custom:
#   legal_basis: UK GDPR Art. 5(2) accountability; Art. 25 data protection by design
#   on_failure: nothing is shared; fix the gatekeeper that built the input
deny contains msg if {
	some key in ["event_type", "purpose", "recipient", "date"]
	not is_string(object.get(input, key, null))
	msg := sprintf("the decision input has no '%s'; it needs event_type, purpose, recipient and date", [key])
}

# METADATA
# title: Decision day well formed
# description: The decision day is a date written YYYY-MM-DD, so agreement dates compare correctly.
# custom:
#   legal_basis: UK GDPR Art. 5(2) accountability
#   on_failure: nothing is shared; fix the gatekeeper that built the input
deny contains "the decision date must be written YYYY-MM-DD" if {
	is_string(input.date)
	not regex.match(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`, input.date)
}

# METADATA
# title: Purpose registered
# description: The purpose must be listed in policies/data/purposes.yaml.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(b) specified, explicit and legitimate purposes
#   on_failure: register the purpose, with its lawful basis, in policies/data/purposes.yaml
deny contains msg if {
	not purposes[input.purpose]
	msg := sprintf("purpose '%s' is not registered; add it to policies/data/purposes.yaml", [input.purpose])
}

# METADATA
# title: Recipient registered
# description: The recipient must be listed in policies/data/recipients.yaml.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(b); Art. 30 records of recipients
#   on_failure: add the recipient to policies/data/recipients.yaml
deny contains msg if {
	not recipients[input.recipient]
	msg := sprintf("recipient '%s' is not registered for purpose '%s'; add it to policies/data/recipients.yaml", [input.recipient, input.purpose])
}

# METADATA
# title: Recipient subscribed to the purpose
# description: A registered recipient must subscribe to the purpose in policies/data/recipients.yaml.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(b)
#   on_failure: add the purpose to the recipient's subscriptions in policies/data/recipients.yaml
deny contains msg if {
	recipients[input.recipient]
	not input.purpose in recipients[input.recipient].subscriptions
	msg := sprintf("recipient '%s' is not subscribed to purpose '%s'; add it to its subscriptions in policies/data/recipients.yaml", [input.recipient, input.purpose])
}

# METADATA
# title: Event type within the purpose
# description: Data minimisation. The purpose must list the event type it may receive.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c) data minimisation
#   on_failure: list the event type and its fields under the purpose in policies/data/purposes.yaml
deny contains msg if {
	purposes[input.purpose]
	not purpose.events[input.event_type]
	msg := sprintf("purpose '%s' does not receive '%s' events", [input.purpose, input.event_type])
}

# METADATA
# title: Event type categorised
# description: >-
#   The event type must have its data categories in policies/data/categories.yaml,
#   so that preferences, the national data opt-out and the voice rules can apply.
# custom:
#   legal_basis: UK GDPR Art. 5(2) accountability
#   on_failure: list the event type's categories in policies/data/categories.yaml
deny contains msg if {
	not categories[input.event_type]
	msg := sprintf("event type '%s' has no data categories; add it to policies/data/categories.yaml", [input.event_type])
}

# METADATA
# title: Agreement in force
# description: >-
#   An information-sharing agreement must cover the recipient, the purpose and
#   the event type on the day of the decision. An expired agreement stops sharing by itself.
# custom:
#   legal_basis: UK GDPR Art. 5(2) accountability; ICO data sharing code of practice
#   on_failure: renew or add the agreement in policies/data/agreements.yaml
deny contains msg if {
	count(agreements_in_force) == 0
	msg := sprintf("no information-sharing agreement in force on %s covers '%s' receiving '%s' for '%s'", [input.date, input.recipient, input.event_type, input.purpose])
}

# METADATA
# title: Agreements in force
# description: Agreements covering this recipient, purpose and event type, valid on the decision day.
# custom:
#   legal_basis: ICO data sharing code of practice
#   on_failure: none in force denies sharing (rule above)
agreements_in_force contains id if {
	some id, a in agreements
	input.recipient in a.parties
	input.purpose in a.purposes
	input.event_type in a.event_types
	a.valid_from <= input.date
	input.date <= a.expires
}

# METADATA
# title: The agreement relied on
# description: The first agreement in force, by id, named in the ledger.
# custom:
#   legal_basis: UK GDPR Art. 5(2) accountability
#   on_failure: null when no agreement is in force (sharing is then denied)
default agreement_id := null

# METADATA
# title: The agreement relied on
# description: The first agreement in force, by id, named in the ledger.
# custom:
#   legal_basis: UK GDPR Art. 5(2) accountability
#   on_failure: null when no agreement is in force (sharing is then denied)
agreement_id := min(agreements_in_force) if count(agreements_in_force) > 0

# METADATA
# title: Safeguarding needs an active concern
# description: >-
#   A purpose that requires a safeguarding concern (safeguarding) shares only while
#   an active safeguarding concern about the child is recorded. Objections and
#   consent do not decide it.
# custom:
#   legal_basis: Children Act 1989 s.47; DPA 2018 Sch. 1 para 18; Working Together to Safeguard Children
#   on_failure: nothing is shared; record the concern in the case management system first
deny contains msg if {
	purpose.requires_safeguarding_concern
	not subject.safeguarding_concern == true
	msg := sprintf("'%s' sharing needs an active safeguarding concern about the child, and none is recorded", [input.purpose])
}

# METADATA
# title: National data opt-out
# description: >-
#   When the NHS national data opt-out applies to the child, confidential patient
#   information is not shared for purposes other than the child's individual care.
# custom:
#   legal_basis: NHS national data opt-out policy (Health and Social Care Act 2012 s.251 and the COPI Regulations 2002)
#   on_failure: nothing is shared; the child's own care is not affected
deny contains msg if {
	subject.national_data_opt_out == true
	"confidential_health" in event_categories
	not purpose.individual_care
	msg := sprintf("the national data opt-out applies to the child: '%s' events hold confidential patient information, and '%s' is not the child's individual care", [input.event_type, input.purpose])
}

# METADATA
# title: Voice counted only with consent
# description: >-
#   A child's or family's own views reach a purpose other than their individual
#   care (strategic reporting, research) only when the person agreed that their
#   view may be counted in reports (voice_consent.strategic_reporting).
# custom:
#   legal_basis: UK GDPR Art. 5(1)(a) fairness and transparency; the consent recorded with the view
#   on_failure: the view is not shared beyond the person's own care
deny contains msg if {
	"voice" in event_categories
	not purpose.individual_care
	not voice_consent.strategic_reporting == true
	msg := sprintf("the person whose view this is has not agreed to it being counted in reports, so '%s' may not receive it", [input.purpose])
}

# METADATA
# title: Voice consent given with the event
# description: The consents recorded with a voice event; empty for events without them.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(a)
#   on_failure: treated as no consent
default voice_consent := {}

# METADATA
# title: Voice consent given with the event
# description: The consents recorded with a voice event; empty for events without them.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(a)
#   on_failure: treated as no consent
voice_consent := input.voice_consent if is_object(input.voice_consent)

# METADATA
# title: The child's state
# description: Preferences, safeguarding concern and opt-out; empty when the input has no subject.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(a)
#   on_failure: treated as no preferences, no concern and no opt-out
default subject := {}

# METADATA
# title: The child's state
# description: Preferences, safeguarding concern and opt-out; empty when the input has no subject.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(a)
#   on_failure: treated as no preferences, no concern and no opt-out
subject := input.subject if is_object(input.subject)

# METADATA
# title: Free text transforms
# description: >-
#   The transforms a purpose lists for free text: redact (a marker instead of the
#   words) and scrub (the words, with names, numbers, postcodes and dates replaced).
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c) data minimisation
#   on_failure: a field with another transform is not treated as free text
free_text_transforms := {"redact", "scrub"}

# METADATA
# title: Own words only with consent to quotes
# description: >-
#   Outside the person's individual care, the free text of a voice event (the
#   fields a purpose lists as redact or scrub, such as text and items[].text) is
#   released, redacted or scrubbed, only when the person agreed to verbatim quotes;
#   otherwise it is withheld.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c) data minimisation; the consent recorded with the view
#   on_failure: the free text is withheld (drop)
withhold_own_words if {
	"voice" in event_categories
	not purpose.individual_care
	not voice_consent.verbatim_quotes == true
}

# METADATA
# title: Field transforms
# description: >-
#   Each field the purpose may receive and its transform (from purposes.yaml),
#   with free text withheld where the voice rule says so; only when allowed.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c) data minimisation; Art. 25 data protection by design
#   on_failure: a field not listed is withheld
transforms := {path: released_transform(listed) |
	some path, listed in purpose.events[input.event_type]
} if allow

# METADATA
# title: No fields when denied
# description: A denied decision releases nothing.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c)
#   on_failure: nothing is released
transforms := {} if not allow

# METADATA
# title: Transform of one field
# description: The listed transform, except that free text is withheld where the voice rule says so.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c)
#   on_failure: the listed transform applies
released_transform(listed) := "drop" if {
	listed in free_text_transforms
	withhold_own_words
} else := listed

# METADATA
# title: Lawful basis
# description: The purpose's lawful basis, recorded in the ledger.
# custom:
#   legal_basis: UK GDPR Art. 6
#   on_failure: null for an unregistered purpose (sharing is then denied)
default lawful_basis := null

# METADATA
# title: Lawful basis
# description: The purpose's lawful basis, recorded in the ledger.
# custom:
#   legal_basis: UK GDPR Art. 6
#   on_failure: null for an unregistered purpose (sharing is then denied)
lawful_basis := purposes[input.purpose].lawful_basis

# METADATA
# title: Pseudonymise the subject
# description: Replace the subject's identifiers by this purpose's pseudonym unless the purpose may receive them.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c) and Art. 25 (pseudonymisation)
#   on_failure: the gatekeeper releases no identifiers
obligations contains "pseudonymise_subject" if {
	allow
	not purpose.release_identifiers
}

# METADATA
# title: Record a safeguarding share
# description: A share for safeguarding is recorded on the child's file with the concern it served.
# custom:
#   legal_basis: Working Together to Safeguard Children; UK GDPR Art. 5(2) accountability
#   on_failure: the gatekeeper records it in the ledger and the case record
obligations contains "record_safeguarding_share" if {
	allow
	purpose.requires_safeguarding_concern
}

# METADATA
# title: Reasons
# description: The deny reasons, or why sharing is allowed followed by how wishes, voice and safeguarding were weighed.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(a) transparency; Art. 15 right of access
#   on_failure: the denial reasons are recorded in the ledger
reasons := sort(deny) if not allow

# METADATA
# title: Reasons
# description: The deny reasons, or why sharing is allowed followed by how wishes, voice and safeguarding were weighed.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(a) transparency; Art. 15 right of access
#   on_failure: the denial reasons are recorded in the ledger
reasons := array.concat([msg], sort(notes)) if {
	allow
	msg := sprintf("'%s' may receive '%s' events for '%s' under agreement '%s' (%s)", [input.recipient, input.event_type, input.purpose, agreement_id, lawful_basis])
}

# METADATA
# title: Safeguarding note
# description: Says that the share rests on an active safeguarding concern.
# custom:
#   legal_basis: DPA 2018 Sch. 1 para 18
#   on_failure: none (explanation only)
notes contains msg if {
	purpose.requires_safeguarding_concern
	msg := "shared to safeguard the child while a safeguarding concern is active; objections and consent do not decide safeguarding sharing, and the share must be recorded"
}

# METADATA
# title: Own words withheld note
# description: Says that free text was withheld because the person did not agree to verbatim quotes.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c)
#   on_failure: none (explanation only)
notes contains msg if {
	withhold_own_words
	some listed in purpose.events[input.event_type]
	listed in free_text_transforms
	msg := "the person's own words are withheld: they have not agreed to be quoted"
}

# METADATA
# title: Subscriptions
# description: Every (recipient, purpose) pair the gatekeeper decides for on each event.
# custom:
#   legal_basis: UK GDPR Art. 30 records of processing
#   on_failure: a pair not listed is never decided for, so nothing is shared to it
subscriptions contains {"recipient": r, "purpose": p} if {
	some r, rec in recipients
	some p in rec.subscriptions
}
