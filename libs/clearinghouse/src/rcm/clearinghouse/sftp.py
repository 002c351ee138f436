"""SFTP batch exchange: upload 837 files, download 999 / 277CA / 835 files.

Uploads are safe to repeat after a crash: the file is written under a hidden temporary
name and renamed into place (the clearinghouse never picks up a half-written file), and
a file already on the server with the same name and content is not sent again.

Downloads are handed on once: every file's name and SHA-256 go to a ``FileLedger``, and
a file whose content was seen before (even under another name) is skipped. A dropped
connection is reopened under the endpoint's retry policy and the poll resumes where it
stopped, because files already recorded are skipped. A file the caller's handler fails on
is not recorded and does not hold up the files after it: it is offered again next poll.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import posixpath
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import asyncssh

from rcm.clearinghouse.config import SftpEndpoint
from rcm.clearinghouse.errors import (
    AuthenticationFailed,
    CircuitOpen,
    ConnectionLost,
    MalformedFile,
    PayerUnavailable,
    RemoteFileConflict,
    TransportError,
)
from rcm.clearinghouse.ledger import FileLedger, MemoryFileLedger
from rcm.clearinghouse.retry import CircuitBreaker, call_with_retry
from rcm.clearinghouse.x12sniff import IncompleteInterchange, transaction_kind
from rcm.x12 import decode

__all__ = [
    "FailedHandOff",
    "PollResult",
    "ReceivedFile",
    "SftpBatchClient",
    "SkippedFile",
    "UploadReceipt",
    "batch_file_name",
    "is_temporary_name",
]

log = logging.getLogger(__name__)

TEMP_PREFIX = "."
TEMP_SUFFIX = ".part"


def batch_file_name(
    *, submitter_id: str, control_number: int | str, created_at: datetime | None = None, kind: str = "837P"
) -> str:
    """A unique, traceable file name: ``837P_<submitter>_<UTC yyyymmddThhmmssZ>_<control number>.x12``."""
    when = (created_at or datetime.now(UTC)).astimezone(UTC)
    submitter = re.sub(r"[^A-Za-z0-9-]", "-", submitter_id.strip()) or "UNKNOWN"
    control = str(control_number).strip()
    if not control.isdigit():
        raise ValueError("control number must be numeric (ISA13)")
    return f"{kind}_{submitter}_{when:%Y%m%dT%H%M%SZ}_{int(control):09d}.x12"


def is_temporary_name(name: str) -> bool:
    """Names an uploader is still writing: servers must not pick these up."""
    return name.startswith(TEMP_PREFIX) or name.endswith(TEMP_SUFFIX)


@dataclass(frozen=True, slots=True)
class UploadReceipt:
    name: str
    path: str
    size: int
    sha256: str
    #: True when the same file was already on the server and nothing was sent.
    already_present: bool
    #: True when our rename was sent but its reply was lost, and on the retry neither the final
    #: file nor our temporary file was there: the clearinghouse took the file (moved it out of
    #: ``inbound_dir``), so it was not sent again. Delivery is very likely but not confirmed by
    #: the server; reconcile with the 999 that comes back.
    taken_unconfirmed: bool = False


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    name: str
    kind: str
    content: bytes = field(repr=False)
    sha256: str
    size: int

    @property
    def text(self) -> str:
        return decode(self.content)


_UNAVAILABLE_NAMES = frozenset({"OperationalError", "InterfaceError", "DisconnectionError"})
"""PEP 249's names for a database that cannot be reached (any driver, any wrapper)."""


