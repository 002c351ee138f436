"""Every X12 file the sandbox reads or writes, through the typed models and builder of ``rcm.x12``.

One module per transaction, like ``rcm.x12.models``; each maps between the x12 models and
the engine's own values (``rcm.sandbox.engine.model``) and nothing else.
"""

from rcm.sandbox.x12io.ack_277ca import ClaimAck, write_277ca
from rcm.sandbox.x12io.ack_999 import BatchAck, acknowledge_batch
from rcm.sandbox.x12io.claim_837p import build_837p, read_837p
from rcm.sandbox.x12io.claim_status import StatusInquiry, build_276, read_276, write_277
from rcm.sandbox.x12io.eligibility import EligibilityInquiry, build_270, read_270, write_271
from rcm.sandbox.x12io.envelope import Interchange
from rcm.sandbox.x12io.remit_835 import ProviderAdjustment, write_835

__all__ = [
    "BatchAck",
    "ClaimAck",
    "EligibilityInquiry",
    "Interchange",
    "ProviderAdjustment",
    "StatusInquiry",
    "acknowledge_batch",
    "build_270",
    "build_276",
    "build_837p",
    "read_270",
    "read_276",
    "read_837p",
    "write_271",
    "write_277",
    "write_277ca",
    "write_835",
]
