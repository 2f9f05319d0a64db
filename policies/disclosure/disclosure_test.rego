package chorus.disclosure_test

import data.chorus.disclosure

test_rules_come_from_policy_data if {
	disclosure.rules == {"suppress_at_or_below": 7, "round_to": 5} with data.data.disclosure as {"suppress_at_or_below": 7, "round_to": 5}
}

test_changed_threshold_changes_rules if {
	disclosure.rules.suppress_at_or_below == 10 with data.data.disclosure as {"suppress_at_or_below": 10, "round_to": 10}
}
