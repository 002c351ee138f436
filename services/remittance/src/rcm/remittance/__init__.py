"""Remittance: collect 835s, post each exactly once to the right claim and line, and report
what does not match or balance."""
