"""Remittance: 835 ingestion and payment posting."""
