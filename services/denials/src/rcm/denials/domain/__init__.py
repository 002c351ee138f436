"""The pure core of the denials service: playbook, triage, fixes, deadlines, underpayments, statistics.

Values in, values out; no I/O. ``playbook.yaml`` (next to this package) holds the rows.
"""
