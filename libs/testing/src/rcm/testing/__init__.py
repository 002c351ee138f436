"""Pytest fixtures that find real Kafka and PostgreSQL: environment, local scripts, or testcontainers."""
