"""Records as the runtime sees them: ids and coordinates that survive the retry and dead-letter trip."""

from __future__ import annotations

from rcm.servicekit import messages as h
from rcm.servicekit.messages import Record


def test_a_record_without_a_cloudevents_id_keeps_its_id_through_retries_and_replays() -> None:
    original = Record(topic="ledger", partition=2, offset=17, key=b"k", value=b"{}")
    moved = [(h.ORIGINAL_TOPIC, b"ledger"), (h.ORIGINAL_PARTITION, b"2"), (h.ORIGINAL_OFFSET, b"17")]
    retried = Record(topic="svc.retry", partition=0, offset=5, key=b"k", value=b"{}", headers=moved)
    # replaying a dead letter twice puts two copies at two offsets of the retry topic
    replayed = Record(topic="svc.retry", partition=0, offset=9, key=b"k", value=b"{}", headers=moved)
    assert original.event_id == retried.event_id == replayed.event_id == "ledger:2:17"
    assert retried.source_topic == "ledger"


def test_the_cloudevents_id_wins_over_coordinates() -> None:
    record = Record(
        topic="svc.retry", partition=0, offset=5, key=None, value=b"{}", headers=[("ce_id", b"e-1")]
    )
    assert record.event_id == "e-1"
