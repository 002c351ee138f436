"""``rcm dlt list|replay TOPIC``: look at dead letters and send them back for another try."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from rcm.servicekit.deadletters import list_dead_letters, replay_dead_letters
from rcm.servicekit.settings import ServiceSettings

app = typer.Typer(help="Dead-letter topics: inspect and replay.", no_args_is_help=True)


@app.command("list")
def list_command(
    topic: Annotated[str, typer.Argument(help="A dead-letter topic, <consumer>.dlt")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per dead letter.")] = False,
) -> None:
    """List dead letters: coordinates, event id and type, original topic, attempts and error (no payloads)."""
    letters = asyncio.run(list_dead_letters(ServiceSettings(), topic))
    for d in letters:
        s = d.summary()
        if as_json:
            typer.echo(json.dumps(s))
        else:
            typer.echo(
                f"{s['partition']}:{s['offset']}  {s['type'] or '-'}  {s['event_id'] or '-'}  "
                f"from {s['original_topic']}@{s['original_partition']}:{s['original_offset']}  "
                f"attempt {s['attempt']}  {s['error_kind']}: {s['error']}"
            )
    if not as_json:
        typer.echo(f"{len(letters)} dead letter(s) in {topic}")


@app.command("replay")
def replay_command(
    topic: Annotated[str, typer.Argument(help="A dead-letter topic, <consumer>.dlt")],
    offset: Annotated[
        list[str] | None, typer.Option("--offset", help="Only PARTITION:OFFSET (repeatable).")
    ] = None,
    event_id: Annotated[
        list[str] | None, typer.Option("--event-id", help="Only this event id (repeatable).")
    ] = None,
) -> None:
    """Send dead letters back through the consumer's retry topic; the inbox keeps it idempotent."""
    offsets = None
    if offset:
        try:
            offsets = {(int(p), int(o)) for p, o in (item.split(":", 1) for item in offset)}
        except ValueError as exc:
            raise typer.BadParameter("--offset takes PARTITION:OFFSET") from exc
    try:
        count = asyncio.run(
            replay_dead_letters(
                ServiceSettings(), topic, offsets=offsets, event_ids=set(event_id) if event_id else None
            )
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(f"replayed {count} dead letter(s) from {topic}")
