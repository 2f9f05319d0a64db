"""Live aggregates. Each consumes only chorus.share.strategic_reporting.* topics."""
