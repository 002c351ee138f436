"""The one `rcm` command line.

Each package contributes its own sub-command by declaring an entry point in the
``rcm.cli`` group (``x12 = "rcm.x12.cli:app"``), so the CLI grows with the
workspace without this module knowing every package.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

import typer

__all__ = ["app", "main"]

log = logging.getLogger(__name__)

app = typer.Typer(
    name="rcm",
    help="Behavioral-health revenue cycle: X12, services, sandbox and operations.",
    no_args_is_help=True,
    add_completion=False,
)


def _register_subcommands() -> None:
    for ep in sorted(entry_points(group="rcm.cli"), key=lambda e: e.name):
        try:
            sub = ep.load()
        except Exception as exc:  # a broken plug-in must not hide the others
            log.warning("rcm: could not load sub-command %s: %s", ep.name, exc)
            continue
        if isinstance(sub, typer.Typer):
            app.add_typer(sub, name=ep.name)
        else:
            app.command(name=ep.name)(sub)


_register_subcommands()


def main() -> None:
    app()
