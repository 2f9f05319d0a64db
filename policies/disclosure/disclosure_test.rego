package chorus.disclosure_test

import data.chorus.disclosure

table := [
	{"value": -2, "probability": 0.2},
	{"value": -1, "probability": 0.2},
	{"value": 0, "probability": 0.2},
	{"value": 1, "probability": 0.2},
	{"value": 2, "probability": 0.2},
]

good := {
	"suppress_at_or_below": 7,
	"round_to": 5,
	"min_denominator": 20,
	"rate_round_to": 1,
	"mean_decimals": 1,
	"forbidden_measures": ["min", "max"],
	"perturbation": {
		"default_method": "cell_key",
		"methods": {"referrals_by_source": "rounding"},
		"count_table": table,
		"mean_fraction": 0.5,
	},
	"statements": {"min_cell": 20, "max_per_cell": 3},
}

test_rules_come_from_policy_data if {
	r := disclosure.rules with data.data.disclosure as good
	r.suppress_at_or_below == 7
	r.round_to == 5
	r.min_denominator == 20
	r.statements.max_per_cell == 3
	r.perturbation.count_table == table
	r.problems == []
}

test_changed_threshold_changes_rules if {
	settings := object.union(good, {"suppress_at_or_below": 10, "round_to": 10})
	r := disclosure.rules with data.data.disclosure as settings
	r.suppress_at_or_below == 10
	r.round_to == 10
}

test_the_shipped_rules_have_no_problems if {
	disclosure.rules.problems == []
	disclosure.rules.suppress_at_or_below >= 5
}

test_defaults_fill_optional_settings if {
	r := disclosure.rules with data.data.disclosure as {"suppress_at_or_below": 7, "round_to": 5, "perturbation": {"count_table": table}}
	r.min_denominator == 20
	r.rate_round_to == 1
	r.perturbation.default_method == "cell_key"
	r.problems == []
}

test_min_and_max_are_always_forbidden if {
	r := disclosure.rules with data.data.disclosure as object.remove(good, ["forbidden_measures"])
	r.forbidden_measures == ["max", "min"]
}

test_listed_measures_are_forbidden_too if {
	r := disclosure.rules with data.data.disclosure as object.union(good, {"forbidden_measures": ["median"]})
	r.forbidden_measures == ["max", "median", "min"]
}

test_missing_settings_are_a_problem if {
	r := disclosure.rules with data.data.disclosure as {"perturbation": {"count_table": table}}
	"disclosure.suppress_at_or_below must be a number in policies/data/disclosure.yaml" in r.problems
	"disclosure.round_to must be a number in policies/data/disclosure.yaml" in r.problems
}

test_no_disclosure_data_is_a_problem if {
	r := disclosure.rules with data.data.disclosure as "not a mapping"
	count(r.problems) > 0
}

test_round_to_below_one_is_a_problem if {
	r := disclosure.rules with data.data.disclosure as object.union(good, {"round_to": 0})
	"disclosure.round_to must be 1 or more" in r.problems
}

test_denominator_at_threshold_is_a_problem if {
	r := disclosure.rules with data.data.disclosure as object.union(good, {"min_denominator": 7})
	"disclosure.min_denominator must be above suppress_at_or_below" in r.problems
}

test_empty_table_is_a_problem if {
	p := object.union(good.perturbation, {"count_table": []})
	r := disclosure.rules with data.data.disclosure as object.union(good, {"perturbation": p})
	"disclosure.perturbation.count_table is empty" in r.problems
}

test_probabilities_must_add_up_to_one if {
	p := object.union(good.perturbation, {"count_table": [{"value": 0, "probability": 0.5}]})
	r := disclosure.rules with data.data.disclosure as object.union(good, {"perturbation": p})
	"disclosure.perturbation.count_table probabilities must add up to 1" in r.problems
}

test_a_biased_table_is_a_problem if {
	p := object.union(good.perturbation, {"count_table": [{"value": 1, "probability": 1}]})
	r := disclosure.rules with data.data.disclosure as object.union(good, {"perturbation": p})
	"disclosure.perturbation.count_table must have mean 0 (no bias)" in r.problems
}

test_large_perturbations_are_a_problem if {
	big := [{"value": -8, "probability": 0.5}, {"value": 8, "probability": 0.5}]
	p := object.union(good.perturbation, {"count_table": big})
	r := disclosure.rules with data.data.disclosure as object.union(good, {"perturbation": p})
	"disclosure.perturbation values must be smaller than suppress_at_or_below" in r.problems
}

test_unknown_method_is_a_problem if {
	p := object.union(good.perturbation, {"methods": {"x": "noise"}})
	r := disclosure.rules with data.data.disclosure as object.union(good, {"perturbation": p})
	"disclosure.perturbation method for x must be cell_key or rounding" in r.problems
}

test_method_per_aggregate if {
	disclosure.method("referrals_by_source") == "rounding" with data.data.disclosure as good
	disclosure.method("care_leavers") == "cell_key" with data.data.disclosure as good
}

test_counts_means_rates_and_bands_are_allowed if {
	every kind in ["count", "band", "mean", "RATE"] {
		disclosure.measure_allowed(kind) with data.data.disclosure as good
	}
}

test_min_and_max_are_not_allowed if {
	not disclosure.measure_allowed("max") with data.data.disclosure as good
	not disclosure.measure_allowed("min") with data.data.disclosure as good
	not disclosure.measure_allowed("median") with data.data.disclosure as good
}
