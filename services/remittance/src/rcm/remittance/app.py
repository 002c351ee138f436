"""The remittance service process: claims, payers, patient payments, next-payer and write-off requests consumer, 835
SFTP poller, outbox relay.

service = build_service(RemittanceSettings())
await service.run()      # `rcm remits run`
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from rcm.clearinghouse import ClearinghouseSettings
from rcm.events.catalog import topics_of
from rcm.remittance.handlers import handle_batch
from rcm.remittance.metrics import RemitMetrics
from rcm.remittance.rematching import rematcher
from rcm.remittance.sftp_polling import sftp_poller
from rcm.servicekit import Service, ServiceSettings, decode_event

__all__ = ["CLAIM_TOPICS", "CONSUMED_TOPICS", "MIGRATIONS", "RemittanceSettings", "build_service"]

MIGRATIONS = Path(__file__).parent / "migrations"
CLAIM_TOPICS = ["claim-created", "claim-submitted", "claim-acknowledged"]
CONSUMED_TOPICS = [
    *CLAIM_TOPICS,
    "payer-updated",
    "patient-payment-received",
    "secondary-claim-requested",
    "claim-write-off-requested",
]
EMITTED_TOPICS = ["remit-received", "payment-posted", "patient-balance-changed", "remit-unmatched"]


class RemittanceSettings(ServiceSettings):
    """``RCM_`` variables; the clearinghouse as ``RCM_CLEARINGHOUSE__SFTP__HOST`` and so on."""

    model_config = SettingsConfigDict(env_prefix="RCM_", env_nested_delimiter="__", extra="ignore")

    service_name: str = "remittance"
    clearinghouse: ClearinghouseSettings | None = Field(
        default=None,
        description="Where 835s are collected by SFTP; unset: upload only (`rcm remits import`).",
    )
    sftp_poll_interval_s: float = Field(60.0, description="Seconds between SFTP polls.")
    rematch_interval_s: float = Field(
        5.0, description="Seconds between attempts to post claim payments that arrived before their claim."
    )
    sftp_hold_after_failures: int = Field(
        3,
        ge=1,
        description="Consecutive polls a mailbox file may fail to post before it is held for a person "
        "(`rcm remits downloads`, `rcm remits retry-download`).",
    )
    control_number_cut_lengths: tuple[int, ...] = Field(
        (20,), description="Lengths payers cut the patient control number (CLP01) to."
    )
    payee_ids: tuple[str, ...] = Field(
        (),
        description="NPIs and tax ids the practice is paid under (835 N1*PE N104, REF*TJ); a payment "
        "to another payee is held, not posted. Empty: not checked.",
    )


def build_service(settings: RemittanceSettings, *, metrics: RemitMetrics | None = None) -> Service:
    service = Service(
        settings, migrations=MIGRATIONS, topics=topics_of("remittance", *CONSUMED_TOPICS, *EMITTED_TOPICS)
    )
    remit_metrics = metrics or RemitMetrics(service.metrics.registry)
    service.add_consumer(
        settings.service_name,
        topics=CONSUMED_TOPICS,
        handler=handle_batch,
        decode=decode_event,
        ordered_per_key=True,
    )
    service.add_task(
        rematcher(
            interval_s=settings.rematch_interval_s,
            metrics=remit_metrics,
            cut_lengths=settings.control_number_cut_lengths,
        )
    )
    clearinghouse = settings.clearinghouse
    if clearinghouse is not None and clearinghouse.sftp is not None:
        service.add_task(
            sftp_poller(
                clearinghouse.sftp,
                interval_s=settings.sftp_poll_interval_s,
                metrics=remit_metrics,
                cut_lengths=settings.control_number_cut_lengths,
                hold_after=settings.sftp_hold_after_failures,
                payee_ids=settings.payee_ids,
            )
        )
    return service
