"""Who may do what on Kafka: principals and ACLs derived from the policy data."""
