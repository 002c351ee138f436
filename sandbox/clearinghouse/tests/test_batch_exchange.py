"""SFTP batch exchange against the running sandbox: 837 up, 999 / 277CA / 835 down."""

from __future__ import annotations

import asyncio
import os
from decimal import Decimal
from pathlib import Path

import asyncssh
import pytest

from rcm.clearinghouse import (
    BreakerSettings,
    BreakerState,
    CircuitBreaker,
    CircuitOpen,
    ConnectionLost,
    MalformedFile,
    PayerTimeout,
    ReceivedFile,
    RemoteFileConflict,
    RetrySettings,
    SftpBatchClient,
    SqliteFileLedger,
    batch_file_name,
)
from rcm.clearinghouse.x12sniff import segments_of
from rcm.sandbox import Sandbox, start_sandbox
from rcm.sandbox.testing import claim, eventually, line, sandbox_config, settings_for
from rcm.sandbox.x12io import Interchange, build_837p

pytestmark = pytest.mark.unit


def batch(control: int, claims: list) -> tuple[str, bytes]:
    interchange = Interchange("PRACTICE01", "SANDBOXCH", control)
    name = batch_file_name(submitter_id="PRACTICE01", control_number=control, created_at=interchange.when)
    return name, build_837p(claims, interchange=interchange).encode()


async def collect(client: SftpBatchClient, kinds: dict[str, int]) -> dict[str, list[ReceivedFile]]:
    got: dict[str, list[ReceivedFile]] = {}

    async def done() -> bool:
        result = await client.poll()
        for f in result.files:
            got.setdefault(f.kind, []).append(f)
        return all(len(got.get(k, [])) >= n for k, n in kinds.items())

    await eventually(done)
    return got


def segs(f: ReceivedFile, sid: str) -> list[list[str]]:
    return [s.elements for s in segments_of(f.text) if s.id == sid]


async def test_a_batch_comes_back_as_999_277ca_and_835_matching_the_claims(sandbox: Sandbox) -> None:
    long_id = "PCN-2024-000000000123456"  # 24 characters: this payer cuts CLP01 to 20
    claims = [
        claim(long_id, "EVG100000001", "EVRGRN", [line(1, "90837", "180.00", modifiers=("95",), pos="10")]),
        claim("PCN-TERMED-1", "EVG100000003", "EVRGRN", [line(1, "90834", "120.00")]),
    ]
    name, content = batch(101, claims)
    settings = settings_for(sandbox)
    assert settings.sftp is not None
    async with SftpBatchClient(settings.sftp) as client:
        receipt = await client.upload(content, name=name)
        assert not receipt.already_present
        assert name in await client.list_inbound()
        got = await collect(client, {"999": 1, "277CA": 1, "835": 1})

    (ack,) = segs(got["999"][0], "AK9")
    assert ack[0] == "A"
    assert [e[0] for e in segs(got["999"][0], "IK5")] == ["A"]
    trns = [e[1] for e in segs(got["277CA"][0], "TRN") if e[0] == "2"]
    assert long_id in trns and "PCN-TERMED-1" in trns
    assert {e[0].split(":")[0] for e in segs(got["277CA"][0], "STC")} >= {"A2"}

    clps = {e[0]: e for e in segs(got["835"][0], "CLP")}
    assert set(clps) == {long_id[:20], "PCN-TERMED-1"}
    paid = clps[long_id[:20]]
    assert paid[1] == "1" and Decimal(paid[2]) == Decimal("180") and Decimal(paid[3]) == Decimal("105")
    assert Decimal(paid[4]) == Decimal("25")  # the copay
    assert [e for e in segs(got["835"][0], "REF") if e[0] == "EA"] == [["EA", long_id]]
    termed = clps["PCN-TERMED-1"]
    assert termed[1] == "4" and Decimal(termed[3]) == 0
    cas = segs(got["835"][0], "CAS")
    assert ["CO", "27", "120"] in cas
    assert ["PR", "3", "25"] in cas and ["CO", "45", "50"] in cas


async def test_uploading_the_same_file_again_sends_nothing(sandbox: Sandbox) -> None:
    name, content = batch(102, [claim("PCN-A", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])])
    settings = settings_for(sandbox)
    assert settings.sftp is not None
    async with SftpBatchClient(settings.sftp) as client:
        first = await client.upload(content, name=name)
    async with SftpBatchClient(settings.sftp) as client:  # a new process after a crash
        again = await client.upload(content, name=name)
    assert not first.already_present and again.already_present
    assert sorted(p.name for p in sandbox.inbound_dir("practice01").iterdir()) == [name]


