"""Settings and process management for the whole stack."""
