"""Typed models of the X12 transactions, one module per transaction set."""
