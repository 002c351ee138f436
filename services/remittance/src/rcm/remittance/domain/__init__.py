"""Remittance rules as pure functions: values in, values out, no I/O.

- ``remit``: what an 835 says (payment, claim payments, service lines, PLB), as plain values.
- ``matching``: which of our claims and lines a claim payment and its service lines belong to.
- ``validity``: the code lists a claim payment must keep to before it can be posted (CLP02, CAS01).
- ``balancing``: the 835 balancing equations (line, claim, payment).
- ``posting``: how a claim payment moves money (paid, write-offs, patient share, denials).
- ``reversal``: finding the posting a CLP02 22 reverses, and undoing it exactly.
- ``provider_adjustments``: applying PLB amounts to a claim or to the account ledger.
- ``payers``: which of our payers an 835 comes from, by the identifiers it names.
- ``reassociation``: linking 835 payments to bank deposits by trace number.
"""
