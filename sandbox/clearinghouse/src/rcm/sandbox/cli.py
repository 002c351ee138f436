"""``rcm sandbox``: run the clearinghouse and payer sandbox on loopback."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import typer

from rcm.sandbox.config import EXAMPLE_CONFIG, load_config
from rcm.sandbox.server import start_sandbox

__all__ = ["app"]

app = typer.Typer(
    name="sandbox",
    help="A clearinghouse and payer sandbox (SFTP + CAQH CORE) on loopback.",
    no_args_is_help=True,
)


@app.command()
def run(
    config: Path = typer.Option(EXAMPLE_CONFIG, "--config", "-c", help="payers.yaml with sandbox settings"),
    sftp_port: int | None = typer.Option(None, help="override sandbox.sftp_port"),
    http_port: int | None = typer.Option(None, help="override sandbox.http_port"),
    state_dir: Path | None = typer.Option(None, help="override sandbox.state_dir"),
) -> None:
    """Run until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    overrides: dict[str, object] = {}
    if sftp_port is not None:
        overrides["sftp_port"] = sftp_port
    if http_port is not None:
        overrides["http_port"] = http_port
    if state_dir is not None:
        overrides["state_dir"] = str(state_dir)
    settings = load_config(config, **overrides)

    async def serve() -> None:
        async with start_sandbox(settings) as sandbox:
            typer.echo(f"SFTP  {sandbox.host}:{sandbox.sftp_port}  host key: {sandbox.host_public_key}")
            typer.echo(f"CORE  {sandbox.core_url}")
            typer.echo(f"state {sandbox.state_dir}")
            await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        typer.echo("stopped")


@app.command("check-config")
def check_config(config: Path = typer.Option(EXAMPLE_CONFIG, "--config", "-c")) -> None:
    """Validate a payers.yaml and print what it defines."""
    settings = load_config(config)
    for payer in settings.payers:
        typer.echo(f"{payer.id}: {payer.name}: {len(payer.plans)} plans, {len(payer.members)} members")
