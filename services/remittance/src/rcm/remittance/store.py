"""The remittance database (rcm_remittance): claims projection, files, payments, postings, queues.

```
claim, claim_line, payer_claim_number    projection of claim-created / -acknowledged
remit_file                               every file received (unique content hash)
sftp_download                            every name downloaded from the mailbox (the transport's ledger)
sftp_failure                             mailbox files that failed to post: consecutive polls, held after N
payment                                  one per 835 transaction set (payer + TRN02 + BPR02 + BPR16)
claim_payment                            one per CLP (unique per payment and dedupe key)
posted_line, posted_adjustment           what a claim payment applied, per line and CAS
provider_adjustment                      PLB amounts, on a claim or the account ledger
unmatched                                claim payments and lines no claim took (review queue)
remit_exception                          unbalanced, unreadable, duplicate, orphan reversals
deposit                                  bank deposits for EFT reassociation
claim_write_off                          denied amounts written off (claim-write-off-requested, once each)
patient_balance                          what each patient owes
patient_payment                          patient payments applied (patient-payment-received, once each)
payer                                    projection of payer-updated: our payer id per 835 payer identifier
```
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

__all__ = [
    "claim",
    "claim_line",
    "claim_payment",
    "claim_write_off",
    "deposit",
    "metadata",
    "patient_balance",
    "patient_payment",
    "payer",
    "payer_claim_number",
    "payment",
    "posted_adjustment",
    "posted_line",
    "provider_adjustment",
    "remit_exception",
    "remit_file",
    "sftp_download",
    "sftp_failure",
    "unmatched",
]

metadata = sa.MetaData()

MONEY = sa.Numeric(14, 2)
ZERO = sa.text("0")


def _now() -> sa.Column[Any]:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


claim = sa.Table(
    "claim",
    metadata,
    sa.Column("claim_id", sa.Text, primary_key=True),
    sa.Column("claim_key", sa.Text, nullable=False, index=True, comment="upper(claim_id), for matching"),
    sa.Column("patient_id", sa.Text, nullable=False),
    sa.Column("payer_id", sa.Text, nullable=False),
    sa.Column("payer_responsibility", sa.Text, nullable=False),
    sa.Column("total_charge", MONEY, nullable=False, index=True),
    sa.Column("submitted_at", sa.DateTime(timezone=True)),
    sa.Column("paid", MONEY, nullable=False, server_default=ZERO),
    sa.Column("contractual", MONEY, nullable=False, server_default=ZERO),
    sa.Column("denied", MONEY, nullable=False, server_default=ZERO),
    sa.Column("patient_responsibility", MONEY, nullable=False, server_default=ZERO),
    sa.Column("forwarded", MONEY, nullable=False, server_default=ZERO),
    sa.Column("other", MONEY, nullable=False, server_default=ZERO),
    sa.Column("interest", MONEY, nullable=False, server_default=ZERO),
    sa.Column("patient_paid", MONEY, nullable=False, server_default=ZERO, comment="patient payments"),
    sa.Column(
        "written_off",
        MONEY,
        nullable=False,
        server_default=ZERO,
        comment="denied amounts the denials service wrote off, as applied (claim_write_off)",
    ),
    _now(),
)
CLAIM_KEY_PREFIX = sa.Index("claim_key_prefix", claim.c.claim_key.collate("C"))
"""Claim keys in byte order: the keys starting with a cut control number are one range of it."""

claim_line = sa.Table(
    "claim_line",
    metadata,
    sa.Column("claim_id", sa.Text, sa.ForeignKey("claim.claim_id"), primary_key=True),
    sa.Column("line_key", sa.Text, primary_key=True),
    sa.Column("procedure_code", sa.Text, nullable=False),
    sa.Column("modifiers", ARRAY(sa.Text), nullable=False),
    sa.Column("service_date", sa.Date, nullable=False),
    sa.Column("units", sa.Integer, nullable=False),
    sa.Column("charge", MONEY, nullable=False),
)

payer_claim_number = sa.Table(
    "payer_claim_number",
    metadata,
    sa.Column("number_key", sa.Text, primary_key=True, comment="upper(payer claim number)"),
    sa.Column("claim_id", sa.Text, sa.ForeignKey("claim.claim_id"), primary_key=True),
    _now(),
)
PAYER_CLAIM_NUMBER_BY_CLAIM = sa.Index("payer_claim_number_by_claim", payer_claim_number.c.claim_id)

remit_file = sa.Table(
    "remit_file",
    metadata,
    sa.Column("file_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False, unique=True),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("source", sa.Text, nullable=False, comment="upload or sftp"),
    sa.Column("status", sa.Text, nullable=False, comment="received, posted, flagged, malformed"),
    sa.Column("content", sa.LargeBinary),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("remit_file_name_size", "name", "size"),
)

sftp_download = sa.Table(
    "sftp_download",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("size", sa.Integer, primary_key=True),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False, comment="835, duplicate, malformed, ..."),
    _now(),
)

sftp_download_version = sa.Table(
    "sftp_download_version",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("size", sa.Integer, primary_key=True),
    sa.Column("mtime", sa.BigInteger, primary_key=True, comment="-1 when the server gives none"),
)
"""Each version of a mailbox file read: one overwritten under its name and size has another
modification time and is read again (its content hash then decides)."""

sftp_failure = sa.Table(
    "sftp_failure",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("size", sa.Integer, primary_key=True),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False, comment="consecutive polls it failed on"),
    sa.Column("reason", sa.Text, nullable=False, comment="unavailable, invalid_content, handler_error"),
    sa.Column("error", sa.Text, nullable=False, comment="the error's type, never its message"),
    sa.Column("held_at", sa.DateTime(timezone=True), comment="not offered again until re-driven"),
    sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

payment = sa.Table(
    "payment",
    metadata,
    sa.Column("payment_id", sa.Text, primary_key=True),
    sa.Column("file_id", sa.Text, sa.ForeignKey("remit_file.file_id"), nullable=False),
    sa.Column("payer_ref", sa.Text, nullable=False),
    sa.Column("payer_name", sa.Text),
    sa.Column("trace_number", sa.Text, nullable=False),
    sa.Column("trace_key", sa.Text, nullable=False, index=True),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("method", sa.Text, nullable=False),
    sa.Column("payment_date", sa.Date),
    sa.Column("control_number", sa.Text, nullable=False),
    sa.Column("payer_id", sa.Text, comment="our payer, when an identifier of the 835 names one"),
    sa.Column("status", sa.Text, nullable=False, comment="posted, unbalanced, incomplete"),
    _now(),
)
PAYMENT_BY_TRACE = sa.Index("payment_by_trace", payment.c.payer_ref, payment.c.trace_number)
"""A payer's payments by TRN02: one payment, unless the payer reused the number for another (its
BPR02 or date differs); ``payment_id`` is unique per payer, TRN02, BPR02 and date (``ingest``)."""

claim_payment = sa.Table(
    "claim_payment",
    metadata,
    sa.Column("remit_id", sa.Text, primary_key=True),
    sa.Column("payment_id", sa.Text, sa.ForeignKey("payment.payment_id"), nullable=False),
    sa.Column("file_id", sa.Text, sa.ForeignKey("remit_file.file_id"), nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("dedupe_key", sa.Text, nullable=False),
    sa.Column("cross_key", sa.Text, nullable=False, index=True, comment="payer + dedupe key, any payment"),
    sa.Column("patient_control_number", sa.Text, nullable=False),
    sa.Column("payer_claim_number", sa.Text),
    sa.Column("status", sa.Text, nullable=False, comment="CLP02"),
    sa.Column("charge", MONEY, nullable=False),
    sa.Column("paid", MONEY, nullable=False),
    sa.Column("patient_responsibility", MONEY, nullable=False),
    sa.Column("claim_id", sa.Text, index=True),
    sa.Column(
        "state",
        sa.Text,
        nullable=False,
        comment="posted, recorded, unmatched, unbalanced, duplicate, held, orphan_reversal",
    ),
    sa.Column("matched_by", sa.Text),
    sa.Column("reverses", sa.Text),
    sa.Column("reversed_by", sa.Text),
    _now(),
    sa.UniqueConstraint("payment_id", "dedupe_key", name="claim_payment_once"),
)

posted_line = sa.Table(
    "posted_line",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("remit_id", sa.Text, sa.ForeignKey("claim_payment.remit_id"), nullable=False, index=True),
    sa.Column("claim_id", sa.Text, nullable=False, index=True),
    sa.Column("line_key", sa.Text),
    sa.Column("procedure_code", sa.Text),
    sa.Column("charge", MONEY, nullable=False),
    sa.Column("paid", MONEY, nullable=False),
    sa.Column("allowed", MONEY),
    sa.Column("contractual", MONEY, nullable=False),
    sa.Column("denied", MONEY, nullable=False),
    sa.Column("patient_responsibility", MONEY, nullable=False),
    sa.Column("forwarded", MONEY, nullable=False),
    sa.Column("other", MONEY, nullable=False),
    sa.Column("rarcs", ARRAY(sa.Text), nullable=False),
    _now(),
)

posted_adjustment = sa.Table(
    "posted_adjustment",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("posted_line_id", sa.BigInteger, sa.ForeignKey("posted_line.id"), nullable=False, index=True),
    sa.Column("group_code", sa.Text, nullable=False),
    sa.Column("carc", sa.Text, nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("quantity", sa.Numeric(15, 3)),
)

provider_adjustment = sa.Table(
    "provider_adjustment",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("payment_id", sa.Text, sa.ForeignKey("payment.payment_id"), nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("provider_id", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("reference", sa.Text),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column(
        "kind",
        sa.Text,
        nullable=False,
        comment="recoupment, deferral, recovery, forwarding, refund, interest, other",
    ),
    sa.Column("claim_id", sa.Text, index=True, comment="null: the account ledger"),
    sa.Column("named_claim_id", sa.Text, comment="the claim its reference names, on the account or not"),
    _now(),
    sa.UniqueConstraint("payment_id", "sequence", name="provider_adjustment_once"),
)
PROVIDER_ADJUSTMENT_BY_NAMED_CLAIM = sa.Index(
    "provider_adjustment_by_named_claim", provider_adjustment.c.named_claim_id
)

unmatched = sa.Table(
    "unmatched",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("kind", sa.Text, nullable=False, comment="claim or line"),
    sa.Column("remit_id", sa.Text, nullable=False, index=True),
    sa.Column("payment_id", sa.Text, nullable=False),
    sa.Column("payer_ref", sa.Text, nullable=False),
    sa.Column("patient_control_number", sa.Text, nullable=False),
    sa.Column("payer_claim_number", sa.Text),
    sa.Column("claim_id", sa.Text, comment="for a line: the claim the payment matched"),
    sa.Column("line_number", sa.Integer),
    sa.Column("procedure_code", sa.Text),
    sa.Column("charge", MONEY, nullable=False),
    sa.Column("paid", MONEY, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("candidates", ARRAY(sa.Text), nullable=False),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    _now(),
)

remit_exception = sa.Table(
    "remit_exception",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("file_id", sa.Text, sa.ForeignKey("remit_file.file_id")),
    sa.Column("payment_id", sa.Text),
    sa.Column("remit_id", sa.Text),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("detail", JSONB),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    _now(),
)

deposit = sa.Table(
    "deposit",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("trace_number", sa.Text, nullable=False),
    sa.Column("trace_key", sa.Text, nullable=False, index=True),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("deposit_date", sa.Date, nullable=False),
    sa.Column("originator_id", sa.Text, comment="ACH company id (the payer's TRN03), when known"),
    sa.Column(
        "originator_key",
        sa.Text,
        nullable=False,
        server_default="",
        comment="originator_id compared (reassociation.payer_key); '' when the bank gave none",
    ),
    _now(),
    sa.UniqueConstraint("trace_key", "amount", "deposit_date", "originator_key", name="deposit_once"),
)
"""A deposit is its trace number, amount, date and payer (the ACH originator): two payers' EFTs
alike in trace, amount and date are two deposits, never one (``reassociation``)."""

claim_write_off = sa.Table(
    "claim_write_off",
    metadata,
    sa.Column("request_id", sa.Text, primary_key=True, comment="claim-write-off-requested, once each"),
    sa.Column("claim_id", sa.Text, nullable=False, index=True),
    sa.Column("denial_id", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("requested", MONEY, nullable=False, comment="the amount the request names"),
    sa.Column("applied", MONEY, comment="what it closed of the claim's open denied amount; null: waiting"),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True)),
    _now(),
)
"""Each write-off of a denial the denials service requested: waiting (``applied`` null) until the
claim has an adjudication on file, then what it closed; ``requested - applied`` is what the request
named beyond the claim's open denied amount (its PR, OA or contractual amounts, booked elsewhere)."""

patient_balance = sa.Table(
    "patient_balance",
    metadata,
    sa.Column("patient_id", sa.Text, primary_key=True),
    sa.Column("balance", MONEY, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

patient_payment = sa.Table(
    "patient_payment",
    metadata,
    sa.Column("payment_id", sa.Text, primary_key=True),
    sa.Column("patient_id", sa.Text, nullable=False, index=True),
    sa.Column("claim_id", sa.Text, index=True),
    sa.Column("session_id", sa.Text),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("method", sa.Text, nullable=False),
    sa.Column("reference", sa.Text),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    _now(),
)

payer = sa.Table(
    "payer",
    metadata,
    sa.Column("payer_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("identifiers", ARRAY(sa.Text), nullable=False, comment="normalised 835 payer identifiers"),
    sa.Column("deleted", sa.Boolean, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("payer_identifiers", "identifiers", postgresql_using="gin"),
)
