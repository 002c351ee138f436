"""Wait until a Kafka broker answers a Metadata request (stdlib only).

Used by kafka.sh before the Python environment exists. Sends Metadata v4 (the
oldest version Kafka 4.x still accepts) and succeeds when the response names at
least one broker and an active controller.

usage: kafka_ready.py HOST:PORT [TIMEOUT_SECONDS]
"""

from __future__ import annotations

import socket
import struct
import sys
import time


def _metadata_request(correlation_id: int) -> bytes:
    client_id = b"rcm-ready"
    header = struct.pack(">hhih", 3, 4, correlation_id, len(client_id)) + client_id
    body = struct.pack(">ib", -1, 0)  # all topics, no auto-creation
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def _read_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return buf


def probe(host: str, port: int) -> tuple[int, int]:
    """Return (broker count, controller id) from one Metadata round trip."""
    with socket.create_connection((host, port), timeout=3) as sock:
        sock.settimeout(3)
        sock.sendall(_metadata_request(7))
        (size,) = struct.unpack(">i", _read_exact(sock, 4))
        data = _read_exact(sock, size)
    correlation_id, _throttle, brokers = struct.unpack_from(">iii", data, 0)
    if correlation_id != 7:
        raise ConnectionError("unexpected correlation id")
    offset = 12
    for _ in range(brokers):
        offset += 4  # node id
        (host_len,) = struct.unpack_from(">h", data, offset)
        offset += 2 + host_len + 4
        (rack_len,) = struct.unpack_from(">h", data, offset)
        offset += 2 + max(rack_len, 0)
    (cluster_len,) = struct.unpack_from(">h", data, offset)
    offset += 2 + max(cluster_len, 0)
    (controller,) = struct.unpack_from(">i", data, offset)
    return brokers, controller


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    host, _, port = sys.argv[1].rpartition(":")
    deadline = time.monotonic() + (float(sys.argv[2]) if len(sys.argv) > 2 else 60.0)
    last_error = "no attempt"
    while time.monotonic() < deadline:
        try:
            brokers, controller = probe(host or "127.0.0.1", int(port))
            if brokers > 0 and controller >= 0:
                return 0
            last_error = f"{brokers} brokers, controller {controller}"
        except (OSError, struct.error) as exc:
            last_error = str(exc) or type(exc).__name__
        time.sleep(0.5)
    print(f"kafka at {sys.argv[1]} did not answer metadata requests: {last_error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
