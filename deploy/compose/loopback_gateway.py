"""Expose ports bound to loopback on the container's network: the sandbox listens on 127.0.0.1 only.

    python loopback_gateway.py 0.0.0.0:2022=127.0.0.1:2222 0.0.0.0:8090=127.0.0.1:8089

In compose this runs in the sandbox's network namespace (``network_mode: service:sandbox``), so the
services reach the sandbox's SFTP and CORE listeners as ``sandbox:2022`` and ``sandbox:8090`` while the
sandbox itself keeps binding loopback addresses only. Bytes are copied both ways; nothing is parsed.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys


def parse_route(text: str) -> tuple[str, int, str, int]:
    """``LISTEN_HOST:PORT=TARGET_HOST:PORT`` -> (listen host, listen port, target host, target port)."""
    listen, _, target = text.partition("=")
    listen_host, _, listen_port = listen.rpartition(":")
    target_host, _, target_port = target.rpartition(":")
    if not (listen_host and listen_port and target_host and target_port):
        raise ValueError(f"expected LISTEN_HOST:PORT=TARGET_HOST:PORT, got {text!r}")
    return listen_host, int(listen_port), target_host, int(target_port)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


async def serve(listen_host: str, listen_port: int, target_host: str, target_port: int) -> asyncio.Server:
    """Start one forwarding listener."""

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            target_reader, target_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            client_writer.close()
            return
        try:
            await asyncio.gather(_pipe(client_reader, target_writer), _pipe(target_reader, client_writer))
        finally:
            for writer in (client_writer, target_writer):
                writer.close()
                with contextlib.suppress(ConnectionError, OSError):
                    await writer.wait_closed()

    return await asyncio.start_server(handle, listen_host, listen_port)


async def main(routes: list[str]) -> None:
    servers = [await serve(*parse_route(route)) for route in routes]
    for route in routes:
        print(f"forwarding {route}", flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1:]))
