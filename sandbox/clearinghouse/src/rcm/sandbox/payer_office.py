"""The stateful payer side of the sandbox: reads 837 batches, 270s and 276s, keeps what each payer
has adjudicated, and writes the answers (999, 277CA, 835, 271, 277) as deliveries.

The rules themselves are the pure functions of ``rcm.sandbox.engine``; this module only
keeps state (accumulators, duplicates, adjudicated claims, control numbers) and applies
the configured faults (duplicate and malformed files, reversals, recoupments). The state is
kept in memory and written through to ``PayerRecords`` (committed once per batch), from which
a restarted office starts where the last one stopped.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from rcm.sandbox.engine.adjudication import (
    Accumulators,
    adjudicate,
    adjudicate_secondary,
    claim_fingerprint,
    reverse,
)
from rcm.sandbox.engine.eligibility import answer_eligibility
from rcm.sandbox.engine.model import Adjustment, Claim, ClaimAdjudication, LineAdjudication
from rcm.sandbox.faults import Faults
from rcm.sandbox.payers import Payer, PayerBook
from rcm.sandbox.records import PayerRecords
from rcm.sandbox.x12io import (
    ClaimAck,
    Interchange,
    ProviderAdjustment,
    acknowledge_batch,
    read_270,
    read_276,
    read_837p,
    write_271,
    write_277,
    write_277ca,
    write_835,
)
from rcm.x12.errors import X12Error
from rcm.x12.reader import read

__all__ = ["Delivery", "PayerOffice"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Delivery:
    """A file for a submitter's outbound directory, due ``delay`` seconds from now."""

    name: str
    content: str
    delay: float = 0.0