async def test_a_file_delivered_twice_is_handed_on_once(sandbox: Sandbox, tmp_path) -> None:
    sandbox.faults.duplicate_remits = True
    name, content = batch(103, [claim("PCN-DUP", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])])
    settings = settings_for(sandbox)
    assert settings.sftp is not None
    ledger = SqliteFileLedger(tmp_path / "ledger.db")
    duplicates: list[str] = []
    async with SftpBatchClient(settings.sftp, ledger=ledger) as client:
        await client.upload(content, name=name)

        async def both_copies_seen() -> bool:
            result = await client.poll()
            duplicates.extend(result.duplicates)
            return len(sandbox.delivered.get("practice01", [])) >= 4 and not result.files

        await eventually(both_copies_seen)
    copies = [n for n in sandbox.delivered["practice01"] if n.startswith("835_")]
    assert len(copies) == 2
    assert len(duplicates) == 1
    assert await ledger.seen_name(
        duplicates[0], len((sandbox.outbound_dir("practice01") / duplicates[0]).read_bytes())
    )
    await ledger.close()


async def test_a_malformed_file_is_reported_once_as_a_typed_error(sandbox: Sandbox) -> None:
    sandbox.faults.malformed_files = 1
    name, content = batch(104, [claim("PCN-M", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])])
    settings = settings_for(sandbox)
    assert settings.sftp is not None
    errors: list[MalformedFile] = []
    async with SftpBatchClient(settings.sftp) as client:
        await client.upload(content, name=name)

        async def reported() -> bool:
            errors.extend((await client.poll()).malformed)
            return bool(errors)

        await eventually(reported)
        assert not (await client.poll()).malformed
    assert len(errors) == 1
    assert "BAD" in errors[0].file_name and len(errors[0].sha256) == 64


async def test_a_dropped_sftp_connection_is_reopened_and_the_upload_completes(sandbox: Sandbox) -> None:
    sandbox.faults.drop_sftp = 1
    name, content = batch(105, [claim("PCN-DROP", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])])
    settings = settings_for(sandbox)
    assert settings.sftp is not None
    async with SftpBatchClient(settings.sftp) as client:
        receipt = await client.upload(content, name=name)
        assert client.connections_opened == 2
        got = await collect(client, {"999": 1})
    assert receipt.size == len(content)
    assert (sandbox.inbound_dir("practice01") / name).read_bytes() == content
    assert got["999"]


