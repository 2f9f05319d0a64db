# The child's and family's wishes (part of package chorus.sharing).
#
# How the preferences of the child, young person and parents or carers are
# weighed, for purposes that honour objections or rely on consent
# (policies/data/purposes.yaml). A preference applies when each of its purpose,
# recipient and data_category is empty or matches this sharing. A competent
# child's own view prevails over a parent's; a younger child's objection is
# recorded and weighed but does not by itself decide.
package chorus.sharing

# METADATA
# title: Wishes weighed
# description: The purpose honours objections or relies on consent, so preferences decide.
# custom:
#   legal_basis: UK GDPR Art. 21 right to object; Art. 6(1)(a) and 7 consent
#   on_failure: preferences are recorded but do not decide
wishes_decide if purpose.honours_objections

# METADATA
# title: Wishes weighed
# description: The purpose honours objections or relies on consent, so preferences decide.
# custom:
#   legal_basis: UK GDPR Art. 21 right to object; Art. 6(1)(a) and 7 consent
#   on_failure: preferences are recorded but do not decide
wishes_decide if purpose.relies_on_consent

# METADATA
# title: Preferences that apply
# description: Preferences in effect whose purpose, recipient and data category cover this sharing.
# custom:
#   legal_basis: UK GDPR Art. 21 and Art. 7
#   on_failure: a preference that does not apply is ignored
applicable contains pref if {
	some pref in object.get(subject, "preferences", [])
	in_scope(object.get(pref, "purpose", null), input.purpose)
	in_scope(object.get(pref, "recipient", null), input.recipient)
	category_in_scope(object.get(pref, "data_category", null))
}

# METADATA
# title: Scope part matches
# description: An empty part of a preference's scope covers everything; otherwise it must match.
# custom:
#   legal_basis: UK GDPR Art. 21 and Art. 7
#   on_failure: the preference does not apply
in_scope(null, _)

# METADATA
# title: Scope part matches
# description: An empty part of a preference's scope covers everything; otherwise it must match.
# custom:
#   legal_basis: UK GDPR Art. 21 and Art. 7
#   on_failure: the preference does not apply
in_scope(wanted, actual) if wanted == actual

# METADATA
# title: Data category matches
# description: An empty data category covers everything; otherwise one of the event's categories, or the event type.
# custom:
#   legal_basis: UK GDPR Art. 21 and Art. 7
#   on_failure: the preference does not apply
category_in_scope(null)

# METADATA
# title: Data category matches
# description: An empty data category covers everything; otherwise one of the event's categories, or the event type.
# custom:
#   legal_basis: UK GDPR Art. 21 and Art. 7
#   on_failure: the preference does not apply
category_in_scope(category) if category in event_categories

# METADATA
# title: Data category matches
# description: An empty data category covers everything; otherwise one of the event's categories, or the event type.
# custom:
#   legal_basis: UK GDPR Art. 21 and Art. 7
#   on_failure: the preference does not apply
category_in_scope(category) if category == input.event_type

# METADATA
# title: A competent child's own view
# description: A young person (16 or over), or a child assessed as Gillick competent.
# custom:
#   legal_basis: Gillick v West Norfolk AHA [1986]; UK GDPR recital 38; ICO guidance on children's data
#   on_failure: the view is weighed as a younger child's
competent_child(pref) if pref.expressed_by == "YOUNG_PERSON"

# METADATA
# title: A competent child's own view
# description: A young person (16 or over), or a child assessed as Gillick competent.
# custom:
#   legal_basis: Gillick v West Norfolk AHA [1986]; UK GDPR recital 38; ICO guidance on children's data
#   on_failure: the view is weighed as a younger child's
competent_child(pref) if {
	pref.expressed_by == "CHILD"
	pref.competence_assessed == "GILLICK_COMPETENT"
}

# METADATA
# title: A parent's or carer's view
# description: A parent or carer, or another person or body with parental responsibility.
# custom:
#   legal_basis: Children Act 1989 s.3 parental responsibility
#   on_failure: the view is not a parent's
parent_view(pref) if pref.expressed_by in {"PARENT_CARER", "OTHER_WITH_PR"}

