"""Denials: CARC/RARC triage, corrective actions, appeals and analytics."""