def answers_in_outbound(sandbox: Sandbox, control: int, claim_id: str) -> list[str]:
    """Put the 999, 277CA and 835 of one batch straight into the mailbox; their names, sorted."""
    _, content = batch(control, [claim(claim_id, "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])])
    deliveries = sandbox.office.receive_batch(content.decode())
    for delivery in deliveries:
        sandbox.deliver_now("practice01", delivery.name, delivery.content)
    return sorted(d.name for d in deliveries)


async def test_a_poll_cut_by_a_dropped_connection_resumes_and_hands_each_file_on_once(
    sandbox: Sandbox,
) -> None:
    names = answers_in_outbound(sandbox, 106, "PCN-RESUME")
    assert len(names) == 3
    settings = settings_for(sandbox)
    assert settings.sftp is not None
    handed: list[str] = []

    async def handle(received: ReceivedFile) -> None:
        handed.append(received.name)
        if len(handed) == 1:
            sandbox.faults.drop_sftp = 1  # the next file's download loses the connection

    async with SftpBatchClient(settings.sftp) as client:
        result = await client.poll(handle=handle)
        assert client.connections_opened == 2 and sandbox.faults.drop_sftp == 0
        assert [f.name for f in result.files] == names and not result.failed
        assert not (await client.poll(handle=handle)).files
    assert handed == names


async def test_a_file_the_handler_fails_on_does_not_hold_up_the_others(sandbox: Sandbox) -> None:
    names = answers_in_outbound(sandbox, 107, "PCN-POISON")
    poison = names[0]
    settings = settings_for(sandbox)
    assert settings.sftp is not None
    handed: list[str] = []

    async def handle(received: ReceivedFile) -> None:
        if received.name == poison:
            raise RuntimeError("cannot store this one yet")
        handed.append(received.name)

    async with SftpBatchClient(settings.sftp) as client:
        first = await client.poll(handle=handle)
        assert handed == names[1:] and [f.name for f in first.files] == names[1:]
        (failed,) = first.failed
        assert failed.name == poison and isinstance(failed.error, RuntimeError) and len(failed.sha256) == 64
        again = await client.poll(handle=handle)  # offered again, and only it
        assert [f.name for f in again.failed] == [poison] and not again.files

        async def accept_all(received: ReceivedFile) -> None:
            handed.append(received.name)

        last = await client.poll(handle=accept_all)
    assert [f.name for f in last.files] == [poison] and not last.failed
    assert sorted(handed) == names


async def test_a_malformed_file_is_reported_again_when_its_poll_ends_in_a_transport_error(
    sandbox: Sandbox,
) -> None:
    sandbox.deliver_now("practice01", "000_BAD.835", "THIS IS NOT AN X12 FILE\n")
    names = answers_in_outbound(sandbox, 108, "PCN-LOST-REPORT")
    settings = settings_for(sandbox)
    assert settings.sftp is not None

    async def handle(received: ReceivedFile) -> None:
        sandbox.faults.drop_sftp = 100  # every later download drops the connection

    async with SftpBatchClient(settings.sftp) as client:
        with pytest.raises(ConnectionLost):
            await client.poll(handle=handle)
        sandbox.faults.drop_sftp = 0
        result = await client.poll()
        assert [m.file_name for m in result.malformed] == ["000_BAD.835"]
        assert [f.name for f in result.files] == names[1:]
        assert not (await client.poll()).malformed


async def test_an_upload_name_taken_by_other_content_is_a_conflict_not_an_overwrite(
    sandbox: Sandbox,
) -> None:
    name, content = batch(109, [claim("PCN-C1", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])])
    _, other = batch(109, [claim("PCN-C2", "EVG100000001", "EVRGRN", [line(1, "90837", "180.00")])])
    settings = settings_for(sandbox)
    assert settings.sftp is not None
    async with SftpBatchClient(settings.sftp) as client:
        await client.upload(content, name=name)
        with pytest.raises(RemoteFileConflict) as caught:
            await client.upload(other, name=name)
    assert not caught.value.retryable and name in str(caught.value)
    assert (sandbox.inbound_dir("practice01") / name).read_bytes() == content


async def test_faults_from_the_configuration_reach_the_submitter_as_835s_handed_on_once(
    tmp_path: Path,
) -> None:
    faults = {"reversal": True, "reversal_paid_factor": "0.5", "recoupment": True, "duplicate_remits": True}
    config = sandbox_config(tmp_path, faults=faults)
    name, content = batch(110, [claim("PCN-REV", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])])
    async with start_sandbox(config) as sb:
        settings = settings_for(sb)
        assert settings.sftp is not None
        async with SftpBatchClient(settings.sftp) as client:
            await client.upload(content, name=name)
            got = await collect(client, {"835": 3})
            await sb.pending_deliveries()
            assert not (await client.poll()).files  # the three copies are skipped
        copies = [n for n in sb.delivered["practice01"] if n.endswith("_COPY.835")]
    assert len(copies) == 3
    first, reversal, recoupment = sorted(got["835"], key=lambda f: f.name)
    assert [(e[1], Decimal(e[3])) for e in segs(first, "CLP")] == [("1", Decimal("70"))]
    assert [(e[1], Decimal(e[3])) for e in segs(reversal, "CLP")] == [
        ("22", Decimal("-70")),
        ("1", Decimal("35")),
    ]
    assert not segs(recoupment, "CLP")
    (plb,) = segs(recoupment, "PLB")
    assert plb[2].startswith("WO:") and Decimal(plb[3]) == 70 and Decimal(plb[5]) == -70


async def test_sftp_latency_within_the_timeout_slows_a_poll_without_failing_it(sandbox: Sandbox) -> None:
    names = answers_in_outbound(sandbox, 108, "PCN-SLOW")
    sandbox.faults.latency_seconds = 0.2
    settings = settings_for(sandbox)
    assert settings.sftp is not None
    loop = asyncio.get_running_loop()
    async with SftpBatchClient(settings.sftp) as client:
        started = loop.time()
        result = await client.poll()
        waited = loop.time() - started
        assert client.connections_opened == 1  # nothing timed out, nothing was retried
    assert sorted(f.name for f in result.files) == names
    assert waited >= 0.2 * (1 + len(names))  # the listing and every file open waited


async def test_sftp_latency_past_the_timeout_times_out_each_attempt_opens_the_breaker_and_the_client_recovers(
    sandbox: Sandbox,
) -> None:
    name, content = batch(109, [claim("PCN-LATE", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])])
    settings = settings_for(sandbox)
    assert settings.sftp is not None
    retry = RetrySettings(
        timeout_seconds=0.3, max_attempts=2, initial_backoff_seconds=0.01, max_backoff_seconds=0.05
    )
    endpoint = settings.sftp.model_copy(update={"retry": retry})
    breaker = CircuitBreaker("sftp", BreakerSettings(failure_threshold=2, cool_down_seconds=1.0))
    sandbox.faults.latency_seconds = 1.0
    loop = asyncio.get_running_loop()
    async with SftpBatchClient(endpoint, breaker=breaker) as client:
        started = loop.time()
        with pytest.raises(PayerTimeout):
            await client.upload(content, name=name)
        assert loop.time() - started < 1.5  # two attempts of 0.3 s, not two waits of 1 s
        assert breaker.state is BreakerState.OPEN and breaker.consecutive_failures == 2
        with pytest.raises(CircuitOpen):
            await client.upload(content, name=name)
        assert not (sandbox.inbound_dir("practice01") / name).exists()

        sandbox.faults.latency_seconds = 0
        await asyncio.sleep(1.0)  # the cool-down: the next call is the half-open probe
        receipt = await client.upload(content, name=name)
        assert breaker.state is BreakerState.CLOSED
    assert receipt.size == len(content) and not receipt.already_present
    assert (sandbox.inbound_dir("practice01") / name).read_bytes() == content


