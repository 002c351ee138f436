"""``rcm x12``: validate X12 files and write their acknowledgements."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from rcm.x12.ack import acknowledge
from rcm.x12.balancing import Imbalance, imbalances
from rcm.x12.errors import X12Error
from rcm.x12.reader import ReadResult, read

__all__ = ["app"]

app = typer.Typer(name="x12", help="Read, validate and acknowledge X12 5010 files.", no_args_is_help=True)


def _read_file(path: Path) -> ReadResult:
    try:
        with path.open("rb") as fh:
            return read(fh)
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc}") from exc


def _report(path: Path, result: ReadResult, unbalanced: dict[int, list[Imbalance]]) -> dict[str, Any]:
    """The JSON report of one file; ``unbalanced``: each set's imbalances, by ``id(tx)`` (a set that
    does not balance is not valid, as the exit code says)."""
    set_ids = {id(f) for tx in result.transactions for f in tx.findings}
    return {
        "file": str(path),
        "valid": result.valid and not any(unbalanced.values()),
        "envelope": [f.to_dict() for f in result.findings if f.is_error and id(f) not in set_ids],
        "transactions": [
            {
                "id": tx.id,
                "control_number": tx.control_number,
                "version": tx.version,
                "guide": tx.guide_id,
                "valid": tx.valid and not unbalanced[id(tx)],
                "balancing": [
                    {
                        "rule": i.rule,
                        "loop": i.loop_id,
                        "segment": i.segment_id,
                        "position": i.position,
                        "expected": str(i.expected),
                        "found": str(i.found),
                    }
                    for i in unbalanced[id(tx)]
                ],
                "errors": [
                    {
                        "kind": f.kind.value,
                        "code": f.code,
                        "position": f.set_position or f.position,
                        "segment": f.segment_id,
                        "loop": f.loop_id,
                        "element": f.element,
                        "component": f.component,
                        "message": f.message,
                    }
                    for f in tx.errors
                ],
            }
            for tx in result.transactions
        ],
    }


@app.command("validate")
def validate_command(
    paths: Annotated[list[Path], typer.Argument(help="X12 files to validate.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON report.")] = False,
) -> None:
    """Validate files against the envelope rules and their implementation guide, and the 837P and 835
    balancing rules (exit 1 on any error)."""
    reports = []
    ok = True
    for path in paths:
        if not path.is_file():
            raise typer.BadParameter(f"{path} is not a file")
        result = _read_file(path)
        unbalanced = {id(tx): imbalances(tx) for tx in result.transactions}
        report = _report(path, result, unbalanced)
        ok = ok and bool(report["valid"])
        reports.append(report)
        if not as_json:
            status = "valid" if report["valid"] else "INVALID"
            typer.echo(f"{path}: {status} ({len(result.transactions)} transaction sets)")
            for f in result.errors:
                typer.echo(f"  {f}")
            for found in unbalanced.values():
                for i in found:
                    typer.echo(f"  balancing: {i}")
    if as_json:
        typer.echo(json.dumps(reports, indent=2))
    raise typer.Exit(0 if ok else 1)


@app.command("ack")
def ack_command(path: Annotated[Path, typer.Argument(help="The inbound X12 file.")]) -> None:
    """Print the 999 (and TA1 when the envelope has errors) answering an inbound file."""
    if not path.is_file():
        raise typer.BadParameter(f"{path} is not a file")
    try:
        typer.echo(acknowledge(_read_file(path)), nl=False)
    except X12Error as exc:
        typer.echo(f"{path}: {exc}", err=True)
        raise typer.Exit(1) from exc


@app.command("to-json")
def to_json_command(path: Annotated[Path, typer.Argument(help="The X12 file.")]) -> None:
    """Print the typed model of each interchange as JSON (a list when the file holds several)."""
    from rcm.x12.convert import read_interchanges, to_json

    if not path.is_file():
        raise typer.BadParameter(f"{path} is not a file")
    try:
        interchanges = [ic for ic, _ in read_interchanges(path.read_bytes())]
    except X12Error as exc:
        typer.echo(f"{path}: {exc}", err=True)
        raise typer.Exit(1) from exc
    if len(interchanges) == 1:
        typer.echo(to_json(interchanges[0]))
    else:
        typer.echo("[" + ",\n".join(to_json(ic) for ic in interchanges) + "]")


@app.command("from-json")
def from_json_command(
    path: Annotated[Path, typer.Argument(help="JSON written by `rcm x12 to-json`.")],
    element: Annotated[str, typer.Option(help="Element separator.")] = "*",
    component: Annotated[str, typer.Option(help="Component separator (ISA16).")] = ":",
    repetition: Annotated[str, typer.Option(help="Repetition separator (ISA11).")] = "^",
    segment: Annotated[str, typer.Option(help="Segment terminator.")] = "~",
    line_breaks: Annotated[bool, typer.Option("--line-breaks", help="A newline after each segment.")] = False,
) -> None:
    """Build X12 from the JSON of typed models, computing counts and HL numbers."""
    from rcm.x12.build import build_interchange
    from rcm.x12.convert import from_json
    from rcm.x12.segments import Delimiters

    if not path.is_file():
        raise typer.BadParameter(f"{path} is not a file")
    text = path.read_text(encoding="utf-8")
    delimiters = Delimiters(element=element, component=component, repetition=repetition, segment=segment)
    try:
        documents = json.loads(text)
        items = documents if isinstance(documents, list) else [documents]
        output = b"".join(
            build_interchange(from_json(json.dumps(item)), delimiters, line_breaks=line_breaks)
            for item in items
        )
    except (X12Error, ValueError) as exc:
        typer.echo(f"{path}: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(output.decode("utf-8"), nl=False)
