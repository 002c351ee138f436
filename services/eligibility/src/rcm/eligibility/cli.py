"""``rcm eligibility``: run the service, check one member against a payer, or read a 271.

Member data given on the command line goes to the payer only; it is never logged.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import typer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from rcm.clearinghouse import CoreRealtimeClient
from rcm.eligibility.checker import CONTROL_BLOCKS, Checker, CheckOutcome, ControlNumbers, read_271_leniently
from rcm.eligibility.domain import InquiryRequest, Person, fingerprint_of, summarize
from rcm.eligibility.domain.service_types import DEFAULT_INQUIRY
from rcm.eligibility.settings import EligibilityOptions, EligibilitySettings, load_clearinghouse
from rcm.x12.errors import X12Error

__all__ = ["app"]

app = typer.Typer(
    name="eligibility",
    help="Eligibility: 270/271 checks and behavioural-health benefit summaries.",
    no_args_is_help=True,
)


@app.callback()
def eligibility() -> None:
    """Eligibility: 270/271 checks and behavioural-health benefit summaries."""


@app.command()
def run(
    clearinghouse: Path | None = typer.Option(
        None, "--clearinghouse", help="ClearinghouseSettings YAML (else RCM_ELIGIBILITY_CLEARINGHOUSE_FILE)."
    ),
) -> None:
    """Start the service: consume, check, publish, re-check on schedule (until SIGTERM)."""
    from rcm.eligibility.app import build_service
    from rcm.servicekit import configure_logging, configure_tracing

    settings = EligibilitySettings()
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name, settings.otlp_endpoint)
    options = EligibilityOptions()
    transport = load_clearinghouse(clearinghouse or options.clearinghouse_file)
    asyncio.run(build_service(settings, options=options, clearinghouse=transport).run())


async def _control_number_engine() -> AsyncEngine | None:
    """The eligibility database, when ``RCM_DATABASE_URL`` names one that holds the 270 control
    number sequence: a one-off check then takes its ISA13 from the service's blocks, never one a
    running service hands out. Without it the block is drawn at random (stated on stderr)."""
    if not os.environ.get("RCM_DATABASE_URL"):
        typer.echo("RCM_DATABASE_URL not set: the 270's control number is drawn at random", err=True)
        return None
    engine = create_async_engine(EligibilitySettings().database_url.get_secret_value(), pool_size=1)
    try:
        async with engine.connect() as conn:
            found = await conn.scalar(
                sa.text("SELECT to_regclass(:name) IS NOT NULL"), {"name": CONTROL_BLOCKS.name}
            )
    except (OSError, SQLAlchemyError):
        found = False
    if not found:
        await engine.dispose()
        typer.echo("the eligibility database is not reachable or not migrated: the 270's control number is "
                   "drawn at random", err=True)  # fmt: skip
        return None
    return engine


def _outcome_json(outcome: CheckOutcome) -> dict[str, Any]:
    body: dict[str, Any] = {"summary": outcome.summary.model_dump(mode="json", exclude_none=True)}
    if outcome.decision is not None:
        body["decision"] = {
            "action": outcome.decision.action.value,
            "corrections": list(outcome.decision.corrections),
            "message": outcome.decision.message,
        }
    if outcome.failure:
        body["failure"] = outcome.failure
    return body


@app.command()
def check(
    payer: str = typer.Option(..., "--payer", help="Electronic payer id (NM109 of 2100A), e.g. EVRGRN."),
    member_id: str = typer.Option(..., "--member-id"),
    first: str = typer.Option(..., "--first", help="Subscriber's first name."),
    last: str = typer.Option(..., "--last", help="Subscriber's last name."),
    birth_date: datetime = typer.Option(..., "--dob", formats=["%Y-%m-%d"]),
    provider_npi: str = typer.Option(..., "--provider-npi"),
    provider_name: str = typer.Option("PROVIDER", "--provider-name"),
    payer_name: str = typer.Option("PAYER", "--payer-name"),
    service_date: datetime | None = typer.Option(None, "--date", formats=["%Y-%m-%d"], help="Default today."),
    service_type: list[str] = typer.Option(list(DEFAULT_INQUIRY), "--service-type", help="Repeatable."),
    clearinghouse: Path | None = typer.Option(None, "--clearinghouse", help="ClearinghouseSettings YAML."),
) -> None:
    """One check against the configured CORE endpoint; prints the benefit summary as JSON."""
    options = EligibilityOptions()
    transport = load_clearinghouse(clearinghouse or options.clearinghouse_file)
    policy = options.policy(payer).model_copy(update={"service_types": tuple(service_type)})
    request = InquiryRequest(
        trace=f"cli-{uuid.uuid4().hex[:16]}",
        payer_name=payer_name,
        payer_electronic_id=payer,
        provider_name=provider_name,
        provider_npi=provider_npi,
        member_id=member_id,
        subscriber=Person(first=first, last=last, birth_date=birth_date.date()),
        service_date=service_date.date() if service_date else date.today(),
        service_types=policy.service_types,
    )

    async def ask() -> CheckOutcome:
        engine = await _control_number_engine()
        checker = Checker(
            transport,
            core=CoreRealtimeClient(transport),
            usage=options.usage,
            controls=ControlNumbers(engine),
        )
        try:
            return await checker.check(request, policy, cache_key=fingerprint_of(request))
        finally:
            await checker.aclose()
            if engine is not None:
                await engine.dispose()

    outcome = asyncio.run(ask())
    typer.echo(json.dumps(_outcome_json(outcome), indent=2))
    if outcome.failure:
        raise typer.Exit(2)


@app.command("summarize")
def summarize_file(
    path: Path = typer.Argument(..., metavar="FILE.271", help="A 271 interchange."),
    service_date: datetime | None = typer.Option(None, "--date", formats=["%Y-%m-%d"], help="Default today."),
) -> None:
    """Read a 271 and print each transaction's benefit summary as JSON."""
    try:
        responses, unread = read_271_leniently(path.read_text(encoding="utf-8", errors="replace"))
    except OSError as exc:
        typer.echo(f"{path}: {exc.strerror}", err=True)
        raise typer.Exit(1) from exc
    except X12Error as exc:
        typer.echo(f"{path}: not a readable 271: {exc}", err=True)
        raise typer.Exit(1) from exc
    if not responses:
        typer.echo(f"{path}: no 271 transaction set", err=True)
        raise typer.Exit(1)
    on = service_date.date() if service_date else datetime.now(UTC).date()
    if unread:
        typer.echo(f"{path}: {unread} part(s) left out unreadable (`rcm x12 validate` names them)", err=True)
    summaries = [summarize(r, service_date=on).model_dump(mode="json", exclude_none=True) for r in responses]
    typer.echo(json.dumps(summaries[0] if len(summaries) == 1 else summaries, indent=2))