# METADATA
# title: Competent child's views that apply
# description: The applicable preferences of a competent child or young person.
# custom:
#   legal_basis: UK GDPR Art. 21 and Art. 7
#   on_failure: none
child_views := {pref | some pref in applicable; competent_child(pref)}

# METADATA
# title: Parents' views that apply
# description: The applicable preferences of parents, carers and others with parental responsibility.
# custom:
#   legal_basis: Children Act 1989 s.3
#   on_failure: none
parent_views := {pref | some pref in applicable; parent_view(pref)}

# METADATA
# title: Views that decide
# description: >-
#   A competent child's own view prevails over a parent's in the same scope; when
#   the child has no view in this scope, the parents' views decide.
# custom:
#   legal_basis: Gillick v West Norfolk AHA [1986]; Children Act 1989 s.1(3)(a)
#   on_failure: none
deciding_views := child_views if count(child_views) > 0

# METADATA
# title: Views that decide
# description: >-
#   A competent child's own view prevails over a parent's in the same scope; when
#   the child has no view in this scope, the parents' views decide.
# custom:
#   legal_basis: Gillick v West Norfolk AHA [1986]; Children Act 1989 s.1(3)(a)
#   on_failure: none
deciding_views := parent_views if count(child_views) == 0

# METADATA
# title: Whose view decides
# description: In words, for the reasons.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(a) transparency
#   on_failure: none
decider := "the child or young person (competent to decide)" if count(child_views) > 0

# METADATA
# title: Whose view decides
# description: In words, for the reasons.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(a) transparency
#   on_failure: none
decider := "a parent or carer" if count(child_views) == 0

# METADATA
# title: Overridden with a recorded reason
# description: >-
#   An objection is overridden when the override records SIGNIFICANT_HARM, or
#   LEGAL_DUTY or OTHER together with the legal reference relied on.
# custom:
#   legal_basis: Children Act 1989 s.47; UK GDPR Art. 21(1) compelling legitimate grounds
#   on_failure: an override without a recorded reason does not count
overridden(pref) if pref.override.reason_code == "SIGNIFICANT_HARM"

# METADATA
# title: Overridden with a recorded reason
# description: >-
#   An objection is overridden when the override records SIGNIFICANT_HARM, or
#   LEGAL_DUTY or OTHER together with the legal reference relied on.
# custom:
#   legal_basis: Children Act 1989 s.47; UK GDPR Art. 21(1) compelling legitimate grounds
#   on_failure: an override without a recorded reason does not count
overridden(pref) if {
	pref.override.reason_code in {"LEGAL_DUTY", "OTHER"}
	is_string(pref.override.legal_reference)
	trim_space(pref.override.legal_reference) != ""
}

# METADATA
# title: Objections that stand
# description: Deciding objections without an override that records a reason.
# custom:
#   legal_basis: UK GDPR Art. 21
#   on_failure: none
standing_objections := {pref |
	some pref in deciding_views
	pref.decision == "OBJECT"
	not overridden(pref)
}

# METADATA
# title: Objections overridden
# description: Deciding objections overridden for a recorded reason.
# custom:
#   legal_basis: UK GDPR Art. 21(1)
#   on_failure: none
overridden_objections := {pref |
	some pref in deciding_views
	pref.decision == "OBJECT"
	overridden(pref)
}

# METADATA
# title: Consent given
# description: Deciding preferences that allow this sharing.
# custom:
#   legal_basis: UK GDPR Art. 7 conditions for consent
#   on_failure: none
consents := {pref | some pref in deciding_views; pref.decision == "ALLOW"}

# METADATA
# title: A younger child's objection
# description: >-
#   An applicable objection by a child not assessed as competent. It is recorded
#   and weighed by the practitioner but does not by itself stop the sharing.
# custom:
#   legal_basis: Children Act 1989 s.1(3)(a) and s.22(4) wishes and feelings of the child
#   on_failure: none
younger_child_objections := {pref |
	some pref in applicable
	pref.expressed_by == "CHILD"
	not competent_child(pref)
	pref.decision == "OBJECT"
}