async def test_a_file_written_in_latin_1_is_handed_on_with_its_letters_not_reported_malformed(
    sandbox: Sandbox,
) -> None:
    _, content = batch(108, [claim("PCN-LATIN", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])])
    (remit,) = [d for d in sandbox.office.receive_batch(content.decode()) if d.name.startswith("835_")]
    assert "NM1*QC*1*" in remit.content
    # an older system writes the patient's name in Latin-1: one byte per accented letter
    latin = remit.content.replace("NM1*QC*1*", "NM1*QC*1*PE\u00d1A", 1).encode("latin-1")
    outbound = sandbox.outbound_dir("practice01")
    (outbound / ".LATIN.835.part").write_bytes(latin)
    (outbound / ".LATIN.835.part").replace(outbound / "LATIN.835")
    settings = settings_for(sandbox)
    assert settings.sftp is not None
    async with SftpBatchClient(settings.sftp) as client:
        result = await client.poll()
    assert not result.malformed
    (received,) = [f for f in result.files if f.name == "LATIN.835"]
    assert received.kind == "835" and "NM1*QC*1*PE\u00d1A" in received.text


async def test_a_batch_taken_at_once_whose_rename_reply_was_lost_is_delivered_once(sandbox: Sandbox) -> None:
    # the clearinghouse moves each upload out of inbound/ as soon as it appears, and the connection
    # drops after the rename but before its reply: the retry must not upload the batch again
    sandbox.faults.pickup_uploads = True
    sandbox.faults.drop_sftp_after_rename = 1
    name, content = batch(120, [claim("PCN-TAKEN", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])])
    settings = settings_for(sandbox)
    assert settings.sftp is not None
    async with asyncio.timeout(20):
        async with SftpBatchClient(settings.sftp) as client:
            receipt = await client.upload(content, name=name)
            assert client.connections_opened == 2
            got = await collect(client, {"999": 1})
    assert receipt.taken_unconfirmed and not receipt.already_present
    taken = sandbox.state_dir / "picked_up" / "practice01"
    assert sorted(p.name for p in taken.iterdir()) == [f"1-{name}"]
    assert list(sandbox.inbound_dir("practice01").iterdir()) == []
    assert got["999"]


async def test_a_lost_rename_reply_with_the_file_still_in_place_is_already_present(sandbox: Sandbox) -> None:
    sandbox.faults.drop_sftp_after_rename = 1
    name, content = batch(121, [claim("PCN-KEPT", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])])
    settings = settings_for(sandbox)
    assert settings.sftp is not None
    async with SftpBatchClient(settings.sftp) as client:
        receipt = await client.upload(content, name=name)
    assert receipt.already_present and not receipt.taken_unconfirmed
    assert sorted(p.name for p in sandbox.inbound_dir("practice01").iterdir()) == [name]


async def test_an_upload_that_fails_on_every_attempt_leaves_no_partial_file(sandbox: Sandbox) -> None:
    sandbox.faults.drop_sftp_on_write = 3  # every attempt writes half the file, then the link drops
    name, content = batch(122, [claim("PCN-PART", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])])
    settings = settings_for(sandbox)
    assert settings.sftp is not None
    async with SftpBatchClient(settings.sftp) as client:
        with pytest.raises(ConnectionLost):
            await client.upload(content, name=name)
    assert list(sandbox.inbound_dir("practice01").iterdir()) == []


