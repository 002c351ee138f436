"""``rcm claims``: code a session from a JSON file, to see which codes it bills and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

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
