"""``rcm auth``: the ledger of a patient, the service process, a 278 extension request."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import typer

from rcm.authorizations.settings import AuthorizationSettings

__all__ = ["app"]

app = typer.Typer(
    name="auth", help="Authorizations: the prior-auth ledger, burn-down and alerts.", no_args_is_help=True
)


@app.callback()
def auth() -> None:
    """Authorizations: the prior-auth ledger, burn-down and alerts."""


async def _read(
    patient_id: str | None = None, authorization_id: str | None = None
) -> tuple[list[Any], dict[str, set[str]]]:
    from rcm.authorizations import store
    from rcm.servicekit import create_engine

    engine = create_engine(AuthorizationSettings().database_url.get_secret_value())
    try:
        async with engine.connect() as conn:
            ledger = await store.load_ledger(
                conn,
                patient_id=patient_id,
                authorization_ids=[authorization_id] if authorization_id is not None else None,
            )
            raised = await store.raised_alerts(conn, ledger)
    finally:
        await engine.dispose()
    return list(ledger.values()), raised


@app.command()
def show(
    patient_id: str = typer.Argument(..., metavar="PATIENT", help="Opaque patient id."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per authorization."),
) -> None:
    """Print each authorization of a patient: window, codes, provider, used, booked, remaining, alerts."""
    auths, raised = asyncio.run(_read(patient_id=patient_id))
    if not auths:
        typer.echo(f"no authorization on file for {patient_id}")
        raise typer.Exit(1)
    for a in sorted(auths, key=lambda a: a.sort_key()):
        row = {
            "authorization_id": a.authorization_id,
            "auth_number": a.auth_number,
            "payer_id": a.payer_id,
            "unit": a.unit.value,
            "start": a.start.isoformat(),
            "end": a.end.isoformat() if a.end else None,
            "procedure_codes": sorted(a.procedure_codes),
            "provider_id": a.provider_id,
            "authorized": a.authorized,
            "used": a.used,
            "reserved": a.reserved,
            "remaining": a.remaining,
            "alerts": sorted(raised.get(a.authorization_id, ())),
        }
        if as_json:
            typer.echo(json.dumps(row))
            continue
        codes = ",".join(row["procedure_codes"]) or "any code"
        typer.echo(
            f"{a.authorization_id}  #{a.auth_number}  payer {a.payer_id}  "
            f"{row['start']} to {row['end'] or 'open'}  {codes}  provider {a.provider_id or 'any'}\n"
            f"    {a.unit.value}: authorized {a.authorized}, used {a.used}, booked {a.reserved}, "
            f"remaining {a.remaining}" + (f"  alerts: {', '.join(row['alerts'])}" if row["alerts"] else "")
        )


@app.command()
def run() -> None:
    """Start the authorizations service with settings from the environment (RCM_..., RCM_AUTHORIZATIONS_...)."""
    from rcm.authorizations.app import build_service
    from rcm.servicekit import configure_logging, configure_tracing

    settings = AuthorizationSettings()
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name, settings.otlp_endpoint)
    asyncio.run(build_service(settings).run())


async def _publish(events: list[Any]) -> None:
    from rcm.events import encode
    from rcm.servicekit.kafka import make_producer

    settings = AuthorizationSettings()
    producer = make_producer(settings)
    await producer.start()
    try:
        for event in events:
            record = encode(event, source="/rcm/authorizations-cli", prefix=settings.topic_prefix)
            await producer.send_and_wait(
                record.topic, value=record.value, key=record.key, headers=list(record.headers)
            )
    finally:
        await producer.stop()


@app.command("register-278")
def register_278(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, metavar="FILE", help="X12 278 response."),
    patient_id: str = typer.Option(..., "--patient", help="Opaque id of the patient the response is about."),
    coverage_id: str = typer.Option(..., "--coverage", help="Opaque id of the coverage reviewed."),
    payer_id: str = typer.Option(..., "--payer", help="Opaque id of the payer that answered."),
    provider_id: str | None = typer.Option(
        None, "--provider", help="Rendering provider the authorization is restricted to (none: any)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be registered; publish nothing."),
) -> None:
    """Register the certified reviews of a 278 response: one authorization-received per authorization number.

    The events go to the authorization-received topic, as an authorization entered in the
    practice system would, so the ledger and the claims service both learn of them; sending
    the same response again amends the same authorizations. A review the response cancels
    (HCR01 C) re-publishes the patient's authorization of that number on file, cancelled from
    the response's date: it covers no service from then on. A service level cancelled on its
    own cancels only an authorization limited to that code; one the code shares with others is
    left and named on stderr, as are certified grants not registered (an uncounted quantity:
    hours, months, minutes; no window or quantity), with their reason.
    """
    from rcm.authorizations.review_278 import (
        cancellations_from_response,
        cancelled,
        cancelled_services,
        read_response,
        service_cancellations_from_response,
        unmatched_cancellations_from_response,
    )
    from rcm.x12.convert import read_interchanges
    from rcm.x12.errors import X12Error
    from rcm.x12.models.auth_278 import ServiceReviewResponse278

    try:
        responses = [
            t
            for interchange, _ in read_interchanges(path.read_bytes())
            for group in interchange.groups
            for t in group.transactions
            if isinstance(t, ServiceReviewResponse278)
        ]
    except X12Error as exc:
        typer.echo(f"{path}: not a readable X12 interchange ({exc})", err=True)
        raise typer.Exit(2) from exc
    if not responses:
        typer.echo(f"{path}: no 278 response in the file", err=True)
        raise typer.Exit(2)
    now = datetime.now(UTC)
    readings = [
        read_response(
            response,
            patient_id=patient_id,
            coverage_id=coverage_id,
            payer_id=payer_id,
            received_at=now,
            provider_id=provider_id,
        )
        for response in responses
    ]
    events = [auth for reading in readings for auth in reading.authorizations]
    for refused in (r for reading in readings for r in reading.refused):
        codes = ",".join(refused.procedure_codes) or "any code"
        detail = f" ({refused.detail})" if refused.detail else ""
        typer.echo(
            f"#{refused.number} {codes}: certified, not registered: {refused.reason}{detail}", err=True
        )
    cancels = {
        number: on for response in responses for number, on in cancellations_from_response(response).items()
    }
    services = {
        key: on
        for response in responses
        for key, on in service_cancellations_from_response(response).items()
        if key[0] not in cancels
    }
    unmatched = {
        number for response in responses for number in unmatched_cancellations_from_response(response)
    }
    for number in sorted(unmatched):
        typer.echo(
            f"#{number}: a service naming no procedure cancelled by the payer, left as it is; "
            "cancel it by hand",
            err=True,
        )
    if cancels or services:
        on_file, _ = asyncio.run(_read(patient_id=patient_id))
        events += [
            cancelled(auth, on=cancels[auth.auth_number], received_at=now)
            for auth in on_file
            if auth.auth_number in cancels and auth.payer_id == payer_id
        ]
        missing = set(cancels) - {e.auth_number for e in events if e.cancelled_on is not None}
        for number in sorted(missing):
            typer.echo(
                f"#{number}: cancelled by the payer, but no authorization of that number is on file", err=True
            )
        one_by_one, left = cancelled_services(on_file, services, payer_id=payer_id, received_at=now)
        events += one_by_one
        for service in left:
            why = (
                "it shares its authorization with other codes; cancel it by hand"
                if service.reason == "shared"
                else "no authorization of that number covers it"
            )
            typer.echo(
                f"#{service.number} {service.procedure_code}: cancelled by the payer, but {why}", err=True
            )
    if not events:
        typer.echo(
            f"{path}: no certified or cancelled review with a number, a window and a quantity", err=True
        )
        raise typer.Exit(1)
    if not dry_run:
        asyncio.run(_publish(events))
    for e in events:
        if e.cancelled_on is not None:
            verb = "would cancel" if dry_run else "cancelled"
            typer.echo(f"{verb} {e.authorization_id}  #{e.auth_number}  from {e.cancelled_on}")
            continue
        codes = ",".join(e.procedure_codes) or "any code"
        typer.echo(
            f"{'would register' if dry_run else 'registered'} {e.authorization_id}  #{e.auth_number}  "
            f"{e.valid.start} to {e.valid.end or 'open'}  {e.unit.value} {e.authorized}  {codes}"
        )


async def _renewal_facts(
    authorization_id: str, *, diagnoses: bool, control_number: bool
) -> tuple[Any | None, list[str], int | None]:
    """The authorization, the diagnoses of the latest line billed under it (when asked) and the
    next interchange control number (when asked)."""
    from rcm.authorizations import store
    from rcm.servicekit import create_engine

    engine = create_engine(AuthorizationSettings().database_url.get_secret_value())
    try:
        async with engine.begin() as conn:
            found = await store.load_ledger(conn, authorization_ids=[authorization_id])
            auth = found.get(authorization_id)
            if auth is None:
                return None, [], None
            codes = await store.diagnoses_of(conn, authorization_id) if diagnoses else []
            control = await store.next_control_number(conn) if control_number else None
    finally:
        await engine.dispose()
    return auth, codes, control


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


@app.command("renewal-278")
def renewal_278(
    authorization_id: str = typer.Argument(..., metavar="AUTH_ID", help="Authorization to extend or renew."),
    quantity: int = typer.Option(..., "--quantity", min=1, help="Visits or units asked for."),
    through: datetime = typer.Option(..., "--through", formats=["%Y-%m-%d"], help="Last date asked for."),
    kind: str = typer.Option("extension", "--kind", help="extension (UM02 4) or renewal (UM02 R)."),
    payer_name: str = typer.Option(..., "--payer-name"),
    payer_identifier: str = typer.Option(..., "--payer-identifier", help="Payer id (NM109 of 2010A, PI)."),
    requester_name: str = typer.Option(..., "--requester-name"),
    requester_npi: str = typer.Option(..., "--requester-npi"),
    requester_tin: str = typer.Option(..., "--requester-tin", help="The requester's 9-digit EIN (TRN03)."),
    requester_taxonomy: str | None = typer.Option(
        None, "--requester-taxonomy", help="NUCC taxonomy of the requester (2010B PRV*PE)."
    ),
    subscriber_last: str = typer.Option(..., "--subscriber-last"),
    subscriber_first: str = typer.Option(..., "--subscriber-first"),
    subscriber_birth_date: datetime | None = typer.Option(
        None,
        "--subscriber-birth-date",
        formats=["%Y-%m-%d"],
        help="2010C DMG (the subscriber is the patient).",
    ),
    member_id: str = typer.Option(..., "--member-id"),
    patient_last: str | None = typer.Option(
        None, "--patient-last", help="The patient, when a dependent of the subscriber (2010D)."
    ),
    patient_first: str | None = typer.Option(None, "--patient-first"),
    patient_birth_date: datetime | None = typer.Option(None, "--patient-birth-date", formats=["%Y-%m-%d"]),
    diagnosis: list[str] | None = typer.Option(
        None,
        "--diagnosis",
        help="ICD-10-CM code treated, principal first (repeat the option); default: the diagnoses of "
        "the latest line billed under the authorization.",
    ),
    sender_id: str = typer.Option(..., "--sender-id", help="ISA06."),
    receiver_id: str = typer.Option(..., "--receiver-id", help="ISA08."),
    control_number: int | None = typer.Option(
        None,
        "--control-number",
        min=1,
        max=999_999_999,
        help="ISA13/GS06 (default: the next of the service's own).",
    ),
    usage: str | None = typer.Option(
        None, "--usage", help="ISA15: P production or T test (default: RCM_INTERCHANGE_USAGE, else P)."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the X12 here (else stdout)."),
) -> None:
    """Build the 278 request extending or renewing an authorization on file.

    The request names the patient's diagnoses (2000E HI); with no --diagnosis and no line billed
    under the authorization that carries them, nothing is written (exit 2): a review request
    without the condition treated is pended or denied by the payer, so none is sent.
    """
    from rcm.authorizations.review_278 import (
        Dependent,
        Parties,
        RenewalAsk,
        RequestNotWritten,
        renewal_request_x12,
    )

    if kind not in ("extension", "renewal"):
        raise typer.BadParameter("--kind is extension or renewal")
    settings = AuthorizationSettings()
    usage = usage or settings.interchange_usage
    if usage not in ("P", "T"):
        raise typer.BadParameter("--usage is P or T")
    auth, on_file, next_control = asyncio.run(
        _renewal_facts(authorization_id, diagnoses=not diagnosis, control_number=control_number is None)
    )
    if auth is None:
        typer.echo(f"no authorization {authorization_id}", err=True)
        raise typer.Exit(1)
    dependent = (
        Dependent(patient_last, patient_first, _day(patient_birth_date)) if patient_last is not None else None
    )
    try:
        x12 = renewal_request_x12(
            auth,
            parties=Parties(
                payer_name=payer_name,
                payer_identifier=payer_identifier,
                requester_name=requester_name,
                requester_npi=requester_npi,
                requester_tin=requester_tin,
                subscriber_last_name=subscriber_last,
                subscriber_first_name=subscriber_first,
                member_id=member_id,
                requester_taxonomy=requester_taxonomy,
                subscriber_birth_date=_day(subscriber_birth_date),
                dependent=dependent,
            ),
            ask=RenewalAsk(
                quantity=quantity,
                through=through.date(),
                kind="extension" if kind == "extension" else "renewal",
                diagnoses=tuple(diagnosis or on_file),
            ),
            sender_id=sender_id,
            receiver_id=receiver_id,
            control_number=control_number or next_control or 0,
            created=datetime.now(UTC),
            usage=usage,
        )
    except RequestNotWritten as exc:
        typer.echo(f"{authorization_id}: no 278 written: {exc}", err=True)
        raise typer.Exit(2) from exc
    if output is None:
        typer.echo(x12.decode())
    else:
        output.write_bytes(x12)
        typer.echo(f"wrote {output}")
