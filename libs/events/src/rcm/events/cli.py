"""``rcm events``: the catalog, the AsyncAPI document and the schema snapshots."""

from __future__ import annotations

from pathlib import Path

import typer

from rcm.events.asyncapi import DOCUMENT_PATH, asyncapi_json
from rcm.events.catalog import catalog_markdown
from rcm.events.evolution import SCHEMA_DIR, check_snapshots, write_snapshots

__all__ = ["app"]

app = typer.Typer(
    name="events", help="Event contracts: catalog, AsyncAPI, schema snapshots.", no_args_is_help=True
)


@app.command()
def catalog() -> None:
    """Print the event catalog as a Markdown table."""
    typer.echo(catalog_markdown(), nl=False)


@app.command()
def asyncapi(
    output: Path = typer.Option(DOCUMENT_PATH, "--output", "-o", help="File to write."),
    check: bool = typer.Option(False, "--check", help="Fail if the file differs instead of writing it."),
) -> None:
    """Generate the AsyncAPI document from the code (or check the committed one)."""
    text = asyncapi_json()
    if check:
        if not output.exists() or output.read_text() != text:
            typer.echo(f"{output} is out of date; run `rcm events asyncapi`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{output} is up to date")
        return
    output.write_text(text)
    typer.echo(f"wrote {output}")


@app.command()
def schemas(
    update: bool = typer.Option(False, "--update", help="Record additive changes in the snapshots."),
    directory: Path = typer.Option(SCHEMA_DIR, "--dir", help="Snapshot directory."),
) -> None:
    """Check event schemas against the committed snapshots (or update them)."""
    problems = write_snapshots(directory) if update else check_snapshots(directory)
    for name, found in sorted(problems.items()):
        for problem in found:
            typer.echo(f"{name}: {problem}", err=True)
    if problems:
        if update:
            typer.echo("breaking changes are not recorded: add a new event version instead", err=True)
        raise typer.Exit(1)
    typer.echo("schemas updated" if update else "schemas are compatible with the snapshots")