class PayerOffice:
    """The payers' side of the exchange; ``records`` (in memory when not given) is what it remembers."""

    def __init__(
        self,
        book: PayerBook,
        faults: Faults,
        *,
        clearinghouse_id: str,
        remit_delay: float,
        records: PayerRecords | None = None,
    ) -> None:
        self.book = book
        self.faults = faults
        self.clearinghouse_id = clearinghouse_id
        self.remit_delay = remit_delay
        self.records = records if records is not None else PayerRecords()
        self._next_control = self.records.counter("control", 1)
        self._next_icn = self.records.counter("icn", 1)
        self._accumulators: dict[tuple[str, str], Accumulators] = self.records.accumulators()
        self._fingerprints: set[str] = self.records.fingerprints()
        #: The open adjudication of every claim by ICN (the latest one when re-adjudicated);
        #: replaced and voided claims leave it.
        self.adjudications: dict[str, ClaimAdjudication] = {}
        self._by_claim_id: dict[tuple[str, str], str] = {}
        for record in self.records.claims():
            self._by_claim_id[(record.payer_id, record.claim_id)] = record.icn
            if record.state == "open":
                self.adjudications[record.icn] = record.adjudication

    # ------------------------------------------------------------------ helpers

    def _interchange(self, receiver: str) -> Interchange:
        control, self._next_control = self._next_control, self._next_control + 1
        return Interchange(self.clearinghouse_id, receiver or "SUBMITTER", control, when=datetime.now())

    def _name(self, kind: str, payer_id: str, interchange: Interchange, suffix: str = "") -> str:
        stamp = interchange.when.strftime("%Y%m%dT%H%M%S")
        return f"{kind}_{payer_id}_{stamp}_{interchange.control_number:09d}{suffix}.{kind.lower()}"

    def _new_icn(self, payer: Payer) -> str:
        number, self._next_icn = self._next_icn, self._next_icn + 1
        return f"{payer.icn_prefix}{date.today():%y%j}{number:07d}"

    def _commit(self) -> None:
        """Make what the office decided so far survive a restart (numbering included)."""
        self.records.set_counter("control", self._next_control)
        self.records.set_counter("icn", self._next_icn)
        self.records.commit()

    # ------------------------------------------------------------------ 837 batches

    def receive_batch(self, text: str, *, received: date | None = None) -> list[Delivery]:
        """Everything a batch produces: a 999 (or a TA1) and a 277CA at once, an 835 after the remit delay.

        Only the transaction sets the 999 accepted are adjudicated. What the payers decided is
        committed to the records before the answers are returned.
        """
        received = received or date.today()
        try:
            result = read(text)
            submitter = result.interchanges[0].sender_id if result.interchanges else ""
            ack_interchange = self._interchange(submitter)
            ack = acknowledge_batch(
                result, control_number=ack_interchange.control_number, now=ack_interchange.when
            )
            claims = read_837p(result, accepted=ack.accepted, received=received)
        except X12Error as exc:
            log.warning("unreadable batch: %s", type(exc).__name__)
            return []
        deliveries = [Delivery(self._name(ack.kind, "ALL", ack_interchange), ack.content)]
        by_payer: dict[str, list[Claim]] = defaultdict(list)
        for claim in claims:
            by_payer[claim.payer_id].append(claim)
        for payer_id, payer_claims in by_payer.items():
            deliveries += self._adjudicate_batch(payer_id, payer_claims, submitter)
        if self.faults.take("malformed_files"):
            bad = self._interchange(submitter)
            deliveries.append(
                Delivery(self._name("835", "BAD", bad), "THIS IS NOT AN X12 FILE\n", self.remit_delay)
            )
        self._commit()
        return deliveries

    def _adjudicate_batch(self, payer_id: str, claims: list[Claim], submitter: str) -> list[Delivery]:
        payer = self.book.payer(payer_id)
        acks: list[ClaimAck] = []
        results: list[ClaimAdjudication] = []
        if payer is None:
            acks = [ClaimAck(c, accepted=False, status="A3:116") for c in claims]  # 116: payer not on file
            interchange = self._interchange(submitter)
            content = write_277ca(
                acks,
                payer_id=payer_id,
                payer_name="UNKNOWN PAYER",
                submitter_id=submitter,
                interchange=interchange,
            )
            return [Delivery(self._name("277CA", payer_id or "UNKNOWN", interchange), content)]
        for claim in claims:
            if claim.lines and claim.total_charge != sum(line.charge for line in claim.lines):
                # CLM02 is not the sum of the lines' SV102: the 837P's balancing rule (SNIP 3)
                acks.append(ClaimAck(claim, accepted=False, status="A7:400"))  # claim is out of balance
                continue
            if payer.member(claim.member_id) is None:
                acks.append(ClaimAck(claim, accepted=False, status="A3:33"))  # subscriber not found
                continue
            if claim.frequency_code == "8":
                original = self.adjudications.get(claim.original_icn or "")
                if original is None:
                    acks.append(ClaimAck(claim, accepted=False, status="A7:464"))  # original claim not found
                    continue
                acks.append(ClaimAck(claim, accepted=True, icn=original.icn))
                results.append(reverse(original))
                del self.adjudications[original.icn]
                self.records.close_claim(original.icn, "voided")
                continue
            icn = self._new_icn(payer)
            acks.append(ClaimAck(claim, accepted=True, icn=icn))
            if claim.frequency_code == "7":
                original = self.adjudications.pop(claim.original_icn or "", None)
                if original is not None:
                    results.append(reverse(original))
                    self.records.close_claim(original.icn, "replaced")
            results.append(self._adjudicate_claim(claim, payer, icn))
        interchange = self._interchange(submitter)
        deliveries = [
            Delivery(
                self._name("277CA", payer.id, interchange),
                write_277ca(
                    acks,
                    payer_id=payer.id,
                    payer_name=payer.name,
                    submitter_id=submitter,
                    interchange=interchange,
                ),
            )
        ]
        if results:
            deliveries += self._remits(payer, results, submitter)
        return deliveries

    def _adjudicate_claim(self, claim: Claim, payer: Payer, icn: str) -> ClaimAdjudication:
        if claim.responsibility in ("S", "T"):
            result = adjudicate_secondary(claim, payer, icn=icn)
        else:
            key = (payer.id, claim.member_id)
            fingerprint = claim_fingerprint(claim)
            duplicate = claim.frequency_code == "1" and fingerprint in self._fingerprints
            result, acc = adjudicate(
                claim, payer, icn=icn, accumulators=self._accumulators.get(key), duplicate=duplicate
            )
            if not duplicate:
                self._accumulators[key] = acc
                self._fingerprints.add(fingerprint)
                self.records.save_accumulators(payer.id, claim.member_id, acc)
                self.records.add_fingerprint(fingerprint)
        if result.status != "4" or not any(a.reason == "18" for ln in result.lines for a in ln.adjustments):
            self.adjudications[icn] = result
            self._by_claim_id[(payer.id, claim.claim_id)] = icn
            self.records.save_claim(result)
        return result

    def _remits(self, payer: Payer, results: list[ClaimAdjudication], submitter: str) -> list[Delivery]:
        delay = payer.remit_delay_seconds if payer.remit_delay_seconds is not None else self.remit_delay
        deliveries: list[Delivery] = []
        by_payee: dict[str, list[ClaimAdjudication]] = defaultdict(list)
        for result in results:
            by_payee[result.claim.billing_npi].append(result)
        for npi, payee_results in by_payee.items():
            deliveries += self._remit(payer, payee_results, npi, submitter, delay)
            paid = [r for r in payee_results if r.status != "22" and r.paid > 0]
            if paid and self.faults.reversal:
                later = []
                for original in paid:
                    later.append(reverse(original))
                    later.append(self._readjudicate(original, self.faults.reversal_paid_factor))
                deliveries += self._remit(payer, later, npi, submitter, delay * 2 + 0.1)
            if paid and self.faults.recoupment:
                plb = []
                for original in paid:
                    plb.append(ProviderAdjustment("WO", original.icn, original.paid))
                    plb.append(ProviderAdjustment("FB", original.icn, -original.paid))
                deliveries += self._remit(payer, [], npi, submitter, delay * 2 + 0.2, adjustments=plb)
        return deliveries

    def _readjudicate(self, original: ClaimAdjudication, factor: Decimal) -> ClaimAdjudication:
        lines = []
        for entry in original.lines:
            paid = (entry.paid * factor).quantize(Decimal("0.01"))
            reduced = entry.paid - paid
            adjustments = list(entry.adjustments)
            if reduced > 0:
                adjustments.append(Adjustment("CO", "45", reduced))
            lines.append(
                LineAdjudication(entry.line, entry.allowed - reduced, paid, adjustments, list(entry.remarks))
            )
        result = ClaimAdjudication(original.claim, original.icn, original.status, lines)
        self.adjudications[original.icn] = result
        self.records.save_claim(result)
        return result

    def _remit(
        self,
        payer: Payer,
        results: list[ClaimAdjudication],
        npi: str,
        submitter: str,
        delay: float,
        *,
        adjustments: list[ProviderAdjustment] | None = None,
    ) -> list[Delivery]:
        interchange = self._interchange(submitter)
        payee_name = results[0].claim.billing_name if results else "PAYEE"
        content = write_835(
            results,
            payer_id=payer.id,
            payer_name=payer.name,
            payee_npi=npi,
            payee_name=payee_name,
            claim_id_max_length=payer.claim_id_max_length,
            interchange=interchange,
            check_number=f"EFT{interchange.control_number:09d}",
            adjustments=adjustments or [],
        )
        name = self._name("835", payer.id, interchange)
        deliveries = [Delivery(name, content, delay)]
        if self.faults.duplicate_remits:
            deliveries.append(
                Delivery(self._name("835", payer.id, interchange, "_COPY"), content, delay + 0.05)
            )
        return deliveries

    # ------------------------------------------------------------------ real time

    def answer_realtime(self, text: str) -> tuple[str, str]:
        """The answer to a CORE request as (kind, X12): ("271", ...) to a 270, ("277", ...) to a 276,
        or the ("999" / "TA1", ...) rejecting a request with X12 errors (X12Error: no interchange at all)."""
        result = read(text)
        kinds = {tx.id for tx in result.transactions}
        if not result.errors and kinds == {"270"}:
            return "271", self.answer_270(text)
        if not result.errors and kinds == {"276"}:
            return "277", self.answer_276(text)
        interchange = self._interchange(result.interchanges[0].sender_id if result.interchanges else "")
        ack = acknowledge_batch(result, control_number=interchange.control_number, now=interchange.when)
        return ack.kind, ack.content

    def answer_270(self, text: str) -> str:
        inquiry = read_270(text)
        interchange = self._interchange(inquiry.provider_npi)
        payer = self.book.payer(inquiry.payer_id)
        if payer is None:
            return write_271(
                inquiry, payer_name="UNKNOWN", interchange=interchange, source_rejects=[("T4", "N")]
            )
        if self.faults.take("aaa_unable_to_respond"):
            return write_271(
                inquiry, payer_name=payer.name, interchange=interchange, source_rejects=[("42", "R")]
            )
        acc = self._accumulators.get((payer.id, inquiry.member_id))
        answer = answer_eligibility(
            payer,
            member_id=inquiry.member_id,
            first_name=inquiry.first_name,
            last_name=inquiry.last_name,
            birth_date=inquiry.birth_date,
            service_types=inquiry.service_types,
            service_date=inquiry.service_date,
            deductible_met=acc.deductible_met if acc else None,
            visits_used=acc.visits_used if acc else None,
        )
        member = answer.member
        if member is None:
            return write_271(inquiry, payer_name=payer.name, interchange=interchange, rejects=answer.rejects)
        plan = payer.plan(member.plan)
        return write_271(
            inquiry,
            payer_name=payer.name,
            interchange=interchange,
            benefits=answer.benefits,
            member=(member.last_name, member.first_name, member.birth_date, member.gender),
            plan_dates=(member.coverage_start, member.coverage_end),
            group_number=plan.group_number,
        )

    def answer_276(self, text: str) -> str:
        inquiry = read_276(text)
        interchange = self._interchange("PROVIDER")
        payer = self.book.payer(inquiry.payer_id)
        icn = inquiry.icn or self._by_claim_id.get((inquiry.payer_id, inquiry.claim_id))
        result = self.adjudications.get(icn or "")
        if payer is None or result is None:
            return write_277(
                inquiry,
                payer_name=payer.name if payer else "UNKNOWN",
                interchange=interchange,
                status="A4:35",
                charge=None,
                paid=None,
                icn=None,
                service_date=None,
            )
        status = "F2:88" if result.status == "4" else "F1:65"
        return write_277(
            inquiry,
            payer_name=payer.name,
            interchange=interchange,
            status=status,
            charge=result.charge,
            paid=result.paid,
            icn=result.icn,
            service_date=result.claim.first_service_date,
        )
