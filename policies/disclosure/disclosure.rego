# METADATA
# title: Disclosure control
# description: >-
#   The statistical disclosure rules every published aggregate cell passes,
#   from policies/data/disclosure.yaml.
package chorus.disclosure

# METADATA
# title: Rules for published cells
# description: >-
#   Thresholds the aggregate workers apply before publishing: the largest count
#   suppressed and the rounding base. A cell failing them is published as
#   suppressed, never as zero.
# custom:
#   legal_basis: UK GDPR Art. 5(1)(c) data minimisation; ONS/GSS disclosure control guidance
#   on_failure: a worker that cannot read these rules publishes nothing
rules := {
	"suppress_at_or_below": data.data.disclosure.suppress_at_or_below,
	"round_to": data.data.disclosure.round_to,
}
