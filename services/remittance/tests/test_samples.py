"""The public 835 samples (tests/data, see SOURCES.md) post where they match a claims fixture, and
what cannot post is held and reported, never posted silently."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from rcm.events.models import ClaimCreated
from rcm.remittance import store as t
from rcm.remittance.remit_file import read_remit_file
from rcm.remittance.testing import Ledger, claim_for

DATA = Path(__file__).parent / "data"
D = Decimal

SAMPLES = {
    "demo": "LinuxForHealth-x12__demo-file_demo.835",
    "managed_care": "LinuxForHealth-x12__835_005010X221A1_managed-care.835",
    "cob": "LinuxForHealth-x12__835_005010X221A1_cob-contractural-adjustment.835",
    "secondary": "LinuxForHealth-x12__835_005010X221A1_secondary-payment.835",
    "tertiary": "LinuxForHealth-x12__835_005010X221A1_tertiary-payment.835",
    "bad_envelope": "albmarin-badX12__errors_error_validation.edi",
    "no_interchange": "keironstoddart-edi-835-parser__test_edi_835_files_blue_cross_nc_sample.txt",
    "denial": "azoner-pyx12__835_mult_loops.txt",
    "emedny": "keironstoddart-edi-835-parser__test_edi_835_files_emedny_sample.txt",
    "uhc": "keironstoddart-edi-835-parser__test_edi_835_files_united_healthcare_legacy_sample.txt",
}


def claims_fixture() -> list[ClaimCreated]:
    """Our claims for the samples' CLP01s: the billed lines, with our own line keys unless the
    payer echoes REF*6R (then the echoed key is ours)."""
    claims: list[ClaimCreated] = []
    seen: set[str] = set()
    for name in ("demo", "managed_care", "denial", "uhc", "secondary", "tertiary"):
        for payment in read_remit_file((DATA / SAMPLES[name]).read_bytes()).payments:
            for remit in payment.claims:
                if remit.patient_control_number in seen:
                    continue
                seen.add(remit.patient_control_number)
                pcn = remit.patient_control_number
                lines = [
                    (s.line_key or f"{pcn}:{i}", s.procedure_code, f"{s.charge:.2f}")
                    for i, s in enumerate(remit.services, 1)
                ] or [(f"{pcn}:1", "90837", f"{remit.charge:.2f}")]
                on = next((s.service_date for s in remit.services if s.service_date), date(2025, 3, 3))
                claims.append(claim_for(len(claims) + 1, claim_id=pcn, lines=lines, on=on))
    return claims


def test_every_sample_in_the_folder_is_posted_by_the_test() -> None:
    assert set(SAMPLES.values()) == {p.name for p in DATA.iterdir() if p.name != "SOURCES.md"}


async def test_the_samples_post_where_they_match_claims(ledger: Ledger) -> None:
    await ledger.add_claims(claims_fixture())
    outcomes = {
        name: await ledger.post((DATA / file).read_bytes(), name=file) for name, file in SAMPLES.items()
    }

    # demo: two claims paid; the check total balances only with the PLB, which names no claim
    assert outcomes["demo"].outcome.states == {"posted": 2}
    assert (await ledger.claim("666123")).paid == D("138018.40")
    (plb,) = await ledger.rows(t.provider_adjustment)
    assert (plb.reason, plb.amount, plb.claim_id) == ("CV", D("-1.27"), None)

    # managed care: BPR16 is not a date; reported, and the payment still posts
    assert outcomes["managed_care"].outcome.states == {"posted": 2}
    assert outcomes["managed_care"].outcome.exceptions == ["invalid_payment_date"]
    deductible = await ledger.claim("5554555444")
    assert (deductible.paid, deductible.patient_responsibility) == (D("450.00"), D("300.00"))

    # cob: SVC01 uses a component separator the ISA does not declare: its one claim payment is
    # held whole (its CLP04 still balances BPR02), nothing posted
    assert outcomes["cob"].outcome.states == {"held": 1}
    assert outcomes["cob"].outcome.exceptions == ["unreadable_claim"]

    # secondary (CLP02 2) writes SVC01 with '>' too, tertiary (CLP02 3) has an SVC01 without a code:
    # each such claim payment is held whole; the secondary's first claim payment, which can be read,
    # posts (the payment balances with the held one's CLP04)
    assert outcomes["secondary"].outcome.states == {"posted": 1, "held": 1}
    assert outcomes["tertiary"].outcome.states == {"held": 1}
    for name in ("secondary", "tertiary"):
        assert outcomes[name].outcome.exceptions == ["unreadable_claim"], name
    assert [e.claim_id for e in outcomes["secondary"].of("PaymentPosted")] == ["L0004828311"]
    assert (await ledger.claim("L0004828311")).paid == D("912.00")

    # error_validation: managed-care's claim payments under another trace, in a broken envelope.
    # The envelope is reported; neither claim payment is posted again, although the second
    # carries another payer claim number (one zero fewer): same claim, same money, no reversal
    bad = outcomes["bad_envelope"].outcome
    assert bad.states == {"duplicate": 2}
    assert bad.exceptions.count("invalid_envelope") == 8  # its GS01 and its GS04 (20080543) too
    assert bad.exceptions.count("duplicate_claim_payment") == 2
    assert outcomes["bad_envelope"].events == []
    assert (await ledger.claim("5554555444")).paid == D("450.00")
    assert (await ledger.claim("8765432112")).paid == D("495.00")

    # blue_cross_nc: a bare ST..SE without ISA is not an interchange; reported, nothing posted
    bare = outcomes["no_interchange"].outcome
    assert (bare.states, bare.exceptions) == ({}, ["invalid_envelope", "not_835"])

    # mult_loops: a denial; CO-16 stays open for the denials service, RARC N14 travels on
    assert outcomes["denial"].outcome.states == {"posted": 1}
    denied = await ledger.claim("2005555A")
    assert (denied.paid, denied.denied, denied.other) == (D("0"), D("500.04"), D("415.35"))
    (remit,) = outcomes["denial"].of("RemitReceived")
    assert remit.status == "4" and all(line.rarcs == ["N14"] for line in remit.lines)

    # emedny: CLP01 is not one of our claims; three claim payments wait in the queue
    assert outcomes["emedny"].outcome.states == {"unmatched": 3}
    assert len(outcomes["emedny"].of("RemitUnmatched")) == 3

    # UHC: REF*6R names our lines; PR-1 and PR-2 become the patient's
    assert outcomes["uhc"].outcome.states == {"posted": 2}
    lines = {
        r.line_key: r for r in await ledger.rows(t.posted_line, t.posted_line.c.claim_id == "001-18604-358")
    }
    assert set(lines) == {"123456789012", "123456789013", "123456789014"}
    assert lines["123456789014"].patient_responsibility == D("115.13")  # PR-2 5.13 and PR-1 110 on one CAS
    changes = [(e.claim_id, e.change) for e in outcomes["uhc"].of("PatientBalanceChanged")]
    assert changes == [("001-18573-358", D("105.26")), ("001-18604-358", D("115.13"))]

    files = {r.name: r.status for r in await ledger.rows(t.remit_file)}
    flagged = {
        SAMPLES[n] for n in ("managed_care", "cob", "secondary", "tertiary", "bad_envelope", "no_interchange")
    }
    assert {name for name, status in files.items() if status == "flagged"} == flagged
    assert len(files) == len(SAMPLES)


def test_a_service_line_without_svc05_paid_one_unit() -> None:
    # SVC*HC:99211*800.00*500.00: the guide reads an absent SVC05 as one unit
    (payment,) = read_remit_file((DATA / SAMPLES["managed_care"]).read_bytes()).payments
    units = [s.units for remit in payment.claims for s in remit.services]
    assert units and all(u == D(1) for u in units)
