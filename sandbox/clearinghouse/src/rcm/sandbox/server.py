"""One sandbox process: the SFTP server, the CORE endpoint and the payer office, on loopback.

``start_sandbox(config)`` is an async context manager for tests and the CLI; it yields a
running ``Sandbox`` with its actual ports (port 0 in the configuration picks free ones).

A restart on the same state directory carries on where the last run stopped: uploads it
already read are not read again (``processed-uploads`` lists them), answers that were
still waiting for their delay (``pending/<user>/``) are delivered when they fall due, and the
payers remember what they adjudicated (``payer-records.sqlite3``, see ``rcm.sandbox.records``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from rcm.clearinghouse.envelope import PayloadType
from rcm.clearinghouse.sftp import is_temporary_name
from rcm.sandbox.config import SandboxConfig
from rcm.sandbox.core_endpoint import build_core_app, connection_dropping_protocol
from rcm.sandbox.faults import Faults
from rcm.sandbox.payer_office import Delivery, PayerOffice
from rcm.sandbox.records import RECORDS_FILE, PayerRecords
from rcm.sandbox.sftp_server import SftpServer, picked_up_dir, user_root

__all__ = ["Sandbox", "start_sandbox"]

log = logging.getLogger(__name__)

PROCESSED_LOG = "processed-uploads"
PENDING_DIR = "pending"


@dataclass(slots=True)
class Sandbox:
    config: SandboxConfig
    faults: Faults
    office: PayerOffice
    sftp_port: int = 0
    http_port: int = 0
    host_public_key: str = ""
    #: Files written to outbound/ so far, per user (names only).
    delivered: dict[str, list[str]] = field(default_factory=dict)
    _processed: set[tuple[str, str]] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def host(self) -> str:
        return self.config.sandbox.host

    @property
    def state_dir(self) -> Path:
        return self.config.sandbox.state_dir

    @property
    def core_url(self) -> str:
        scheme = "https" if self.config.sandbox.tls else "http"
        return f"{scheme}://{self.host}:{self.http_port}{self.config.sandbox.core_path}"

    def outbound_dir(self, username: str) -> Path:
        return user_root(self.state_dir, username) / "outbound"

    def inbound_dir(self, username: str) -> Path:
        return user_root(self.state_dir, username) / "inbound"

    # ------------------------------------------------------------------ files

    def deliver_now(self, username: str, name: str, content: str) -> None:
        """Write a file into a user's outbound/ atomically (temporary name, then rename)."""
        outbound = self.outbound_dir(username)
        temp = outbound / f".{name}.part"
        temp.write_text(content, encoding="utf-8")
        temp.replace(outbound / name)
        self.delivered.setdefault(username, []).append(name)
        log.info("delivered %s", name)

    def pending_dir(self, username: str) -> Path:
        """Answers waiting for their delay, as ``<due epoch ms>-<name>`` files (kept across restarts)."""
        return self.state_dir / PENDING_DIR / username

    def _schedule(self, username: str, delivery: Delivery) -> None:
        if delivery.delay <= 0:
            self.deliver_now(username, delivery.name, delivery.content)
            return
        pending = self.pending_dir(username)
        pending.mkdir(parents=True, exist_ok=True)
        due_ms = int((time.time() + delivery.delay) * 1000)
        path = pending / f"{due_ms}-{delivery.name}"
        temp = pending / f".{path.name}.part"
        temp.write_text(delivery.content, encoding="utf-8")
        temp.replace(path)
        self._deliver_later(username, path, delivery.delay)

    def _deliver_pending(self, username: str, path: Path) -> None:
        name = path.name.split("-", 1)[1]
        path.replace(self.outbound_dir(username) / name)  # same file system: atomic
        self.delivered.setdefault(username, []).append(name)
        log.info("delivered %s", name)

    def _deliver_later(self, username: str, path: Path, delay: float) -> None:
        async def later() -> None:
            await asyncio.sleep(delay)
            self._deliver_pending(username, path)

        task = asyncio.create_task(later())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def resume(self) -> None:
        """After a restart: forget no upload already read, lose no answer still waiting for its delay."""
        processed = self.state_dir / PROCESSED_LOG
        if processed.exists():
            for entry in processed.read_text(encoding="utf-8").splitlines():
                username, _, name = entry.partition("/")
                if name:
                    self._processed.add((username, name))
        now_ms = time.time() * 1000
        for username in (u.username for u in self.config.sandbox.sftp_users):
            pending = self.pending_dir(username)
            if not pending.is_dir():
                continue
            for path in sorted(pending.iterdir()):
                due, sep, _ = path.name.partition("-")
                if is_temporary_name(path.name) or not sep or not due.isdigit():
                    continue
                self._deliver_later(username, path, max(0.0, (int(due) - now_ms) / 1000))

    def _mark_processed(self, username: str, name: str) -> None:
        with (self.state_dir / PROCESSED_LOG).open("a", encoding="utf-8") as log_file:
            log_file.write(f"{username}/{name}\n")

    def scan_inbound(self) -> int:
        """Process every new completed upload; returns how many files were read."""
        count = 0
        for username in (u.username for u in self.config.sandbox.sftp_users):
            inbound = self.inbound_dir(username)
            if not inbound.is_dir():
                continue
            taken = picked_up_dir(self.state_dir, username)  # uploads moved out at once (fault)
            found = [(p.name, p) for p in sorted(inbound.iterdir())]
            if taken.is_dir():
                found += [(f"picked_up/{p.name}", p) for p in sorted(taken.iterdir())]
            for name, path in found:
                key = (username, name)
                if key in self._processed or is_temporary_name(path.name) or not path.is_file():
                    continue
                self._processed.add(key)  # read once per run, even when reading it fails
                count += 1
                try:
                    text = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    log.warning("unreadable upload %s", path.name)
                    self._mark_processed(username, name)
                    continue
                deliveries = self.office.receive_batch(text)
                # answers are on disk (outbound/ or pending/) before the upload is marked read for good
                for delivery in deliveries:
                    self._schedule(username, delivery)
                self._mark_processed(username, name)
        return count

    async def _scan_forever(self) -> None:
        interval = self.config.sandbox.scan_interval_seconds
        while True:
            try:
                self.scan_inbound()
            except Exception:
                log.exception("inbound scan failed")
            await asyncio.sleep(interval)

    async def pending_deliveries(self) -> None:
        """Wait until every scheduled delivery has been written."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ------------------------------------------------------------------ real time

    def answer(self, payload: str) -> tuple[str, str]:
        """The CORE response (PayloadType, payload) to a request payload."""
        kind, content = self.office.answer_realtime(payload)
        return _RESPONSE_TYPES[kind], content


_RESPONSE_TYPES = {
    "271": PayloadType.X12_271_RESPONSE,
    "277": PayloadType.X12_277_RESPONSE,
    "999": PayloadType.X12_999_RESPONSE,
    "TA1": PayloadType.X12_TA1_RESPONSE,
}


def _ssl_options(config: SandboxConfig) -> dict[str, object]:
    tls = config.sandbox.tls
    if tls is None:
        return {}
    options: dict[str, object] = {"ssl_certfile": str(tls.cert_file), "ssl_keyfile": str(tls.key_file)}
    if tls.client_ca_file is not None:
        options.update(ssl_ca_certs=str(tls.client_ca_file), ssl_cert_reqs=ssl.CERT_REQUIRED)
    return options


@contextlib.asynccontextmanager
async def start_sandbox(config: SandboxConfig) -> AsyncIterator[Sandbox]:
    """Run the sandbox until the block exits; yields it with its bound ports."""
    settings = config.sandbox
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    faults = Faults.from_settings(settings.faults)
    office = PayerOffice(
        config.book,
        faults,
        clearinghouse_id=settings.clearinghouse_id,
        remit_delay=settings.remit_delay_seconds,
        records=PayerRecords(settings.state_dir / RECORDS_FILE),
    )
    sandbox = Sandbox(config=config, faults=faults, office=office)
    sandbox.resume()
    sftp = SftpServer(
        host=settings.host,
        port=settings.sftp_port,
        state_dir=settings.state_dir,
        users=settings.sftp_users,
        faults=faults,
    )
    sandbox.sftp_port = await sftp.start()
    sandbox.host_public_key = sftp.host_public_key
    app = build_core_app(
        path=settings.core_path,
        users=settings.core_users,
        receiver_id=settings.clearinghouse_id,
        certificate_auth=bool(settings.tls and settings.tls.client_ca_file),
        faults=faults,
        answer=sandbox.answer,
    )
    uv_config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.http_port,
        http=connection_dropping_protocol(faults),
        log_level="warning",
        lifespan="off",
        access_log=False,
        **_ssl_options(config),  # type: ignore[arg-type]
    )
    http = uvicorn.Server(uv_config)
    http_task = asyncio.create_task(http.serve())
    scanner = asyncio.create_task(sandbox._scan_forever())
    try:
        async with asyncio.timeout(10):
            while not http.started:
                if http_task.done():
                    http_task.result()
                    raise RuntimeError("CORE endpoint stopped during start-up")
                await asyncio.sleep(0.01)
        sandbox.http_port = http.servers[0].sockets[0].getsockname()[1]
        log.info("sandbox CORE endpoint at %s", sandbox.core_url)
        yield sandbox
    finally:
        scanner.cancel()
        for task in list(sandbox._tasks):
            task.cancel()
        http.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(http_task, 5)
        await sftp.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await scanner
        office.records.close()
