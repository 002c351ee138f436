"""Configuration of the transports: endpoints, credentials and retry policies per clearinghouse and payer.

Secrets are ``SecretStr`` so they never render in reprs or logs. Any field can come
from the environment with ``ClearinghouseSettings.from_env()``: the variable
``RCM_CLEARINGHOUSE__SFTP__PASSWORD`` sets ``sftp.password`` and
``RCM_CLEARINGHOUSE__PAYERS__ACME__CORE__PASSWORD`` sets the password of payer ``ACME``'s
CORE endpoint (``__`` separates nesting levels; keys are matched case-insensitively).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

__all__ = [
    "BreakerSettings",
    "ClearinghouseSettings",
    "CoreEndpoint",
    "PayerRoute",
    "RetrySettings",
    "SftpEndpoint",
    "TlsSettings",
]

ENV_PREFIX = "RCM_CLEARINGHOUSE"


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetrySettings(_Settings):
    """How one call is retried: per-attempt timeout, bounded attempts, exponential backoff with jitter."""

    timeout_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=20)
    initial_backoff_seconds: float = Field(default=0.5, ge=0)
    max_backoff_seconds: float = Field(default=10.0, ge=0)
    jitter_seconds: float = Field(default=0.5, ge=0)


class BreakerSettings(_Settings):
    """The per-payer circuit breaker: opens after ``failure_threshold`` consecutive failures."""

    failure_threshold: int = Field(default=5, ge=1)
    cool_down_seconds: float = Field(default=30.0, ge=0)


class TlsSettings(_Settings):
    """TLS for the CORE endpoint: a private CA to trust and/or an X.509 client certificate."""

    ca_file: Path | None = None
    client_cert_file: Path | None = None
    client_key_file: Path | None = None
    client_key_password: SecretStr | None = None


class CoreEndpoint(_Settings):
    """A CAQH CORE real-time endpoint (connectivity rule vC2.2.0)."""

    url: str
    envelope: Literal["mime", "soap"] = "mime"
    sender_id: str
    receiver_id: str
    #: UserName/Password of the envelope (MIME) or WS-Security UsernameToken (SOAP);
    #: leave empty when authenticating with an X.509 client certificate.
    username: str | None = None
    password: SecretStr | None = None
    tls: TlsSettings | None = None
    rule_version: str = "2.2.0"
    retry: RetrySettings = RetrySettings()
    breaker: BreakerSettings = BreakerSettings()
    #: A reply larger than this is not read (``ResponseTooLarge``).
    max_response_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)

    @model_validator(mode="after")
    def _some_authentication(self) -> CoreEndpoint:
        has_password = self.username is not None and self.password is not None
        has_cert = self.tls is not None and self.tls.client_cert_file is not None
        if not (has_password or has_cert):
            raise ValueError("a CORE endpoint needs username+password or a TLS client certificate")
        return self


class SftpEndpoint(_Settings):
    """An SFTP batch mailbox: 837 uploads go to ``inbound_dir``, 999/277CA/835 come from ``outbound_dir``."""

    host: str = "127.0.0.1"
    port: int = Field(default=22, ge=1, le=65535)
    username: str
    password: SecretStr | None = None
    client_key_file: Path | None = None
    client_key_passphrase: SecretStr | None = None
    #: Trust the server through a known_hosts file or one OpenSSH public key line.
    known_hosts_file: Path | None = None
    host_public_key: str | None = None
    #: Skip host key verification. Only for throw-away test servers.
    accept_any_host_key: bool = False
    inbound_dir: str = "inbound"
    #: Where uploads are written before being renamed into ``inbound_dir`` (on the same server
    #: file system); by default a hidden ``.name.part`` file in ``inbound_dir`` itself. Set it
    #: when the clearinghouse picks up every name it sees in ``inbound_dir``.
    staging_dir: str | None = None
    outbound_dir: str = "outbound"
    delete_after_download: bool = False
    retry: RetrySettings = RetrySettings()

    @model_validator(mode="after")
    def _checks(self) -> SftpEndpoint:
        if self.password is None and self.client_key_file is None:
            raise ValueError("an SFTP endpoint needs a password or a client key")
        if not (self.known_hosts_file or self.host_public_key or self.accept_any_host_key):
            raise ValueError("set known_hosts_file or host_public_key (or accept_any_host_key for tests)")
        return self


class PayerRoute(_Settings):
    """Per-payer overrides: its own CORE endpoint, or the shared one with other retry/breaker settings."""

    core: CoreEndpoint | None = None
    retry: RetrySettings | None = None
    breaker: BreakerSettings | None = None


class ClearinghouseSettings(_Settings):
    """Everything needed to talk to one clearinghouse and the payers reached through it."""

    name: str = "clearinghouse"
    submitter_id: str
    sftp: SftpEndpoint | None = None
    core: CoreEndpoint | None = None
    payers: dict[str, PayerRoute] = Field(default_factory=dict)

    def core_endpoint(self, payer_id: str) -> CoreEndpoint:
        """The CORE endpoint to use for ``payer_id``, with that payer's retry and breaker settings."""
        route = self.payers.get(payer_id, PayerRoute())
        endpoint = route.core or self.core
        if endpoint is None:
            raise LookupError(f"no CORE endpoint configured for payer {payer_id}")
        updates: dict[str, Any] = {}
        if route.retry is not None:
            updates["retry"] = route.retry
        if route.breaker is not None:
            updates["breaker"] = route.breaker
        return endpoint.model_copy(update=updates) if updates else endpoint

    @classmethod
    def from_env(
        cls,
        base: Mapping[str, Any] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        prefix: str = ENV_PREFIX,
    ) -> ClearinghouseSettings:
        """Settings from ``base`` (e.g. YAML without secrets) overlaid with ``{prefix}__...`` variables."""
        data = _deep_copy(dict(base or {}))
        env = os.environ if environ is None else environ
        marker = prefix.upper() + "__"
        for key, value in env.items():
            if key.upper().startswith(marker):
                path = [part for part in key[len(marker) :].split("__") if part]
                if path:
                    _assign(data, path, value)
        return cls.model_validate(data)


def _deep_copy(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in data.items()}


def _assign(data: dict[str, Any], path: list[str], value: str) -> None:
    node = data
    for part in path[:-1]:
        key = _match_key(node, part)
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[_match_key(node, path[-1])] = value


def _match_key(node: dict[str, Any], part: str) -> str:
    """Environment variables are upper case; reuse an existing key that matches case-insensitively."""
    for key in node:
        if key.lower() == part.lower():
            return key
    # Field names are lower case; payer ids keep the case given in the variable.
    return part.lower() if part.lower() in _FIELD_NAMES else part


_FIELD_NAMES = {
    name
    for model in (
        ClearinghouseSettings,
        SftpEndpoint,
        CoreEndpoint,
        TlsSettings,
        RetrySettings,
        BreakerSettings,
        PayerRoute,
    )
    for name in model.model_fields
}
