"""Transports to payers: SFTP batch and CAQH CORE real-time HTTP, with retry policies.

- ``SftpBatchClient``: upload 837 batches, download 999 / 277CA / 835 once each.
- ``CoreRealtimeClient``: 270/271 and 276/277 over CORE (MIME multipart or SOAP 1.2).
- ``call_with_retry`` and ``CircuitBreaker``: the one retry helper, per payer.
- ``ClearinghouseSettings``: endpoints, credentials (``SecretStr``) and policies.
- ``ClearinghouseMetrics``: breaker state and transitions, on the registry a service passes in.
"""

from rcm.clearinghouse.aaa import AaaReject, check_aaa, find_rejects
from rcm.clearinghouse.config import (
    BreakerSettings,
    ClearinghouseSettings,
    CoreEndpoint,
    PayerRoute,
    RetrySettings,
    SftpEndpoint,
    TlsSettings,
)
from rcm.clearinghouse.core import CoreRealtimeClient, CoreResponse
from rcm.clearinghouse.envelope import CoreErrorCode, CoreMessage, PayloadType
from rcm.clearinghouse.errors import (
    AuthenticationFailed,
    CircuitOpen,
    ConnectionLost,
    CoreEnvelopeError,
    MalformedFile,
    PayerTimeout,
    PayerUnavailable,
    RejectedFinal,
    RejectedPayload,
    RejectedRetryable,
    RemoteFileConflict,
    ResponseTooLarge,
    TransportError,
    UnreadablePayload,
)
from rcm.clearinghouse.ledger import FileLedger, LedgerEntry, MemoryFileLedger, SqliteFileLedger
from rcm.clearinghouse.metrics import ClearinghouseMetrics
from rcm.clearinghouse.retry import BreakerState, CircuitBreaker, CircuitBreakers, call_with_retry
from rcm.clearinghouse.sftp import (
    FailedHandOff,
    PollResult,
    ReceivedFile,
    SftpBatchClient,
    UploadReceipt,
    batch_file_name,
)

__all__ = [
    "AaaReject",
    "AuthenticationFailed",
    "BreakerSettings",
    "BreakerState",
    "CircuitBreaker",
    "CircuitBreakers",
    "CircuitOpen",
    "ClearinghouseMetrics",
    "ClearinghouseSettings",
    "ConnectionLost",
    "CoreEndpoint",
    "CoreEnvelopeError",
    "CoreErrorCode",
    "CoreMessage",
    "CoreRealtimeClient",
    "CoreResponse",
    "FailedHandOff",
    "FileLedger",
    "LedgerEntry",
    "MalformedFile",
    "MemoryFileLedger",
    "PayerRoute",
    "PayerTimeout",
    "PayerUnavailable",
    "PayloadType",
    "PollResult",
    "ReceivedFile",
    "RejectedFinal",
    "RejectedPayload",
    "RejectedRetryable",
    "RemoteFileConflict",
    "ResponseTooLarge",
    "RetrySettings",
    "SftpBatchClient",
    "SftpEndpoint",
    "SqliteFileLedger",
    "TlsSettings",
    "TransportError",
    "UnreadablePayload",
    "UploadReceipt",
    "batch_file_name",
    "call_with_retry",
    "check_aaa",
    "find_rejects",
]
