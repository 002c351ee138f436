"""The envelope: CloudEvents headers, keys and JSON bodies, and their failure modes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from rcm.events import models as m
from rcm.events.envelope import (
    ReceivedEvent,
    TraceContext,
    build_headers,
    decode,
    encode,
    serialize,
)
from rcm.events.errors import EventError, InvalidEvent, InvalidReason
from rcm.events.testing import coverage_updated, examples, patient_updated, session_completed

pytestmark = pytest.mark.unit

TRACE = TraceContext("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "rcm=1")
WHEN = datetime(2025, 3, 3, 16, 0, tzinfo=UTC)


def _roundtrip(event: m.Event) -> ReceivedEvent:
    record = encode(event, source="/rcm/test", prefix="")
    return decode(record.value, record.headers)


@pytest.mark.parametrize(("name", "event"), sorted(examples().items()))
def test_every_event_survives_encode_and_decode(name: str, event: m.Event) -> None:
    received = _roundtrip(event)
    assert received.event == event
    assert type(received.event) is type(event)
    assert received.spec.name == name


def test_headers_carry_the_cloudevents_attributes_in_binary_mode() -> None:
    event = session_completed(3)
    headers = dict(build_headers(event, source="/rcm/ehr", event_id="evt-1", time=WHEN, trace=TRACE))
    assert headers == {
        "ce_specversion": b"1.0",
        "ce_id": b"evt-1",
        "ce_source": b"/rcm/ehr",
        "ce_type": b"rcm.session-completed.v1",
        "ce_time": b"2025-03-03T16:00:00+00:00",
        "ce_subject": b"pat-0003",
        "content-type": b"application/json",
        "traceparent": TRACE.traceparent.encode(),
        "tracestate": b"rcm=1",
    }


def test_encode_gives_topic_key_and_json_body() -> None:
    event = session_completed(2)
    record = encode(event, source="/rcm/ehr", prefix="dev")
    assert record.topic == "dev.session-completed"
    assert record.key == b"pat-0002"
    assert json.loads(record.value)["session_id"] == "ses-0002"
    assert record.value == serialize(event)


def test_money_travels_as_strings_in_the_body() -> None:
    body = json.loads(serialize(examples()["remit-received"]))
    assert body["paid"] == "110.00"
    assert body["lines"][0]["adjustments"][0]["amount"] == "35.00"


def test_event_ids_are_unique_unless_given() -> None:
    event = session_completed()
    first = dict(build_headers(event, source="/rcm/ehr"))["ce_id"]
    second = dict(build_headers(event, source="/rcm/ehr"))["ce_id"]
    assert first != second


def test_naive_event_times_are_refused_when_building_headers() -> None:
    with pytest.raises(ValueError, match="timezone"):
        build_headers(session_completed(), source="/rcm/ehr", time=datetime(2025, 3, 3, 10, 0))


@pytest.mark.parametrize("event", [patient_updated(5), coverage_updated(5)])
def test_headers_and_keys_never_carry_phi(event: m.Event) -> None:
    record = encode(event, source="/rcm/ehr")
    exposed = b" ".join([record.key, *(value for _, value in record.headers)])
    for secret in (b"Test", b"Patient 0005", b"SYN000005", b"1990-01-06"):
        assert secret not in exposed


def test_decoded_envelope_keeps_attributes_and_trace_context() -> None:
    event = session_completed()
    headers = build_headers(event, source="/rcm/ehr", event_id="evt-9", time=WHEN, trace=TRACE)
    received = decode(serialize(event), headers)
    envelope = received.envelope
    assert (envelope.id, envelope.source, envelope.type, envelope.subject) == (
        "evt-9",
        "/rcm/ehr",
        "rcm.session-completed.v1",
        "pat-0001",
    )
    assert envelope.time == WHEN
    assert envelope.trace == TRACE


def test_decode_accepts_a_mapping_of_string_headers() -> None:
    event = session_completed()
    headers = {name: value.decode() for name, value in build_headers(event, source="/rcm/ehr")}
    assert decode(serialize(event), headers).event == event


def test_an_invalid_traceparent_is_dropped_not_fatal() -> None:
    event = session_completed()
    headers = [*build_headers(event, source="/rcm/ehr"), ("traceparent", b"garbage")]
    assert decode(serialize(event), headers).envelope.trace is None
    with pytest.raises(ValueError, match="traceparent"):
        TraceContext("garbage")


def _expect_invalid(
    value: bytes | None, headers: list[tuple[str, bytes]], reason: InvalidReason
) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as caught:
        decode(value, headers)
    assert caught.value.reason is reason
    assert isinstance(caught.value, EventError)
    return caught.value


def _headers(**changes: bytes | None) -> list[tuple[str, bytes]]:
    headers = dict(build_headers(session_completed(), source="/rcm/ehr"))
    for name, value in changes.items():
        name = name.replace("_type", "-type") if name == "content_type" else name
        if value is None:
            headers.pop(name)
        else:
            headers[name] = value
    return list(headers.items())


def test_unknown_event_types_are_invalid() -> None:
    error = _expect_invalid(
        serialize(session_completed()),
        _headers(ce_type=b"rcm.session-exploded.v1"),
        InvalidReason.UNKNOWN_TYPE,
    )
    assert error.event_type == "rcm.session-exploded.v1"
    assert "session-exploded" in str(error)


@pytest.mark.parametrize("missing", ["ce_id", "ce_source", "ce_type", "ce_specversion"])
def test_missing_required_attributes_are_invalid(missing: str) -> None:
    error = _expect_invalid(
        serialize(session_completed()), _headers(**{missing: None}), InvalidReason.MISSING_ATTRIBUTE
    )
    assert missing in error.detail


def test_other_specversions_and_content_types_are_invalid() -> None:
    body = serialize(session_completed())
    _expect_invalid(body, _headers(ce_specversion=b"0.3"), InvalidReason.UNSUPPORTED_SPECVERSION)
    _expect_invalid(body, _headers(content_type=b"application/avro"), InvalidReason.UNSUPPORTED_CONTENT_TYPE)
    assert (
        decode(body, _headers(content_type=b"application/json; charset=utf-8")).event == session_completed()
    )


def test_bad_times_are_invalid() -> None:
    body = serialize(session_completed())
    _expect_invalid(body, _headers(ce_time=b"yesterday"), InvalidReason.BAD_ATTRIBUTE)
    _expect_invalid(body, _headers(ce_time=b"2025-03-03T10:00:00"), InvalidReason.BAD_ATTRIBUTE)


def test_empty_bodies_and_tombstones_are_invalid() -> None:
    _expect_invalid(None, _headers(), InvalidReason.EMPTY_BODY)
    _expect_invalid(b"", _headers(), InvalidReason.EMPTY_BODY)


def test_malformed_json_is_invalid() -> None:
    _expect_invalid(b'{"session_id": ', _headers(), InvalidReason.BAD_JSON)


def test_schema_violations_are_invalid_and_name_each_field_but_not_its_value() -> None:
    body = json.loads(serialize(session_completed()))
    body["diagnoses"] = ["NOT-A-CODE"]
    body["start"] = "2025-03-03T10:00:00"  # naive
    del body["patient_id"]
    error = _expect_invalid(json.dumps(body).encode(), _headers(), InvalidReason.SCHEMA_VIOLATION)
    assert len(error.errors) == 3
    assert any(item.startswith("patient_id: missing") for item in error.errors)
    assert any(item.startswith("start: timezone_aware") for item in error.errors)
    assert any(item.startswith("diagnoses.0: string_pattern_mismatch") for item in error.errors)
    assert "NOT-A-CODE" not in str(error)


def test_a_body_of_the_wrong_type_is_a_schema_violation() -> None:
    body = serialize(examples()["claim-created"])
    _expect_invalid(body, _headers(), InvalidReason.SCHEMA_VIOLATION)


def test_invalid_events_describe_themselves_for_dead_letter_headers() -> None:
    error = _expect_invalid(b"[]", _headers(), InvalidReason.SCHEMA_VIOLATION)
    headers = dict(error.as_headers())
    assert headers["rcm_error_reason"] == b"schema_violation"
    assert headers["rcm_error_event_type"] == b"rcm.session-completed.v1"
    assert headers["rcm_error_detail"]


def test_a_status_change_carries_its_new_status_as_an_extension_attribute() -> None:
    from rcm.events.testing import claim_status_changed

    event = claim_status_changed(4, to_status="voided", from_status="submitted")
    record = encode(event, source="/rcm/claims", prefix="")
    headers = dict(record.headers)
    assert headers["ce_tostatus"] == b"voided"
    assert "ce_fromstatus" not in headers  # only what the catalog names
    assert decode(record.value, record.headers).event == event
    # a record without the attribute (an older producer) still decodes
    older = [(k, v) for k, v in record.headers if k != "ce_tostatus"]
    assert decode(record.value, older).event == event
