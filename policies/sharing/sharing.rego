# METADATA
# title: Purpose-limited sharing
# description: >-
#   Decides, for one event and one subscription (recipient and purpose), whether
#   the recipient may receive the event and in what form. The input is event
#   metadata, never payload values, so decisions can be cached.
#   Input: {"event_type", "purpose", "recipient", "date" (YYYY-MM-DD, the decision day)}.
package chorus.sharing

import data.data.agreements
import data.data.purposes
import data.data.recipients

# METADATA
# title: Decision
# description: >-
#   Allow or deny; the transform for each released field; the reasons in plain
#   English; the lawful basis; obligations the gatekeeper must carry out.
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
}

# METADATA
# title: Allow only when nothing denies
# description: Sharing is allowed when no rule gives a reason to deny.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(b)
#   on_failure: deny
default allow := false

allow if count(deny) == 0

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
# title: Recipient registered and subscribed
# description: The recipient must be listed and subscribed to the purpose in policies/data/recipients.yaml.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(b)
#   on_failure: add the recipient and its subscription to policies/data/recipients.yaml
deny contains msg if {
	not input.purpose in object.get(recipients, [input.recipient, "subscriptions"], [])
	msg := sprintf("recipient '%s' is not registered for purpose '%s'; add it to policies/data/recipients.yaml", [input.recipient, input.purpose])
}

# METADATA
# title: Event type within the purpose
# description: Data minimisation. The purpose must list the event type it may receive.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c) data minimisation
#   on_failure: list the event type and its fields under the purpose in policies/data/purposes.yaml
deny contains msg if {
	purposes[input.purpose]
	not purposes[input.purpose].events[input.event_type]
	msg := sprintf("purpose '%s' does not receive '%s' events", [input.purpose, input.event_type])
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
default agreement_id := null

agreement_id := min(agreements_in_force) if count(agreements_in_force) > 0

# METADATA
# title: Field transforms
# description: Each field the purpose may receive and its transform; only when allowed.
transforms := purposes[input.purpose].events[input.event_type] if allow

# METADATA
# title: No fields when denied
# description: A denied decision releases nothing.
transforms := {} if not allow

# METADATA
# title: Lawful basis
# description: The purpose's lawful basis, recorded in the ledger.
default lawful_basis := null

lawful_basis := purposes[input.purpose].lawful_basis

# METADATA
# title: Obligations
# description: Replace the subject's identifiers by this purpose's pseudonym unless the purpose may receive them.
obligations contains "pseudonymise_subject" if {
	allow
	not purposes[input.purpose].release_identifiers
}

# METADATA
# title: Reasons
# description: The deny reasons, or one sentence saying why sharing is allowed.
reasons := sort(deny) if not allow

reasons := [msg] if {
	allow
	msg := sprintf("'%s' may receive '%s' events for '%s' under agreement '%s' (%s)", [input.recipient, input.event_type, input.purpose, agreement_id, lawful_basis])
}

# METADATA
# title: Subscriptions
# description: Every (recipient, purpose) pair the gatekeeper decides for on each event.
subscriptions contains {"recipient": r, "purpose": p} if {
	some r, rec in recipients
	some p in rec.subscriptions
}
