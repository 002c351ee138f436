"""``rcm claims``: code a session from a JSON file (to see which codes it bills and why), run the
service, and the operators' commands (show, held, correct, refusals, void, finalize)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from rcm.claims.domain.coding import CodedSession, NotBillable, code_session
from rcm.claims.domain.common import Credential
from rcm.claims.domain.fee_schedule import FeeSchedule
from rcm.claims.domain.payer_rules import PayerRules
from rcm.claims.domain.session import Session

__all__ = ["app"]

app = typer.Typer(
    name="claims", help="Claims: coding, scrubbing and the claim lifecycle.", no_args_is_help=True
)


@app.callback()
def claims() -> None:
    """Claims: coding, scrubbing and the claim lifecycle."""


_Model = TypeVar("_Model", bound=BaseModel)


def _load(path: Path, model: type[_Model]) -> _Model:
    try:
        return model.model_validate_json(path.read_bytes())
    except OSError as exc:
        typer.echo(f"{path}: {exc.strerror}", err=True)
        raise typer.Exit(1) from exc
    except ValidationError as exc:
        # Field locations and messages only: input values may be PHI.
        for error in exc.errors(include_input=False):
            where = ".".join(str(part) for part in error["loc"]) or "(file)"
            typer.echo(f"{path}: {where}: {error['msg']}", err=True)
        raise typer.Exit(1) from exc


def _as_json(result: CodedSession | NotBillable) -> str:
    return json.dumps(result.model_dump(mode="json"), indent=2)


@app.command()
def code(
    session_file: Path = typer.Argument(..., metavar="SESSION.json", help="A session (see the README)."),
    payer_rules: Path | None = typer.Option(
        None, "--payer-rules", help="PayerRules JSON; defaults otherwise."
    ),
    credential: Credential = typer.Option(
        Credential.LCSW, "--credential", help="Rendering clinician's credential."
    ),
    fee_schedule: Path | None = typer.Option(None, "--fee-schedule", help="FeeSchedule JSON for charges."),
) -> None:
    """Print the coded lines of a session as JSON, or why it is not billable."""
    session = _load(session_file, Session)
    rules = _load(payer_rules, PayerRules) if payer_rules else PayerRules()
    fees = _load(fee_schedule, FeeSchedule) if fee_schedule else None
    result = code_session(session, credential=credential, rules=rules, fee_schedule=fees)
    typer.echo(_as_json(result))


# ------------------------------------------------------------------ the service and operators


def _settings() -> Any:
    from rcm.claims.app import ClaimsSettings

    return ClaimsSettings()


def _clearinghouse(config: Path | None) -> Any:
    import yaml

    from rcm.clearinghouse import ClearinghouseSettings

    base = yaml.safe_load(config.read_text()) if config else None
    if base is None and not any(k.upper().startswith("RCM_CLEARINGHOUSE__") for k in os.environ):
        return None
    return ClearinghouseSettings.from_env(base)


@app.command()
def run(
    clearinghouse: Path | None = typer.Option(
        None, "--clearinghouse", help="Clearinghouse YAML (RCM_CLEARINGHOUSE__... variables overlay it)."
    ),
) -> None:
    """Start the claims service with settings from the environment (RCM_...)."""
    from rcm.claims.app import build_service
    from rcm.servicekit import configure_logging, configure_tracing

    settings = _settings()
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name, settings.otlp_endpoint)
    config = clearinghouse or settings.clearinghouse_config
    service = build_service(settings, _clearinghouse(config))
    asyncio.run(service.run())


async def _query(statement: Any) -> list[Any]:
    from rcm.servicekit import create_engine

    engine = create_engine(_settings().database_url.get_secret_value())
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(statement)).all())
    finally:
        await engine.dispose()


@app.command()
def show(claim_id: str = typer.Argument(..., metavar="CLAIM")) -> None:
    """Print a claim: state, payer, lines (with the rule behind each), hold reasons and audit trail."""
    import sqlalchemy as sa

    from rcm.claims.store import claim, claim_audit, claim_line

    rows = asyncio.run(_query(sa.select(claim).where(claim.c.claim_id == claim_id)))
    if not rows:
        typer.echo(f"no claim {claim_id}", err=True)
        raise typer.Exit(1)
    row = rows[0]
    lines = asyncio.run(
        _query(
            sa.select(claim_line).where(claim_line.c.claim_id == claim_id).order_by(claim_line.c.line_number)
        )
    )
    audit = asyncio.run(
        _query(sa.select(claim_audit).where(claim_audit.c.claim_id == claim_id).order_by(claim_audit.c.id))
    )
    out = {
        "claim_id": row.claim_id,
        "state": row.state,
        "payer_id": row.payer_id,
        "payer_order": row.payer_order,
        "frequency_code": row.frequency_code,
        "replaces_claim_id": row.replaces_claim_id,
        "payer_claim_number": row.payer_claim_number,
        "total_charge": str(row.total_charge),
        "hold_reasons": row.hold_reasons,
        "scrub_warnings": row.scrub_warnings,
        "lines": [
            {
                "line_key": ln.line_key,
                "code": ln.procedure_code,
                "modifiers": ln.modifiers,
                "units": ln.units,
                "place_of_service": ln.place_of_service,
                "charge": str(ln.charge),
                "rule": ln.rule,
            }
            for ln in lines
        ],
        "audit": [
            {
                "from": a.from_state,
                "to": a.to_state,
                "reason": a.reason,
                "actor": a.actor,
                "at": a.at.isoformat(),
            }
            for a in audit
        ],
    }
    typer.echo(json.dumps(out, indent=2))


@app.command()
def held() -> None:
    """List held claims with their reasons (ids and codes only)."""
    import sqlalchemy as sa

    from rcm.claims.store import claim

    rows = asyncio.run(
        _query(
            sa.select(claim.c.claim_id, claim.c.payer_id, claim.c.hold_reasons)
            .where(claim.c.state == "held")
            .order_by(claim.c.claim_id)
        )
    )
    for row in rows:
        reasons = ", ".join(r.get("code", "other") for r in row.hold_reasons)
        typer.echo(f"{row.claim_id}\t{row.payer_id}\t{reasons}")


@app.command()
def acks() -> None:
    """List acknowledgment files (TA1, 999, 277CA) the engine could not read: recorded, applied to
    no claim; ask the clearinghouse to send them again. Then the parts of files set aside (a 999
    set response, a 277CA claim, a TA1 with a value that cannot be read): the rest of those files
    was applied; the claims of a part wait for its acknowledgment (ask for it again)."""
    import sqlalchemy as sa

    from rcm.claims.acknowledgements import UNREADABLE
    from rcm.claims.store import received_file, unread_acknowledgment

    f = received_file.c
    rows = asyncio.run(
        _query(
            sa.select(f.name, f.kind, f.size, f.recorded_at)
            .where(f.kind.endswith(UNREADABLE))
            .order_by(f.recorded_at, f.name)
        )
    )
    for row in rows:
        kind = row.kind.removesuffix(UNREADABLE)
        typer.echo(f"{row.name}\t{kind}\t{row.size} bytes\trecorded {row.recorded_at:%Y-%m-%d %H:%M}")
    typer.echo(f"{len(rows)} unreadable acknowledgment file(s)")
    u = unread_acknowledgment.c
    parts = asyncio.run(
        _query(
            sa.select(u.name, u.kind, u.part, u.reference, u.position, u.recorded_at).order_by(
                u.recorded_at, u.name, u.position
            )
        )
    )
    for part in parts:
        typer.echo(
            f"{part.name}\t{part.kind}\t{part.part} {part.reference or '(unnamed)'}\tsegment {part.position}"
            f"\trecorded {part.recorded_at:%Y-%m-%d %H:%M}"
        )
    typer.echo(f"{len(parts)} unreadable part(s) of acknowledgment files (the rest of each applied)")


async def _finalize(*, dry_run: bool) -> list[Any]:
    from datetime import UTC, datetime

    from rcm.claims.finalization import finalize_claims
    from rcm.servicekit import Transaction, create_engine

    settings = _settings()
    engine = create_engine(settings.database_url.get_secret_value())
    try:
        async with engine.connect() as conn, conn.begin() as transaction:
            tx = Transaction(conn, "cli", source=settings.service_name, prefix=settings.topic_prefix)
            verdicts = await finalize_claims(
                tx, now=datetime.now(UTC), quiet=settings.finalize_after, dry_run=dry_run, actor="operator"
            )
            if dry_run:
                await transaction.rollback()
            else:
                # the running service's outbox relay publishes the claim-status-changed events
                await tx.flush()
        return verdicts
    finally:
        await engine.dispose()


@app.command()
def finalize(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Say which claims would be finalized; change nothing."
    ),
) -> None:
    """Finalize claims whose payer side is settled and quiet for RCM_FINALIZE_AFTER_DAYS (ids and states only)."""
    verdicts = asyncio.run(_finalize(dry_run=dry_run))
    for v in verdicts:
        if v.to is not None:
            typer.echo(f"{v.claim_id}\t{v.state.value} -> {v.to.value}")
        else:
            typer.echo(f"{v.claim_id}\t{v.state.value}\twaits: {', '.join(b.value for b in v.blockers)}")
    done = sum(1 for v in verdicts if v.to is not None)
    typer.echo(f"{done} claims {'would be finalized' if dry_run else 'finalized'}")


async def _publish(event: Any) -> None:
    from aiokafka import AIOKafkaProducer

    from rcm.events import encode

    settings = _settings()
    record = encode(event, source="/rcm/claims-cli", prefix=settings.topic_prefix)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        enable_idempotence=True,
        **settings.kafka_security.client_kwargs(),
    )
    await producer.start()
    try:
        await producer.send_and_wait(
            record.topic, value=record.value, key=record.key, headers=list(record.headers)
        )
    finally:
        await producer.stop()


def _patient_of(claim_id: str) -> tuple[str, str | None]:
    import sqlalchemy as sa

    from rcm.claims.store import claim

    rows = asyncio.run(
        _query(sa.select(claim.c.patient_id, claim.c.payer_claim_number).where(claim.c.claim_id == claim_id))
    )
    if not rows:
        typer.echo(f"no claim {claim_id}", err=True)
        raise typer.Exit(1)
    return rows[0][0], rows[0][1]


@app.command()
def correct(
    claim_id: str = typer.Argument(..., metavar="CLAIM"),
    modifier: list[str] = typer.Option(
        [], "--modifier", help="Add this modifier to every line (repeatable)."
    ),
    remove_modifier: list[str] = typer.Option([], "--remove-modifier"),
    place_of_service: str | None = typer.Option(None, "--pos"),
    rendering_provider: str | None = typer.Option(
        None, "--rendering-provider", help="Provider id: the session coded again as rendered by them."
    ),
    recode: bool = typer.Option(
        False, "--recode", help="Code the session again from current reference data."
    ),
    payer_claim_number: str | None = typer.Option(
        None, "--payer-claim-number", help="REF*F8; default: on file."
    ),
    new_original: bool = typer.Option(
        False, "--new-original", help="After a front-end rejection: a fresh claim."
    ),
) -> None:
    """Ask for a corrected claim (frequency 7, or a new original) through claim-correction-requested."""
    import uuid
    from datetime import UTC, datetime

    from rcm.events.models import ClaimChange, ClaimCorrectionRequested, CorrectionMethod

    patient_id, on_file = _patient_of(claim_id)
    changes = [ClaimChange(action="add_modifier", value=m) for m in modifier]
    changes += [ClaimChange(action="remove_modifier", value=m) for m in remove_modifier]
    if place_of_service:
        changes.append(ClaimChange(action="set_place_of_service", value=place_of_service))
    if rendering_provider:
        changes.append(ClaimChange(action="set_rendering_provider", value=rendering_provider))
    if recode:
        changes.append(ClaimChange(action="recode"))
    if not changes:
        typer.echo("nothing to change", err=True)
        raise typer.Exit(2)
    method = CorrectionMethod.NEW_ORIGINAL if new_original else CorrectionMethod.REPLACEMENT
    number = payer_claim_number or on_file
    if method is CorrectionMethod.REPLACEMENT and number is None:
        typer.echo("no payer claim number on file: pass --payer-claim-number or --new-original", err=True)
        raise typer.Exit(2)
    event = ClaimCorrectionRequested(
        request_id=f"cli-{uuid.uuid4().hex[:12]}",
        claim_id=claim_id,
        patient_id=patient_id,
        method=method,
        changes=changes,
        payer_claim_number=number,
        requested_at=datetime.now(UTC),
    )
    asyncio.run(_publish(event))
    typer.echo(f"correction requested for {claim_id} ({event.request_id}; see `rcm claims refusals`)")


@app.command()
def refusals(claim_id: str | None = typer.Argument(None, metavar="[CLAIM]")) -> None:
    """List the corrections refused (nothing was sent for them), newest first: request, claim,
    reason, change and detail (ids and codes only)."""
    import sqlalchemy as sa

    from rcm.claims.store import correction_refusal

    r = correction_refusal.c
    query = sa.select(correction_refusal).order_by(r.refused_at.desc())
    if claim_id is not None:
        query = query.where(r.claim_id == claim_id)
    for row in asyncio.run(_query(query)):
        typer.echo(
            f"{row.refused_at.isoformat()}\t{row.request_id}\t{row.claim_id}\t{row.reason}"
            f"\t{row.action or '-'}\t{row.detail}"
        )


@app.command()
def void(
    claim_id: str = typer.Argument(..., metavar="CLAIM"),
    reason: str = typer.Option("voided by an operator", "--reason"),
    payer_claim_number: str | None = typer.Option(None, "--payer-claim-number"),
) -> None:
    """Ask for a void (frequency 8) through claim-void-requested."""
    import uuid
    from datetime import UTC, datetime

    from rcm.events.models import ClaimVoidRequested

    patient_id, on_file = _patient_of(claim_id)
    number = payer_claim_number or on_file
    if number is None:
        typer.echo("no payer claim number on file: pass --payer-claim-number", err=True)
        raise typer.Exit(2)
    event = ClaimVoidRequested(
        request_id=f"cli-{uuid.uuid4().hex[:12]}",
        claim_id=claim_id,
        patient_id=patient_id,
        payer_claim_number=number,
        reason=reason,
        requested_at=datetime.now(UTC),
    )
    asyncio.run(_publish(event))
    typer.echo(f"void requested for {claim_id}")
