# METADATA
# title: Disclosure control
# description: >-
#   The statistical disclosure rules every published aggregate cell passes,
#   from policies/data/disclosure.yaml, and the checks that keep them safe.
package chorus.disclosure

# METADATA
# title: The disclosure settings
# description: The disclosure section of the policy data; empty when it is missing.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c) data minimisation; ONS/GSS disclosure control guidance
#   on_failure: rules.problems names what is missing and nothing is published
default settings := {}

# METADATA
# title: The disclosure settings
# description: The disclosure section of the policy data; empty when it is missing.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c) data minimisation
#   on_failure: rules.problems names what is missing and nothing is published
settings := data.data.disclosure if is_object(data.data.disclosure)

# METADATA
# title: Rules for published cells
# description: >-
#   What the aggregate workers apply before publishing: suppression threshold,
#   rounding base, minimum denominator, rounding of rates and means, the
#   measures never published, the cell key perturbation table and method per
#   aggregate, the limits on statements, and any problems with them. A worker
#   publishes nothing while problems is not empty.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c) data minimisation; ONS/GSS disclosure control guidance
#   on_failure: a worker that cannot read these rules, or finds problems, publishes nothing
rules := {
	"suppress_at_or_below": object.get(settings, "suppress_at_or_below", null),
	"round_to": object.get(settings, "round_to", null),
	"min_denominator": object.get(settings, "min_denominator", 20),
	"rate_round_to": object.get(settings, "rate_round_to", 1),
	"mean_decimals": object.get(settings, "mean_decimals", 1),
	"forbidden_measures": forbidden_measures,
	"perturbation": perturbation,
	"statements": object.get(settings, "statements", {}),
	"problems": sort(problems),
}

# METADATA
# title: Measures never published
# description: Minimum and maximum always, and any others the data lists.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c); a minimum or maximum describes one child
#   on_failure: min and max are refused even when the data omits them
forbidden_measures := sort({"min", "max"} | {m | some m in object.get(settings, "forbidden_measures", [])})

# METADATA
# title: Perturbation
# description: The cell key method's table and the method per aggregate (cell_key unless listed).
# custom:
#   legal_basis: ONS/GSS guidance on differencing; ABS cell key method
#   on_failure: without a table the rules have a problem and nothing is published
perturbation := object.union(
	{"default_method": "cell_key", "methods": {}, "count_table": [], "mean_fraction": 1},
	object.get(settings, "perturbation", {}),
)

# METADATA
# title: Method for an aggregate
# description: cell_key (perturb, then round) or rounding (round only).
# custom:
#   legal_basis: ONS/GSS disclosure control guidance
#   on_failure: the default method applies
method(aggregate) := perturbation.methods[aggregate]

# METADATA
# title: Method for an aggregate
# description: cell_key (perturb, then round) or rounding (round only).
# custom:
#   legal_basis: ONS/GSS disclosure control guidance
#   on_failure: the default method applies
method(aggregate) := perturbation.default_method if not perturbation.methods[aggregate]

# METADATA
# title: Problems with the rules
# description: Settings that are missing or would let a small count through.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c)
#   on_failure: nothing is published until they are fixed
problems contains msg if {
	some key in ["suppress_at_or_below", "round_to"]
	not is_number(object.get(settings, key, null))
	msg := sprintf("disclosure.%s must be a number in policies/data/disclosure.yaml", [key])
}

# METADATA
# title: A problem with the disclosure settings
# description: One check of policies/data/disclosure.yaml; a worker publishes nothing while any fails.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c) data minimisation; ONS/GSS disclosure control guidance
#   on_failure: nothing is published until the setting is fixed
problems contains "disclosure.round_to must be 1 or more" if {
	settings.round_to < 1
}

# METADATA
# title: A problem with the disclosure settings
# description: One check of policies/data/disclosure.yaml; a worker publishes nothing while any fails.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c) data minimisation; ONS/GSS disclosure control guidance
#   on_failure: nothing is published until the setting is fixed
problems contains "disclosure.min_denominator must be above suppress_at_or_below" if {
	object.get(settings, "min_denominator", 20) <= settings.suppress_at_or_below
}

# METADATA
# title: A problem with the disclosure settings
# description: One check of policies/data/disclosure.yaml; a worker publishes nothing while any fails.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c) data minimisation; ONS/GSS disclosure control guidance
#   on_failure: nothing is published until the setting is fixed
problems contains "disclosure.perturbation.count_table is empty" if {
	count(perturbation.count_table) == 0
}

# METADATA
# title: A problem with the disclosure settings
# description: One check of policies/data/disclosure.yaml; a worker publishes nothing while any fails.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c) data minimisation; ONS/GSS disclosure control guidance
#   on_failure: nothing is published until the setting is fixed
problems contains "disclosure.perturbation.count_table probabilities must add up to 1" if {
	count(perturbation.count_table) > 0
	total := sum([row.probability | some row in perturbation.count_table])
	abs(total - 1) > 0.000001
}

# METADATA
# title: A problem with the disclosure settings
# description: One check of policies/data/disclosure.yaml; a worker publishes nothing while any fails.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c) data minimisation; ONS/GSS disclosure control guidance
#   on_failure: nothing is published until the setting is fixed
problems contains "disclosure.perturbation.count_table must have mean 0 (no bias)" if {
	count(perturbation.count_table) > 0
	mean := sum([x | some row in perturbation.count_table; x := row.value * row.probability])
	abs(mean) > 0.000001
}

# METADATA
# title: A problem with the disclosure settings
# description: One check of policies/data/disclosure.yaml; a worker publishes nothing while any fails.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c) data minimisation; ONS/GSS disclosure control guidance
#   on_failure: nothing is published until the setting is fixed
problems contains "disclosure.perturbation values must be smaller than suppress_at_or_below" if {
	some row in perturbation.count_table
	abs(row.value) >= settings.suppress_at_or_below
}

# METADATA
# title: A problem with the disclosure settings
# description: One check of policies/data/disclosure.yaml; a worker publishes nothing while any fails.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c) data minimisation; ONS/GSS disclosure control guidance
#   on_failure: nothing is published until the setting is fixed
problems contains msg if {
	some name, m in object.union({"default": perturbation.default_method}, perturbation.methods)
	not m in {"cell_key", "rounding"}
	msg := sprintf("disclosure.perturbation method for %s must be cell_key or rounding", [name])
}

# METADATA
# title: Measure kinds allowed
# description: True for a kind of measure a cell may publish (count, band, mean, rate).
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c)
#   on_failure: a measure of another kind is not published
measure_allowed(kind) if {
	lower(kind) in {"count", "band", "mean", "rate"}
	not lower(kind) in forbidden_measures
}