# METADATA
# title: An objection stops sharing
# description: >-
#   For a purpose that honours objections, an applicable objection from the
#   person whose view decides stops the sharing unless it is overridden for a
#   recorded reason.
# custom:
#   legal_basis: UK GDPR Art. 21 right to object
#   on_failure: nothing is shared; record an override with its reason in the case management system if the law requires sharing
deny contains msg if {
	purpose.honours_objections
	count(standing_objections) > 0
	msg := sprintf("%s objects to this sharing, and '%s' honours objections; no override with a recorded reason applies", [decider, input.purpose])
}

# METADATA
# title: Consent needed
# description: >-
#   For a purpose that relies on consent, sharing needs an applicable consent
#   (ALLOW) from the person whose view decides.
# custom:
#   legal_basis: UK GDPR Art. 6(1)(a) and Art. 7; common-law duty of confidence
#   on_failure: nothing is shared; ask for and record consent
deny contains msg if {
	purpose.relies_on_consent
	count(consents) == 0
	msg := sprintf("'%s' relies on consent, and no consent from %s applies to this sharing", [input.purpose, decider])
}

# METADATA
# title: Record the override
# description: An objection was overridden; the share and the reason must be recorded and the person told.
# custom:
#   legal_basis: UK GDPR Art. 5(2) accountability; Art. 21(1)
#   on_failure: the gatekeeper records it in the ledger
obligations contains "record_override" if {
	allow
	purpose.honours_objections
	count(overridden_objections) > 0
}

# METADATA
# title: Record the child's view
# description: A younger child objects; their view is recorded and weighed by the practitioner.
# custom:
#   legal_basis: Children Act 1989 s.1(3)(a)
#   on_failure: the gatekeeper records it in the ledger
obligations contains "child_view_recorded" if {
	allow
	wishes_decide
	count(younger_child_objections) > 0
}

# METADATA
# title: Override note
# description: Says that an objection was overridden and for which kind of reason.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(a) transparency
#   on_failure: none (explanation only)
notes contains msg if {
	purpose.honours_objections
	some pref in overridden_objections
	msg := sprintf("an objection by %s was overridden for a recorded reason (%s); the override must be recorded and the person told", [decider, pref.override.reason_code])
}

# METADATA
# title: Competent child prevails note
# description: Says that a competent child's own view prevailed over a parent's in the same scope.
# custom:
#   legal_basis: Gillick v West Norfolk AHA [1986]
#   on_failure: none (explanation only)
notes contains msg if {
	wishes_decide
	count(child_views) > 0
	count(parent_views) > 0
	msg := "the child's own view prevails over a parent's or carer's preference in the same scope, because the child is competent to decide"
}

# METADATA
# title: Younger child's view note
# description: Says that a younger child's objection was recorded and weighed.
# custom:
#   legal_basis: Children Act 1989 s.1(3)(a)
#   on_failure: none (explanation only)
notes contains msg if {
	wishes_decide
	count(younger_child_objections) > 0
	msg := "the objection of a child not assessed as competent to decide is recorded and weighed, but does not by itself stop sharing that their parent or carer agreed to or did not object to"
}

# METADATA
# title: Consent note
# description: Says whose consent the sharing relies on.
# custom:
#   legal_basis: UK GDPR Art. 7
#   on_failure: none (explanation only)
notes contains msg if {
	purpose.relies_on_consent
	count(consents) > 0
	msg := sprintf("shared with the consent of %s", [decider])
}

# METADATA
# title: Objection not deciding note
# description: >-
#   Says that an objection applies but this purpose does not rest on consent or
#   honour objections (for example a statutory return or safeguarding).
# custom:
#   legal_basis: UK GDPR Art. 21(1) and Art. 6(1)(c)
#   on_failure: none (explanation only)
notes contains msg if {
	not wishes_decide
	some pref in applicable
	pref.decision == "OBJECT"
	msg := sprintf("an objection applies, but '%s' does not rest on consent and does not stop for objections (%s); the objection stays on record", [input.purpose, lawful_basis])
}
