"""Real Redis and PostgreSQL servers for the contract tests (placeholder)."""
