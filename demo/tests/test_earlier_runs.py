"""Each demo run's topics are deleted by a later run once that run is long over."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from rcm.demo.run import delete_stale_run_topics, stale_run_topics

NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


def _prefix(at: datetime) -> str:
    return f"demo{at:%m%d%H%M%S}"


@pytest.mark.unit
def test_a_run_that_started_hours_ago_is_stale_and_a_recent_one_is_kept() -> None:
    old = _prefix(NOW - timedelta(hours=7))
    recent = _prefix(NOW - timedelta(minutes=20))
    topics = [
        f"{old}.session-completed",
        f"{old}.claims.retry",
        f"{recent}.session-completed",
        "session-completed",
        "t1a2b3c4.claim-created",
        "demo-notes.session-completed",
    ]
    assert stale_run_topics(topics, NOW) == [f"{old}.claims.retry", f"{old}.session-completed"]


@pytest.mark.unit
def test_only_the_newest_runs_keep_their_topics_once_past_the_guard() -> None:
    starts = [NOW - timedelta(minutes=m) for m in (5, 40, 50, 60, 70, 80)]
    topics = [f"{_prefix(at)}.session-completed" for at in starts]
    # the three newest stay; of the others, those started more than 30 minutes ago go
    assert stale_run_topics(topics, NOW) == sorted(topics[3:])
    # many runs within the last half hour: none of them is deleted (one may still be going)
    quick = [f"{_prefix(NOW - timedelta(minutes=m))}.claim-created" for m in range(1, 20, 3)]
    assert stale_run_topics(quick, NOW) == []


@pytest.mark.unit
def test_a_prefix_ahead_of_now_is_from_last_year() -> None:
    december = "demo1231235959.claim-created"  # 31 Dec: in January it is last year's run
    assert stale_run_topics([december], datetime(2027, 1, 1, 0, 30, tzinfo=UTC)) == []
    assert stale_run_topics([december], datetime(2027, 1, 2, 0, 30, tzinfo=UTC)) == [december]
    assert stale_run_topics(["demo1201000000.x"], datetime(2026, 11, 27, tzinfo=UTC)) == ["demo1201000000.x"]


@pytest.mark.unit
def test_a_prefix_that_is_no_date_is_left_alone() -> None:
    assert stale_run_topics(["demo1340990000.claim-created", "demo0230120000.x"], NOW) == []


@pytest.mark.kafka
async def test_stale_runs_topics_are_deleted_from_the_broker(kafka_bootstrap: str) -> None:
    tag = uuid.uuid4().hex[:6]
    now = datetime.now(UTC)
    # two runs' prefixes, with a topic name of this test's own so other runs are not involved
    stale = f"{_prefix(now - timedelta(hours=8))}.stale-{tag}"
    kept = f"{_prefix(now - timedelta(minutes=5))}.kept-{tag}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, 1, 1) for t in (stale, kept)])
        deleted = await delete_stale_run_topics(kafka_bootstrap, now)
        assert stale in deleted and kept not in deleted
        remaining = set(await admin.list_topics())
        assert kept in remaining and stale not in remaining
        await admin.delete_topics([kept])
    finally:
        await admin.close()