@dataclass(frozen=True, slots=True)
class FailedHandOff:
    """A downloaded file the caller's handler raised on: not recorded, offered again next poll."""

    name: str
    kind: str
    sha256: str
    error: Exception = field(repr=False)
    size: int = 0

    @property
    def reason(self) -> str:
        """Why, as a bounded label: ``unavailable`` (the database or network was down: the next
        poll will likely take it), ``invalid_content`` (the handler could not read or accept the
        file) or ``handler_error``. Never the error's message, which may quote the file."""
        exc = self.error
        if isinstance(exc, OSError | TimeoutError) or any(
            c.__name__ in _UNAVAILABLE_NAMES for c in type(exc).__mro__
        ):
            return "unavailable"
        if isinstance(exc, ValueError | LookupError | UnicodeError):
            return "invalid_content"
        return "handler_error"


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A listed file the poll could not read; the poll went on with the others and it is tried
    again next poll. ``reason``: ``vanished`` (gone between listing and reading),
    ``permission_denied``, ``unreadable`` (another SFTP error), ``undecodable_name`` (a name
    that is not UTF-8; ``name`` shows its bytes escaped) or ``incomplete`` (an ISA without its
    IEA: still being written; reported malformed if unchanged on the next poll)."""

    name: str
    reason: str


def _skip_reason(exc: asyncssh.SFTPError) -> str:
    if isinstance(exc, asyncssh.SFTPNoSuchFile):
        return "vanished"
    if isinstance(exc, asyncssh.SFTPPermissionDenied):
        return "permission_denied"
    return "unreadable"


@dataclass(slots=True)
class PollResult:
    files: list[ReceivedFile] = field(default_factory=list)
    malformed: list[MalformedFile] = field(default_factory=list)
    #: Files listed again but already handed on (same content seen before).
    duplicates: list[str] = field(default_factory=list)
    #: Files the handler raised on; the poll went on with the others.
    failed: list[FailedHandOff] = field(default_factory=list)
    #: Files that could not be read (gone, permission denied...); the poll went on with the others.
    skipped: list[SkippedFile] = field(default_factory=list)


FileHandler = Callable[[ReceivedFile], Awaitable[None]]


#: Files seen incomplete (an ISA without its IEA) by mailbox and name: their (size, mtime) then. A file
#: still incomplete and unchanged on the next poll is reported malformed; kept process-wide so a
#: client opened per poll sees it too.
_INCOMPLETE: dict[tuple[str, int, str, str, str], tuple[int, int | None]] = {}
_INCOMPLETE_MAX = 10_000


def _as_bytes(data: bytes | str) -> bytes:
    return data if isinstance(data, bytes) else data.encode("utf-8")


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class SftpBatchClient:
    """One SFTP mailbox at a clearinghouse. Use as ``async with SftpBatchClient(endpoint) as client``."""

    def __init__(
        self,
        endpoint: SftpEndpoint,
        *,
        ledger: FileLedger | None = None,
        breaker: CircuitBreaker | None = None,
        name: str = "sftp",
    ) -> None:
        self.endpoint = endpoint
        self.ledger = ledger if ledger is not None else MemoryFileLedger()
        self.breaker = breaker
        self.name = name
        self._conn: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        #: How many times a connection was opened (reconnects included).
        self.connections_opened = 0

    async def __aenter__(self) -> SftpBatchClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        sftp, conn = self._sftp, self._conn
        self._sftp = self._conn = None
        if sftp is not None:
            sftp.exit()
        if conn is not None:
            conn.close()
            try:
                # a server that stopped answering must not hold the caller: the socket is closed anyway
                await asyncio.wait_for(conn.wait_closed(), timeout=5)
            except Exception:
                log.debug("error while closing SFTP connection", exc_info=True)

    # ------------------------------------------------------------------ connection

    def _connect_options(self) -> dict[str, Any]:
        ep = self.endpoint
        options: dict[str, Any] = {
            "host": ep.host,
            "port": ep.port,
            "username": ep.username,
            "connect_timeout": ep.retry.timeout_seconds,
            "agent_path": None,
        }
        if ep.password is not None:
            options["password"] = ep.password.get_secret_value()
        if ep.client_key_file is not None:
            options["client_keys"] = [str(ep.client_key_file)]
            if ep.client_key_passphrase is not None:
                options["passphrase"] = ep.client_key_passphrase.get_secret_value()
        else:
            options["client_keys"] = None
        if ep.host_public_key:
            options["known_hosts"] = ([asyncssh.import_public_key(ep.host_public_key)], [], [])
        elif ep.known_hosts_file is not None:
            options["known_hosts"] = str(ep.known_hosts_file)
        else:
            options["known_hosts"] = None
        return options

    async def _client(self) -> asyncssh.SFTPClient:
        if self._sftp is not None:
            return self._sftp
        await self.close()
        try:
            conn = await asyncssh.connect(**self._connect_options())
        except asyncssh.PermissionDenied as exc:
            raise AuthenticationFailed("SFTP login refused", payer=self.name) from exc
        except asyncssh.HostKeyNotVerifiable as exc:
            raise AuthenticationFailed("SFTP server host key is not trusted", payer=self.name) from exc
        except (OSError, asyncssh.Error) as exc:
            raise PayerUnavailable(
                f"cannot connect to SFTP server: {type(exc).__name__}", payer=self.name
            ) from exc
        try:
            sftp = await conn.start_sftp_client()
        except (OSError, asyncssh.Error) as exc:
            conn.close()
            raise ConnectionLost(f"SFTP subsystem failed: {type(exc).__name__}", payer=self.name) from exc
        self._conn, self._sftp = conn, sftp
        self.connections_opened += 1
        log.info("SFTP connected to %s:%d", self.endpoint.host, self.endpoint.port)
        return sftp

    async def _with_connection(self, operation: Callable[[asyncssh.SFTPClient], Awaitable[Any]]) -> Any:
        """Run one SFTP operation, turning a dropped session into a retryable ``ConnectionLost``."""
        sftp = await self._client()
        try:
            return await operation(sftp)
        except TransportError:
            raise
        except asyncssh.SFTPError as exc:
            if isinstance(exc, asyncssh.SFTPConnectionLost | asyncssh.SFTPNoConnection):
                await self.close()
                raise ConnectionLost("SFTP session dropped", payer=self.name) from exc
            raise TransportError(f"SFTP operation failed: {exc.reason}", payer=self.name) from exc
        except (OSError, asyncssh.Error, EOFError) as exc:
            await self.close()
            raise ConnectionLost(f"SFTP connection dropped: {type(exc).__name__}", payer=self.name) from exc

    async def _retrying(self, operation: Callable[[asyncssh.SFTPClient], Awaitable[Any]]) -> Any:
        return await call_with_retry(
            lambda: self._with_connection(operation),
            policy=self.endpoint.retry,
            breaker=self.breaker,
            payer=self.name,
        )

    # ------------------------------------------------------------------ upload

    async def upload(self, content: bytes, *, name: str) -> UploadReceipt:
        """Put ``content`` at ``inbound_dir/name`` exactly once, even when called again after a crash.

        Within one call, a rename whose reply was lost is not repeated blindly: when the retry
        finds neither the final file nor our temporary file, the clearinghouse already took the
        file and the receipt says ``taken_unconfirmed``. A call that fails removes its temporary
        file (best effort) so no partial file is left behind.
        """
        if "/" in name or is_temporary_name(name) or not name:
            raise ValueError("upload name must be a plain file name, not hidden and not *.part")
        digest = _sha256(content)
        final_path = posixpath.join(self.endpoint.inbound_dir, name)
        temp_dir = self.endpoint.staging_dir or self.endpoint.inbound_dir
        temp_path = posixpath.join(temp_dir, f"{TEMP_PREFIX}{name}{TEMP_SUFFIX}")
        rename_sent = False

        async def attempt(sftp: asyncssh.SFTPClient) -> UploadReceipt:
            nonlocal rename_sent
            if await self._same_file_present(sftp, final_path, content, digest):
                log.info("upload %s skipped: already on the server", name)
                return UploadReceipt(name, final_path, len(content), digest, already_present=True)
            if rename_sent and not await self._exists(sftp, temp_path):
                # the rename went through (our temporary file is gone) and the clearinghouse
                # moved the file out of inbound/ before we could see it: sending it again would
                # deliver the batch twice
                log.warning("upload %s: rename reply lost and file already taken; not sent again", name)
                return UploadReceipt(
                    name, final_path, len(content), digest, already_present=False, taken_unconfirmed=True
                )
            try:
                async with sftp.open(temp_path, "wb") as handle:
                    await handle.write(content)
            except asyncssh.SFTPError as exc:
                if not isinstance(exc, asyncssh.SFTPConnectionLost | asyncssh.SFTPNoConnection):
                    await self._remove_quietly(sftp, temp_path)
                raise
            rename_sent = True
            try:
                await sftp.posix_rename(temp_path, final_path)
            except asyncssh.SFTPOpUnsupported:
                await sftp.rename(temp_path, final_path)
            log.info("uploaded %s (%d bytes)", name, len(content))
            return UploadReceipt(name, final_path, len(content), digest, already_present=False)

        try:
            receipt: UploadReceipt = await self._retrying(attempt)
        except (CircuitOpen, AuthenticationFailed, RemoteFileConflict):
            raise  # nothing was written, or no session to clean up with
        except TransportError:
            await self._discard_temporary(temp_path)
            raise
        return receipt

    @staticmethod
    async def _exists(sftp: asyncssh.SFTPClient, path: str) -> bool:
        try:
            await sftp.stat(path)
        except asyncssh.SFTPNoSuchFile:
            return False
        return True

    @staticmethod
    async def _remove_quietly(sftp: asyncssh.SFTPClient, path: str) -> None:
        try:
            await asyncio.wait_for(sftp.remove(path), timeout=5)
        except (TimeoutError, OSError, asyncssh.Error):
            log.debug("could not remove temporary upload file", exc_info=True)

    async def _discard_temporary(self, temp_path: str) -> None:
        """Best effort, after a failed upload: remove our partial temporary file (one try, bounded)."""
        try:
            async with asyncio.timeout(self.endpoint.retry.timeout_seconds):
                sftp = await self._client()
                await self._remove_quietly(sftp, temp_path)
        except (TimeoutError, TransportError, OSError, asyncssh.Error):
            log.debug("temporary upload file left on the server", exc_info=True)
            await self.close()

    async def _same_file_present(
        self, sftp: asyncssh.SFTPClient, path: str, content: bytes, digest: str
    ) -> bool:
        try:
            attrs = await sftp.stat(path)
        except asyncssh.SFTPNoSuchFile:
            return False
        if attrs.size == len(content):
            async with sftp.open(path, "rb") as handle:
                remote = await handle.read()
            if _sha256(_as_bytes(remote)) == digest:
                return True
        raise RemoteFileConflict(
            f"{posixpath.basename(path)} exists on the server with different content", payer=self.name
        )

    # ------------------------------------------------------------------ download

    async def poll(self, handle: FileHandler | None = None) -> PollResult:
        """Download every new file of ``outbound_dir`` and hand each on once.

        With ``handle``, each file is passed to it and recorded in the ledger only after it
        returns (at-least-once hand-off). A file the handler raises on is left unrecorded and
        listed in ``PollResult.failed``; the poll goes on with the other files and the failed
        one is offered again next time. Without ``handle``, files are recorded and returned in
        ``PollResult.files``. Malformed files are reported as ``MalformedFile`` errors and
        recorded once the poll has returned them, so a poll that ends in a transport error
        loses no report: they are reported again by the next poll.
        """
        result = PollResult()
        malformed: list[tuple[str, str, int, int | None]] = []

        async def attempt(sftp: asyncssh.SFTPClient) -> PollResult:
            # names are listed as bytes: one name that is not UTF-8 must not hide the others
            listing = await sftp.readdir(self.endpoint.outbound_dir.encode())
            entries: list[tuple[str, int, int | None]] = []
            for entry in listing:
                raw = entry.filename if isinstance(entry.filename, bytes) else str(entry.filename).encode()
                try:
                    name = raw.decode("utf-8")
                except UnicodeDecodeError:
                    label = raw.decode("utf-8", "backslashreplace")
                    if label not in {f.name for f in result.skipped}:
                        log.warning("download skipped: a file name is not UTF-8")
                        result.skipped.append(SkippedFile(label, "undecodable_name"))
                    continue
                if self._is_candidate(name, entry.attrs):
                    entries.append((name, entry.attrs.size or 0, entry.attrs.mtime))
            entries.sort()
            known = await self.ledger.seen_versions(entries)
            # taken earlier in this poll, before a dropped connection made it start over
            taken = (
                {m.file_name for m in result.malformed}
                | {f.name for f in result.failed}
                | {f.name for f in result.skipped}
            )
            for name, size, mtime in entries:
                if (name, size, mtime) in known or name in taken:
                    continue
                try:
                    await self._take(sftp, name, size, mtime, handle, result, malformed)
                except asyncssh.SFTPError as exc:
                    if isinstance(exc, asyncssh.SFTPConnectionLost | asyncssh.SFTPNoConnection):
                        raise
                    reason = _skip_reason(exc)
                    log.warning("download %s skipped (%s); tried again next poll", name, reason)
                    result.skipped.append(SkippedFile(name, reason))
            return result

        final: PollResult = await self._retrying(attempt)
        for name, digest, size, mtime in malformed:
            await self._record(name=name, sha256=digest, size=size, kind="malformed", mtime=mtime)
        return final

    async def _record(self, *, name: str, sha256: str, size: int, kind: str, mtime: int | None) -> bool:
        added = await self.ledger.record(name=name, sha256=sha256, size=size, kind=kind)
        await self.ledger.note_version(name=name, size=size, mtime=mtime)
        return added

    @staticmethod
    def _is_candidate(name: str, attrs: asyncssh.SFTPAttrs) -> bool:
        if name in (".", "..") or is_temporary_name(name):
            return False
        return attrs.type in (None, asyncssh.FILEXFER_TYPE_REGULAR)

    async def _take(
        self,
        sftp: asyncssh.SFTPClient,
        name: str,
        size: int,
        mtime: int | None,
        handle: FileHandler | None,
        result: PollResult,
        malformed: list[tuple[str, str, int, int | None]],
    ) -> None:
        path = posixpath.join(self.endpoint.outbound_dir, name)
        async with sftp.open(path, "rb") as remote:
            content = _as_bytes(await remote.read())
        digest = _sha256(content)
        if await self.ledger.seen(digest):
            log.info("download %s skipped: same content already handed on", name)
            await self._record(name=name, sha256=digest, size=len(content), kind="duplicate", mtime=mtime)
            result.duplicates.append(name)
            await self._remove_if_configured(sftp, path)
            return
        pending = (
            self.endpoint.host,
            self.endpoint.port,
            self.endpoint.username,
            self.endpoint.outbound_dir,
            name,
        )
        try:
            kind = transaction_kind(decode(content))
        except IncompleteInterchange as exc:
            if _INCOMPLETE.get(pending) != (len(content), mtime):
                # still being written, most likely: read again next poll, malformed if it stays so
                if len(_INCOMPLETE) >= _INCOMPLETE_MAX:
                    _INCOMPLETE.pop(next(iter(_INCOMPLETE)))
                _INCOMPLETE[pending] = (len(content), mtime)
                log.info("download %s is not complete yet; read again next poll", name)
                result.skipped.append(SkippedFile(name, "incomplete"))
                return
            _INCOMPLETE.pop(pending, None)
            error = MalformedFile(str(exc), file_name=name, sha256=digest, payer=self.name)
            log.warning("download %s stayed incomplete: %s", name, exc)
            malformed.append((name, digest, len(content), mtime))
            result.malformed.append(error)
            return
        except ValueError as exc:
            error = MalformedFile(str(exc), file_name=name, sha256=digest, payer=self.name)
            log.warning("download %s is malformed: %s", name, exc)
            malformed.append((name, digest, len(content), mtime))
            result.malformed.append(error)
            return
        _INCOMPLETE.pop(pending, None)
        received = ReceivedFile(name=name, kind=kind, content=content, sha256=digest, size=len(content))
        if handle is not None:
            try:
                await handle(received)
            except Exception as exc:
                # the handler's message may hold member data: only its type goes to the log
                log.warning("handing on %s failed with %s; offered again next poll", name, type(exc).__name__)
                result.failed.append(FailedHandOff(name, kind, digest, exc, size=len(content)))
                return
        if await self._record(name=name, sha256=digest, size=len(content), kind=kind, mtime=mtime):
            result.files.append(received)
            log.info("downloaded %s (%s, %d bytes)", name, kind, len(content))
        await self._remove_if_configured(sftp, path)

    async def _remove_if_configured(self, sftp: asyncssh.SFTPClient, path: str) -> None:
        if self.endpoint.delete_after_download:
            await sftp.remove(path)

    async def list_inbound(self) -> list[str]:
        """Names of the completed files in ``inbound_dir`` (for reconciliation and tests)."""

        async def attempt(sftp: asyncssh.SFTPClient) -> list[str]:
            names = await sftp.listdir(self.endpoint.inbound_dir)
            return sorted(str(n) for n in names if n not in (".", "..") and not is_temporary_name(str(n)))

        names: list[str] = await self._retrying(attempt)
        return names
