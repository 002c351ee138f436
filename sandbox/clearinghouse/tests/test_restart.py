"""A sandbox restarted on the same state directory carries on: no upload read twice, no answer lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcm.clearinghouse import SftpBatchClient, batch_file_name
from rcm.sandbox import Sandbox, start_sandbox
from rcm.sandbox.testing import claim, eventually, line, sandbox_config, settings_for
from rcm.sandbox.x12io import Interchange, build_837p

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
