"""The denials service's tables (database ``rcm_denials``): projections, denials, the work queue.

Projections (kept from the events the service consumes): ``payer``, ``coverage``, ``claim``,
``authorization``, ``contract_rate``, ``acknowledgment``, ``patient_state``.
Its own records: ``denial`` (one per denied claim or line), ``fix_attempt`` (unique per claim
and fix kind: the same fix is never requested twice), ``work_item`` (the queue, with appeals
tracked to a decision), ``adjudication`` (denominators for the statistics) and
``next_payer_wait`` (a remit's patient share with no next payer on file yet, billed to a
secondary or tertiary coverage that arrives later).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

__all__ = [
    "acknowledgment",
    "adjudication",
    "authorization",
    "claim",
    "contract_rate",
    "coverage",
    "denial",
    "fix_attempt",
    "metadata",
    "next_payer_wait",
    "patient_state",
    "payer",
    "work_item",
]

metadata = sa.MetaData()

_now = sa.func.now()

payer = sa.Table(
    "payer",
    metadata,
    sa.Column("payer_id", sa.Text, primary_key=True),
    sa.Column("payer_type", sa.Text, nullable=False),
    sa.Column("rules", JSONB, nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

coverage = sa.Table(
    "coverage",
    metadata,
    sa.Column("coverage_id", sa.Text, primary_key=True),
    sa.Column("patient_id", sa.Text, nullable=False, index=True),
    sa.Column("payer_id", sa.Text, nullable=False),
    sa.Column("priority", sa.Text, nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date),
    sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

claim = sa.Table(
    "claim",
    metadata,
    sa.Column("claim_id", sa.Text, primary_key=True),
    sa.Column("root_claim_id", sa.Text, nullable=False, index=True),
    sa.Column("patient_id", sa.Text, nullable=False),
    sa.Column("payer_id", sa.Text, nullable=False),
    sa.Column("coverage_id", sa.Text, nullable=False),
    sa.Column("rendering_provider_id", sa.Text, nullable=False),
    sa.Column("payer_responsibility", sa.Text, nullable=False),
    sa.Column("authorization_number", sa.Text),
    sa.Column("lines", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

authorization = sa.Table(
    "authorization",
    metadata,
    sa.Column("authorization_id", sa.Text, primary_key=True),
    sa.Column("patient_id", sa.Text, nullable=False, index=True),
    sa.Column("payer_id", sa.Text, nullable=False),
    sa.Column("auth_number", sa.Text, nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date),
    sa.Column("procedure_codes", ARRAY(sa.Text), nullable=False),
    sa.Column("provider_id", sa.Text),
)

contract_rate = sa.Table(
    "contract_rate",
    metadata,
    sa.Column("fee_schedule_id", sa.Text, primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("payer_id", sa.Text, nullable=False),
    sa.Column("procedure_code", sa.Text, nullable=False),
    sa.Column("modifiers", ARRAY(sa.Text), nullable=False),
    sa.Column("place_of_service", sa.Text),
    sa.Column("amount", sa.Numeric(12, 2), nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date),
    sa.Index("contract_rate_lookup", "payer_id", "procedure_code"),
)

acknowledgment = sa.Table(
    "acknowledgment",
    metadata,
    sa.Column("claim_id", sa.Text, primary_key=True),
    sa.Column("file_name", sa.Text, primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("received_on", sa.Date, nullable=False),
)

patient_state = sa.Table(
    "patient_state",
    metadata,
    sa.Column("patient_id", sa.Text, primary_key=True),
    sa.Column("state", sa.Text),
)

denial = sa.Table(
    "denial",
    metadata,
    sa.Column("denial_id", sa.Text, primary_key=True),
    sa.Column("claim_id", sa.Text, nullable=False, index=True),
    sa.Column("root_claim_id", sa.Text, nullable=False, index=True),
    sa.Column("patient_id", sa.Text, nullable=False),
    sa.Column("payer_id", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("source_id", sa.Text, nullable=False),
    sa.Column("level", sa.Text, nullable=False),
    sa.Column("line_key", sa.Text),
    sa.Column("procedure_code", sa.Text),
    sa.Column("modifiers", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("rendering_provider_id", sa.Text),
    sa.Column("state", sa.Text),
    sa.Column("grp", sa.Text),
    sa.Column("carc", sa.Text),
    sa.Column("reasons", JSONB, nullable=False),
    sa.Column("rarcs", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("rejection_codes", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("payer_claim_number", sa.Text),
    sa.Column("amount", sa.Numeric(12, 2), nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("why", sa.Text, nullable=False),
    sa.Column("appeal_deadline", sa.Date),
    sa.Column("status", sa.Text, nullable=False),  # open | resolved
    sa.Column("outcome", sa.Text),
    sa.Column("recovered", sa.Numeric(12, 2), nullable=False, server_default="0"),
    sa.Column("written_off", sa.Numeric(12, 2), nullable=False, server_default="0"),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Index("denial_open", "root_claim_id", postgresql_where=sa.text("status = 'open'")),
    sa.Index("denial_open_by_patient", "patient_id", "payer_id", postgresql_where=sa.text("status = 'open'")),
)

fix_attempt = sa.Table(
    "fix_attempt",
    metadata,
    sa.Column("root_claim_id", sa.Text, primary_key=True),
    sa.Column("fix_kind", sa.Text, primary_key=True),
    sa.Column("denial_id", sa.Text, nullable=False),
    sa.Column("request_id", sa.Text, nullable=False, index=True, comment="an answer names it"),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

work_item = sa.Table(
    "work_item",
    metadata,
    sa.Column("item_id", sa.Text, primary_key=True),
    sa.Column(
        "kind", sa.Text, nullable=False
    ),  # denial | underpayment | information_request | qmb_cost_sharing
    sa.Column("denial_id", sa.Text, index=True),
    sa.Column("claim_id", sa.Text, nullable=False),
    sa.Column("patient_id", sa.Text, nullable=False),
    sa.Column("payer_id", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("next_step", sa.Text, nullable=False),
    sa.Column("evidence", JSONB, nullable=False),
    sa.Column("amount", sa.Numeric(12, 2), nullable=False),
    sa.Column("deadline", sa.Date),
    sa.Column("status", sa.Text, nullable=False),  # open | appealed | closed
    sa.Column("appeal_level", sa.Integer),
    sa.Column("decision", sa.Text),  # overturned | upheld | resolved | ...
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    sa.Index(
        "work_item_open_requests",
        "claim_id",
        postgresql_where=sa.text("kind = 'information_request' AND status = 'open'"),
    ),
)

adjudication = sa.Table(
    "adjudication",
    metadata,
    sa.Column("remit_id", sa.Text, primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("claim_id", sa.Text, nullable=False),
    sa.Column("payer_id", sa.Text, nullable=False),
    sa.Column("procedure_code", sa.Text),
    sa.Column("modifiers", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("rendering_provider_id", sa.Text),
    sa.Column("state", sa.Text),
    sa.Column("adjudicated_on", sa.Date, nullable=False, index=True),
    sa.Column(
        "charge", sa.Numeric(14, 2), comment="the line's charge (SVC02), or the claim's (CLP03) without lines"
    ),
)

next_payer_wait = sa.Table(
    "next_payer_wait",
    metadata,
    sa.Column("remit_id", sa.Text, primary_key=True),
    sa.Column("claim_id", sa.Text, nullable=False, index=True),
    sa.Column("patient_id", sa.Text, nullable=False, index=True),
    sa.Column(
        "remit", JSONB, nullable=False, comment="the remit-received body, billed from when the coverage comes"
    ),
    sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=False, server_default=_now, index=True),
    sa.Column(
        "reversed_by", sa.Text, comment="the reversal (CLP02 22) that took the remit back: it waits no more"
    ),
    comment="a remit's patient share with no next payer on file: a secondary (or tertiary) coverage "
    "added later is billed it",
)
