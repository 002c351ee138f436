"""``rcm demo``: a month of a multi-state practice through the whole revenue cycle."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from rcm.demo.invariants import violations
from rcm.demo.ledger import CycleLedger
from rcm.demo.practice import Scale, generate_practice
from rcm.demo.report import build_report, render_html, render_json, render_text
from rcm.demo.run import Cycle, DemoSettings

__all__ = ["demo", "run_demo"]

console = Console()

REFERENCE_EVENTS = (
    "organization-updated",
    "payer-updated",
    "fee-schedule-updated",
    "provider-updated",
    "patient-updated",
    "coverage-updated",
    "authorization-received",
)


async def run_demo(
    settings: DemoSettings,
    scale: Scale,
    *,
    quiet: bool = False,
    during: Callable[[Cycle], Awaitable[None]] | None = None,
) -> tuple[Cycle, bool]:
    """Run one demo; returns the cycle (its ledger) and whether it settled.

    ``during`` runs once the sessions are published, while the cycle works (the fault test
    kills and restarts things there).
    """
    practice = generate_practice(scale)
    cycle = Cycle(settings, practice, log=console.print)

    def say(message: str) -> None:
        if not quiet:
            console.print(message)

    say(f"[bold]Practice[/]: {practice.counts()}")
    say(f"[bold]Planted mistakes[/]: {practice.mistakes}")
    say(f"month {practice.start} .. {practice.end}, run prefix [cyan]{settings.prefix}[/]")
    clock = time.monotonic()

    def phase(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        cycle.phases[name] = round(now - clock, 1)
        clock = now

    observer: asyncio.Task[None] | None = None
    try:
        await cycle.start()
        observer = asyncio.create_task(cycle.observe())
        phase("start the sandbox and the services")
        with Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=quiet,
        ) as progress:
            for label, events in (
                ("reference data", practice.reference),
                ("authorizations", practice.authorizations),
                ("appointments", practice.appointments),
                ("sessions", practice.sessions),
                ("late authorizations", practice.late_authorizations),
            ):
                if label == "late authorizations":
                    # granted retroactively: recorded once the claims have gone out
                    await cycle.wait_for_submissions(len(practice.sessions))
                    phase("sessions to submitted claims")
                task = progress.add_task(f"publish {label}", total=len(events))

                def advance(n: int, task: TaskID = task) -> None:
                    progress.update(task, completed=n)

                await cycle.publish(list(events), advance)
                if label == "authorizations":
                    # reference data is on file before the first appointment, as in a live practice
                    await cycle.wait_for_consumers(REFERENCE_EVENTS)
                    phase("reference data read by every service")
                if label == "appointments":
                    # appointments are booked days ahead: their eligibility checks come back first
                    await cycle.wait_for_eligibility(len(events))
                    phase("eligibility checks for the appointments")
            stages = {
                name: progress.add_task(name, total=len(practice.sessions))
                for name in (
                    "claims created",
                    "claims submitted",
                    "claims acknowledged",
                    "claims with a remit",
                )
            }

            def show(ledger: CycleLedger) -> None:
                claims = list(ledger.claims.values())
                progress.update(stages["claims created"], completed=len(claims), total=max(len(claims), 1))
                progress.update(
                    stages["claims submitted"],
                    completed=sum(1 for c in claims if c.submissions),
                    total=max(len(claims), 1),
                )
                progress.update(
                    stages["claims acknowledged"],
                    completed=sum(1 for c in claims if c.acks),
                    total=max(len(claims), 1),
                )
                progress.update(
                    stages["claims with a remit"],
                    completed=sum(1 for c in claims if c.remits),
                    total=max(len(claims), 1),
                )

            if during is not None:
                await during(cycle)
            settled = await cycle.wait_settled(show)
            phase("acknowledgements, remits, denials and their fixes settle")
            if practice.late_coverages:
                # second plans the patients mentioned after the first one paid: the shares that
                # waited for a next payer are billed to them
                late = progress.add_task("publish late coverages", total=len(practice.late_coverages))

                def advance_late(n: int) -> None:
                    progress.update(late, completed=n)

                await cycle.publish(list(practice.late_coverages), advance_late)
                settled = await cycle.wait_settled(show) and settled
                phase("secondary coverages reported late: billed and settled")
        return cycle, settled
    finally:
        cycle.stop_observing()
        if observer is not None:
            await asyncio.gather(observer, return_exceptions=True)
        cycle.stop()


def demo(
    small: Annotated[bool, typer.Option("--small", help="A practice small enough for a quick look.")] = False,
    providers: Annotated[int | None, typer.Option(help="Providers (default 120).")] = None,
    patients: Annotated[int | None, typer.Option(help="Patients (default 2000).")] = None,
    days: Annotated[int | None, typer.Option(help="Days of sessions (default 30).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the cycle to settle.")] = 1800.0,
    out: Annotated[Path, typer.Option(help="Where the report goes.")] = Path(".local/demo"),
) -> None:
    """Run a month of a synthetic multi-state practice through the whole cycle and report on it."""
    from rcm.testing.infra import resolve_infrastructure

    scale = Scale.small() if small else Scale()
    scale = Scale(
        providers=providers or scale.providers,
        patients=patients or scale.patients,
        days=days or scale.days,
        seed=scale.seed,
    )
    with ExitStack() as stack:
        infra = resolve_infrastructure(Path.cwd(), stack)
        settings = DemoSettings(
            kafka_bootstrap=infra.kafka_bootstrap,
            pg_url=infra.database_url_for("postgres"),
            work_dir=out,
            timeout_s=timeout,
        )
        cycle, settled = asyncio.run(run_demo(settings, scale))
    report = build_report(cycle.ledger, today=date.today())
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.html").write_text(render_html(report))
    (out / "report.json").write_text(render_json(report))
    console.print(render_text(report))
    broken = violations(cycle.ledger)
    console.print(
        "invariants: "
        + ("nothing lost, nothing posted twice, money balanced" if not broken else "; ".join(broken))
    )
    console.print(
        f"time: {sum(cycle.phases.values()):.0f} s ("
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in cycle.phases.items())
        + ")"
    )
    console.print(f"report: {out / 'report.html'}; service logs in {out}/")
    if not settled:
        console.print("[red]the cycle did not settle in time[/]")
        raise typer.Exit(1)
