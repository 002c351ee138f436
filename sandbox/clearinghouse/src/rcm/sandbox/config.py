"""Sandbox configuration: listeners, accounts, faults and the payer book, from one YAML file.

String values may reference the environment as ``${NAME}`` or ``${NAME:-default}`` so
passwords stay out of the file.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from rcm.sandbox.faults import FaultSettings
from rcm.sandbox.payers import Payer, PayerBook

__all__ = ["CoreUser", "SandboxConfig", "SandboxSettings", "SftpUser", "TlsServerSettings", "load_config"]

EXAMPLE_CONFIG = Path(__file__).parent / "data" / "payers.yaml"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SftpUser(_Model):
    username: str
    password: SecretStr | None = None
    #: OpenSSH public key lines allowed to log in as this user.
    authorized_keys: list[str] = Field(default_factory=list)


class CoreUser(_Model):
    username: str
    password: SecretStr


class TlsServerSettings(_Model):
    cert_file: Path
    key_file: Path
    #: When set, clients must present a certificate signed by this CA (X.509 client auth);
    #: such clients need no UserName/Password in the envelope.
    client_ca_file: Path | None = None


class SandboxSettings(_Model):
    host: str = "127.0.0.1"
    sftp_port: int = Field(default=0, ge=0, le=65535)
    http_port: int = Field(default=0, ge=0, le=65535)
    state_dir: Path = Path(".local/sandbox")
    clearinghouse_id: str = "SANDBOXCH"
    core_path: str = "/core"
    remit_delay_seconds: float = Field(default=5.0, ge=0)
    scan_interval_seconds: float = Field(default=0.2, gt=0)
    sftp_users: list[SftpUser] = Field(default_factory=list)
    core_users: list[CoreUser] = Field(default_factory=list)
    tls: TlsServerSettings | None = None
    faults: FaultSettings = Field(default_factory=FaultSettings)

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, value: str) -> str:
        if value != "localhost" and not ipaddress.ip_address(value).is_loopback:
            raise ValueError("the sandbox binds loopback addresses only")
        return value


class SandboxConfig(_Model):
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    payers: list[Payer] = Field(default_factory=list)

    @property
    def book(self) -> PayerBook:
        return PayerBook(payers=self.payers)


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _expand(value: Any) -> Any:
    if isinstance(value, str):
        return _ENV_REF.sub(lambda m: os.environ.get(m.group(1), m.group(2) or ""), value)
    if isinstance(value, list):
        return [_expand(v) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v) for k, v in value.items()}
    return value


def load_config(path: Path | str = EXAMPLE_CONFIG, **overrides: Any) -> SandboxConfig:
    """Read a sandbox YAML file; ``overrides`` replace keys of its ``sandbox`` section."""
    data = _expand(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})
    data.setdefault("sandbox", {}).update(overrides)
    return SandboxConfig.model_validate(data)
