"""A sandbox restarted on the same state directory carries on: no upload read twice, no answer lost,
and the payers remember what they adjudicated."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from rcm.clearinghouse import CoreRealtimeClient, SftpBatchClient, batch_file_name
from rcm.clearinghouse.x12sniff import segments_of
from rcm.sandbox import Sandbox, start_sandbox
from rcm.sandbox.engine.model import Claim
from rcm.sandbox.testing import claim, eventually, line, recent, sandbox_config, settings_for
from rcm.sandbox.x12io import Interchange, build_276, build_837p

pytestmark = pytest.mark.unit


def kinds(outbound: Path) -> list[str]:
    return sorted(p.name.split("_")[0] for p in outbound.iterdir() if not p.name.startswith("."))


async def test_a_restart_reads_no_upload_twice_and_delivers_the_remit_that_was_waiting(
    tmp_path: Path,
) -> None:
    config = sandbox_config(tmp_path, remit_delay_seconds=3)
    interchange = Interchange("PRACTICE01", "SANDBOXCH", 401)
    name = batch_file_name(submitter_id="PRACTICE01", control_number=401, created_at=interchange.when)
    sent = claim("PCN-RESTART", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])

    async with start_sandbox(config) as first:
        settings = settings_for(first)
        assert settings.sftp is not None
        async with SftpBatchClient(settings.sftp) as client:
            await client.upload(build_837p([sent], interchange=interchange).encode(), name=name)

        async def acknowledged() -> bool:
            return len(first.delivered.get("practice01", [])) >= 2

        await eventually(acknowledged)
        outbound = first.outbound_dir("practice01")
        pending = first.pending_dir("practice01")
    assert kinds(outbound) == ["277CA", "999"]
    assert [p.name.split("-", 1)[1][:4] for p in pending.iterdir()] == ["835_"]

    async with start_sandbox(config) as second:

        async def remitted() -> bool:
            return bool(second.delivered.get("practice01"))

        await eventually(remitted)
        assert second.scan_inbound() == 0  # the upload was read by the first run
        delivered: Sandbox = second
    assert [n.split("_")[0] for n in delivered.delivered["practice01"]] == ["835"]
    assert kinds(outbound) == ["277CA", "835", "999"] and not list(pending.iterdir())
    remit = next(p for p in outbound.iterdir() if p.name.startswith("835_")).read_text()
    assert "CLP*PCN-RESTART*1*" in remit


async def upload(sb: Sandbox, claims: list[Claim], control: int) -> None:
    """Send one batch over SFTP and wait until the payer has answered it (999, 277CA and 835)."""
    settings = settings_for(sb)
    assert settings.sftp is not None
    interchange = Interchange("PRACTICE01", "SANDBOXCH", control)
    name = batch_file_name(submitter_id="PRACTICE01", control_number=control, created_at=interchange.when)
    before = len(sb.delivered.get("practice01", []))
    async with SftpBatchClient(settings.sftp) as client:
        await client.upload(build_837p(claims, interchange=interchange).encode(), name=name)

    async def answered() -> bool:
        return len(sb.delivered.get("practice01", [])) >= before + 3

    await eventually(answered)


def latest(sb: Sandbox, kind: str) -> list[list[str]]:
    """The segments (id first) of the last file of a kind delivered to the practice."""
    name = [n for n in sb.delivered["practice01"] if n.startswith(f"{kind}_")][-1]
    content = (sb.outbound_dir("practice01") / name).read_text()
    return [[s.id, *s.elements] for s in segments_of(content)]


async def claim_status(sb: Sandbox, claim_id: str, charge: str) -> list[str]:
    """The STC of the 277 answering a 276 for one claim of member EVG100000001."""
    request = build_276(
        payer_id="EVRGRN",
        member_id="EVG100000001",
        claim_id=claim_id,
        charge=Decimal(charge),
        service_date=recent(),
        interchange=Interchange("PRACTICE01", "SANDBOXCH", 900),
    )
    async with CoreRealtimeClient(settings_for(sb)) as client:
        response = await client.claim_status("EVRGRN", request)
    (stc,) = [s.elements for s in segments_of(response.payload) if s.id == "STC"]
    return stc


async def test_the_payer_remembers_its_claims_across_restarts_for_corrections_voids_and_276s(
    tmp_path: Path,
) -> None:
    config = sandbox_config(tmp_path, remit_delay_seconds=0.1)
    original = claim("PCN-KEEP", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])

    async with start_sandbox(config) as first:
        await upload(first, [original], 501)
        (icn,) = first.office.adjudications
        assert ["REF", "1K", icn] in latest(first, "277CA")

    async with start_sandbox(config) as second:
        # a 276 for a claim adjudicated before the restart: found, paid 70 of 120 under its ICN
        stc = await claim_status(second, "PCN-KEEP", "120.00")
        assert stc[0] == "F1:65" and Decimal(stc[3]) == 120 and Decimal(stc[4]) == 70

        # the same original sent again is still a duplicate
        await upload(second, [original], 502)
        assert [s[2] for s in latest(second, "835") if s[0] == "CLP"] == ["4"]
        assert any(s[:3] == ["CAS", "OA", "18"] for s in latest(second, "835"))

        corrected = claim(
            "PCN-KEEP",
            "EVG100000001",
            "EVRGRN",
            [line(1, "90837", "180.00")],
            frequency_code="7",
            original_icn=icn,
        )
        await upload(second, [corrected], 503)
        claim_stc = [s for s in latest(second, "277CA") if s[0] == "STC"][-1]
        assert claim_stc[1].startswith("A2:20")  # accepted, not A7:464 (original not found)
        clps = [s for s in latest(second, "835") if s[0] == "CLP"]
        assert [c[2] for c in clps] == ["22", "1"] and clps[0][7] == icn
        assert Decimal(clps[0][4]) == Decimal("-70") and Decimal(clps[1][4]) == Decimal("105")
        (new_icn,) = second.office.adjudications
        assert new_icn != icn

    async with start_sandbox(config) as third:
        stc = await claim_status(third, "PCN-KEEP", "180.00")
        assert stc[0] == "F1:65" and Decimal(stc[4]) == 105
        void = claim(
            "PCN-KEEP",
            "EVG100000001",
            "EVRGRN",
            [line(1, "90837", "180.00")],
            frequency_code="8",
            original_icn=new_icn,
        )
        await upload(third, [void], 504)
        clps = [s for s in latest(third, "835") if s[0] == "CLP"]
        assert [(c[2], c[7]) for c in clps] == [("22", new_icn)] and Decimal(clps[0][4]) == Decimal("-105")
        assert not third.office.adjudications
        assert (await claim_status(third, "PCN-KEEP", "180.00"))[0] == "A4:35"  # voided: no claim on file


async def test_a_restarted_payer_numbers_on_without_reusing_a_claim_number_or_a_file_name(
    tmp_path: Path,
) -> None:
    config = sandbox_config(tmp_path, remit_delay_seconds=0.1)
    async with start_sandbox(config) as first:
        await upload(first, [claim("PCN-A", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])], 601)
        names = set(first.delivered["practice01"])
        icns = set(first.office.adjudications)
    async with start_sandbox(config) as second:
        await upload(second, [claim("PCN-B", "EVG100000003", "EVRGRN", [line(1, "90834", "120.00")])], 602)
        assert not names & set(second.delivered["practice01"])
        assert len(icns | set(second.office.adjudications)) == 2
