"""The gatekeeper: the single place where sharing happens."""