async def test_an_upload_can_be_staged_outside_inbound(sandbox: Sandbox) -> None:
    (sandbox.inbound_dir("practice01").parent / "staging").mkdir()
    name, content = batch(123, [claim("PCN-STAGE", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])])
    settings = settings_for(sandbox)
    assert settings.sftp is not None
    endpoint = settings.sftp.model_copy(update={"staging_dir": "staging"})
    async with SftpBatchClient(endpoint) as client:
        receipt = await client.upload(content, name=name)
    assert not receipt.already_present
    assert (sandbox.inbound_dir("practice01") / name).read_bytes() == content
    assert list((sandbox.inbound_dir("practice01").parent / "staging").iterdir()) == []


async def test_a_file_that_cannot_be_read_is_skipped_and_the_poll_goes_on(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = answers_in_outbound(sandbox, 130, "PCN-SKIP")
    denied, vanished = names[0], names[1]
    outbound = sandbox.outbound_dir("practice01")
    (outbound / b"\xff\xfeLATIN.999".decode("utf-8", "surrogateescape")).write_bytes(b"not read")
    real_open = asyncssh.SFTPClient.open

    def open_(self: asyncssh.SFTPClient, path: object, *args: object, **kwargs: object) -> object:
        text = path.decode() if isinstance(path, bytes) else str(path)
        if text.endswith(denied):
            raise asyncssh.SFTPPermissionDenied("denied")
        if text.endswith(vanished):
            raise asyncssh.SFTPNoSuchFile("gone")
        return real_open(self, path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(asyncssh.SFTPClient, "open", open_)
    settings = settings_for(sandbox)
    assert settings.sftp is not None
    async with asyncio.timeout(20), SftpBatchClient(settings.sftp) as client:
        first = await client.poll()
        assert [f.name for f in first.files] == names[2:]
        assert {(s.name, s.reason) for s in first.skipped} == {
            (denied, "permission_denied"),
            (vanished, "vanished"),
            ("\\xff\\xfeLATIN.999", "undecodable_name"),
        }
        monkeypatch.setattr(asyncssh.SFTPClient, "open", real_open)
        second = await client.poll()  # offered again once readable
        assert sorted(f.name for f in second.files) == sorted(names[:2])


async def test_a_file_overwritten_under_the_same_name_and_size_is_read_again(sandbox: Sandbox) -> None:
    names = answers_in_outbound(sandbox, 131, "PCN-OVER")
    ack = next(n for n in names if n.startswith("999"))
    path = sandbox.outbound_dir("practice01") / ack
    accepted = path.read_text()
    rejected = accepted.replace("IK5*A", "IK5*R").replace("AK9*A", "AK9*R")
    assert len(rejected) == len(accepted) and rejected != accepted
    settings = settings_for(sandbox)
    assert settings.sftp is not None
    async with SftpBatchClient(settings.sftp) as client:
        assert ack in [f.name for f in (await client.poll()).files]
        stat = path.stat()
        path.write_text(rejected)
        os.utime(path, (stat.st_atime + 5, stat.st_mtime + 5))
        again = await client.poll()
        assert [f.text for f in again.files] == [rejected]
        path.write_text(accepted)  # same content as handed on before: not handed on twice
        os.utime(path, (stat.st_atime + 10, stat.st_mtime + 10))
        third = await client.poll()
        assert third.files == [] and third.duplicates == [ack]
        assert (await client.poll()).duplicates == []


async def test_a_half_written_file_is_left_for_the_next_poll_and_malformed_only_if_it_stays_so(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    names = answers_in_outbound(sandbox, 132, "PCN-HALF")
    remit = next(n for n in names if n.startswith("835"))
    outbound = sandbox.outbound_dir("practice01")
    full = (outbound / remit).read_text()
    (outbound / remit).write_text(full[: len(full) // 2])  # the payer is still writing it
    (outbound / "STUCK.835").write_text(full[: len(full) // 2])  # and this one never completes
    settings = settings_for(sandbox)
    assert settings.sftp is not None
    async with SftpBatchClient(settings.sftp, ledger=SqliteFileLedger(tmp_path / "l.db")) as client:
        first = await client.poll()
        assert first.malformed == [] and {s.name for s in first.skipped} == {remit, "STUCK.835"}
        (outbound / remit).write_text(full)
        second = await client.poll()
        assert [f.name for f in second.files] == [remit] and second.files[0].text == full
        assert [m.file_name for m in second.malformed] == ["STUCK.835"]
        assert (await client.poll()).malformed == []
