"""/health, /ready and /metrics over HTTP: a few lines of asyncio, no web framework needed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

__all__ = ["ProbeServer"]

ReadinessCheck = Callable[[], Awaitable[dict[str, bool]]]


class ProbeServer:
    """Liveness (the process answers), readiness (its dependencies answer) and Prometheus metrics."""

    def __init__(self, host: str, port: int, registry: CollectorRegistry, ready: ReadinessCheck) -> None:
        self.host = host
        self.port = port
        self.registry = registry
        self.ready = ready
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 5)
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass
            parts = request.decode("latin-1").split()
            path = parts[1] if len(parts) > 1 else "/"
            if path == "/health":
                status, body, ctype = 200, b'{"status":"ok"}', "application/json"
            elif path == "/ready":
                checks = await self.ready()
                ok = all(checks.values())
                status = 200 if ok else 503
                body = json.dumps({"ready": ok, "checks": checks}).encode()
                ctype = "application/json"
            elif path == "/metrics":
                status, body, ctype = 200, generate_latest(self.registry), CONTENT_TYPE_LATEST
            else:
                status, body, ctype = 404, b"not found", "text/plain"
            reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
            writer.write(
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
