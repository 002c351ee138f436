"""Eligibility: 270/271 checks and behavioral-health benefit summaries."""
