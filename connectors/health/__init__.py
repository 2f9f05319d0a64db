"""Health connector: FHIR R4 (UK Core) health visiting records and CP-IS notifications."""
