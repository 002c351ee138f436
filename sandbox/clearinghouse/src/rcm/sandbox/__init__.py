"""A clearinghouse and payer sandbox speaking SFTP and CAQH CORE on loopback.

``start_sandbox(load_config(path))`` runs it in-process (an async context manager
yielding the running ``Sandbox`` with its ports); ``rcm sandbox run --config payers.yaml``
runs it as a process.
"""

from rcm.sandbox.config import EXAMPLE_CONFIG, SandboxConfig, SandboxSettings, load_config
from rcm.sandbox.faults import Faults, FaultSettings
from rcm.sandbox.server import Sandbox, start_sandbox

__all__ = [
    "EXAMPLE_CONFIG",
    "FaultSettings",
    "Faults",
    "Sandbox",
    "SandboxConfig",
    "SandboxSettings",
    "load_config",
    "start_sandbox",
]
