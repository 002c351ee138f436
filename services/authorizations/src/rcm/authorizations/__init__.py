"""Authorizations: prior-auth ledger, burn-down and alerts."""
