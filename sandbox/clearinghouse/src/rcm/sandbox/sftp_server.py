"""The sandbox's SFTP server: password and/or key login, one chrooted tree per user.

Each user sees ``/inbound`` (837 uploads) and ``/outbound`` (999, 277CA, 835). The host
key is generated on first start and kept in the state directory, so clients can pin it.
Faults: ``latency_seconds`` before every file open and directory listing, ``drop_sftp``
(the connection aborted on the next N file opens), ``pickup_uploads`` (a file renamed into
``/inbound`` is moved out at once to ``picked_up/<user>/<n>-<name>`` in the state directory, as
real clearinghouses take their uploads) and ``drop_sftp_after_rename`` (the next N renames
succeed, then the connection is aborted before the reply) and ``drop_sftp_on_write`` (the
next N writes store half their data, then the connection is aborted).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncssh

from rcm.sandbox.config import SftpUser
from rcm.sandbox.faults import Faults

__all__ = ["SftpServer", "ensure_host_key", "picked_up_dir", "user_root"]

log = logging.getLogger(__name__)

HOST_KEY_NAME = "ssh_host_ed25519_key"


def ensure_host_key(state_dir: Path) -> tuple[Path, str]:
    """The host key file (created on first start) and its public key as an OpenSSH line."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / HOST_KEY_NAME
    if not path.exists():
        key = asyncssh.generate_private_key("ssh-ed25519")
        key.write_private_key(str(path))
        path.chmod(0o600)
        key.write_public_key(str(path) + ".pub")
    public = asyncssh.read_private_key(str(path)).export_public_key().decode().strip()
    return path, public


def user_root(state_dir: Path, username: str) -> Path:
    return state_dir / "sftp" / username


def picked_up_dir(state_dir: Path, username: str) -> Path:
    """Where uploads taken out of ``/inbound`` at once (fault ``pickup_uploads``) are kept, one copy per delivery."""
    return state_dir / "picked_up" / username


class _SshServer(asyncssh.SSHServer):
    def __init__(self, users: dict[str, SftpUser]) -> None:
        self._users = users
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn

    def begin_auth(self, username: str) -> bool:
        user = self._users.get(username)
        if user is not None and user.authorized_keys and self._conn is not None:
            self._conn.set_authorized_keys(asyncssh.import_authorized_keys("\n".join(user.authorized_keys)))
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        user = self._users.get(username)
        return bool(user and user.password is not None and user.password.get_secret_value() == password)

    def public_key_auth_supported(self) -> bool:
        return True


def _sftp_factory(
    state_dir: Path, faults: Faults
) -> Callable[[asyncssh.SSHServerChannel[bytes]], asyncssh.SFTPServer]:
    class _ChrootSftp(asyncssh.SFTPServer):
        def __init__(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
            self._username = str(chan.get_extra_info("username"))
            super().__init__(chan, chroot=str(user_root(state_dir, self._username)).encode())

        def _after_rename(self, newpath: bytes) -> None:
            if faults.pickup_uploads:
                target = Path(self.map_path(newpath).decode(errors="surrogateescape"))
                inbound = user_root(state_dir, self._username) / "inbound"
                if target.parent.resolve() == inbound.resolve() and target.is_file():
                    taken = picked_up_dir(state_dir, self._username)
                    taken.mkdir(parents=True, exist_ok=True)
                    seq = sum(1 for _ in taken.iterdir()) + 1
                    target.rename(taken / f"{seq}-{target.name}")
            if faults.take("drop_sftp_after_rename"):
                log.warning("fault: dropping SFTP connection after a rename")
                self.channel.get_connection().abort()
                raise asyncssh.SFTPConnectionLost("connection dropped by fault injection")

        async def write(self, file_obj: object, offset: int, data: bytes) -> int:
            if faults.take("drop_sftp_on_write"):
                log.warning("fault: dropping SFTP connection in the middle of a write")
                half = super().write(file_obj, offset, data[: len(data) // 2])
                if inspect.isawaitable(half):
                    await half
                self.channel.get_connection().abort()
                raise asyncssh.SFTPConnectionLost("connection dropped by fault injection")
            written = super().write(file_obj, offset, data)
            return await written if inspect.isawaitable(written) else written

        async def rename(self, oldpath: bytes, newpath: bytes) -> None:
            super().rename(oldpath, newpath)
            self._after_rename(newpath)

        async def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
            super().posix_rename(oldpath, newpath)
            self._after_rename(newpath)

        async def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
            if faults.latency_seconds:
                await asyncio.sleep(faults.latency_seconds)
            if faults.take("drop_sftp"):
                log.warning("fault: dropping SFTP connection")
                self.channel.get_connection().abort()
                raise asyncssh.SFTPConnectionLost("connection dropped by fault injection")
            return super().open(path, pflags, attrs)

        async def scandir(self, path: bytes) -> AsyncIterator[asyncssh.SFTPName]:
            if faults.latency_seconds:
                await asyncio.sleep(faults.latency_seconds)
            async for name in super().scandir(path):
                yield name

    return _ChrootSftp


class SftpServer:
    def __init__(
        self, *, host: str, port: int, state_dir: Path, users: list[SftpUser], faults: Faults
    ) -> None:
        self.host, self.port, self.state_dir = host, port, state_dir
        self.users = {u.username: u for u in users}
        self.faults = faults
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self.host_public_key = ""

    async def start(self) -> int:
        key_path, self.host_public_key = ensure_host_key(self.state_dir)
        for username in self.users:
            for sub in ("inbound", "outbound"):
                (user_root(self.state_dir, username) / sub).mkdir(parents=True, exist_ok=True)
        self._acceptor = await asyncssh.create_server(
            lambda: _SshServer(self.users),
            self.host,
            self.port,
            server_host_keys=[str(key_path)],
            sftp_factory=_sftp_factory(self.state_dir, self.faults),
            allow_scp=False,
        )
        self.port = self._acceptor.get_port()
        log.info("sandbox SFTP listening on %s:%d", self.host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
            self._acceptor = None
