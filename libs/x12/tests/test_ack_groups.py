"""A 999 per functional group: group findings and counts stay with their own group."""

from __future__ import annotations

from datetime import datetime

import pytest

from rcm.x12 import acknowledge, acknowledgement, read

from .conftest import DATA

pytestmark = pytest.mark.unit

NOW = datetime(2024, 1, 2, 3, 4)
ONE = (DATA / "835" / "azoner-pyx12__835_mult_loops.txt").read_text()
CONTROL = "000238388"


def ak9s(ack: str) -> list[str]:
    return [line for line in ack.splitlines() if line.startswith("AK9")]


def second(number: str) -> str:
    """The same interchange under another ISA13/IEA02 (its GS06 stays the same)."""
    return ONE.replace(f"*{CONTROL}*", f"*{number}*").replace(f"IEA*1*{CONTROL}", f"IEA*1*{number}")


def test_the_sample_has_one_clean_group() -> None:
    assert ak9s(acknowledge(ONE, now=NOW)) == ["AK9*A*1*1*1~"]
    assert ONE.count("GE*1*") == 1


def test_a_group_error_does_not_reject_the_same_numbered_group_of_the_next_interchange() -> None:
    bad = ONE.replace("GE*1*", "GE*2*")
    text = bad + second("000238389")
    assert len(read(text).interchanges) == 2
    assert ak9s(acknowledge(text, now=NOW)) == ["AK9*R*2*1*1*5~", "AK9*A*1*1*1~"]


def test_ak902_repeats_ge01_and_ak903_counts_the_sets_received() -> None:
    ack = acknowledge(ONE.replace("GE*1*", "GE*3*"), now=NOW)
    assert ak9s(ack) == ["AK9*R*3*1*1*5~"]
    assert read(ack).valid


def test_a_ge01_too_long_for_ak902_gives_the_count_received() -> None:
    ack = acknowledge(ONE.replace("GE*1*", "GE*1234567*"), now=NOW)
    assert ak9s(ack) == ["AK9*R*1*1*1*5~"]  # AK902 is N0 1/6
    assert read(ack).valid


def test_a_group_without_ge_counts_what_was_received() -> None:
    text = ONE[: ONE.index("GE*1*")] + f"IEA*1*{CONTROL}~"
    assert ak9s(acknowledge(text, now=NOW)) == ["AK9*R*1*1*1*3~"]


def test_groups_of_a_rejected_interchange_get_no_999_even_when_empty() -> None:
    gs = ONE[ONE.index("GS*") : ONE.index("~", ONE.index("GS*")) + 1]
    control = gs.split("*")[6]
    rejected = ONE[: ONE.index("GS*")] + gs + f"GE*0*{control}~"  # no IEA: the TA1 rejects it
    ack = acknowledge(rejected + second("000238389"), now=NOW)
    assert "TA1*000238388*" in ack and "*R*023~" in ack
    assert ack.count("AK1*") == 1


def interchanges(ack: str) -> list[list[str]]:
    """The acknowledgement's interchanges, each as its lines (ISA ... IEA)."""
    out: list[list[str]] = []
    for line in ack.splitlines():
        if line.startswith("ISA*"):
            out.append([])
        out[-1].append(line)
    return out


def test_each_sender_gets_its_own_answer() -> None:
    # a second interchange from another sender, whose group has an error: its TA1 and 999 go back
    # to that sender only, and the first sender's answer holds nothing of it
    other = (
        second("000238389")
        .replace("*ZZ*" + read(ONE).interchanges[0].sender_id.ljust(15), "*ZZ*OTHERSENDER    ", 1)
        .replace(f"GS*HP*{read(ONE).groups[0].sender}*", "GS*HP*OTHERAPP*", 1)
        .replace("GE*1*", "GE*2*")
    )
    assert read(other).interchanges[0].sender_id == "OTHERSENDER"
    ack = acknowledge(ONE + other, now=NOW)
    first, answer = interchanges(ack)
    assert first[0].split("*")[8].strip() == read(ONE).interchanges[0].sender_id
    assert answer[0].split("*")[8].strip() == "OTHERSENDER"
    [gs] = [line for line in answer if line.startswith("GS*")]
    assert gs.split("*")[3] == "OTHERAPP"
    assert [line for line in first if line.startswith("AK9")] == ["AK9*A*1*1*1~"]
    assert [line for line in answer if line.startswith("AK9")] == ["AK9*R*2*1*1*5~"]
    assert read(ack).valid
    typed = acknowledgement(ONE + other, now=NOW)
    assert typed.text == ack and len(typed.interchanges) == 2
    assert [a.trailer.status for a in typed.acks] == ["A", "R"] and len(typed.ta1s) == 2
    assert not typed.accepted


def test_groups_of_two_senders_in_one_interchange_get_separate_fa_groups() -> None:
    gs = ONE[ONE.index("GS*") : ONE.index("~", ONE.index("GS*")) + 1]
    start, end = ONE.index("GS*"), ONE.index("IEA*")
    group = ONE[start:end]
    sender = gs.split("*")[2]
    other = group.replace(f"GS*HP*{sender}*", "GS*HP*OTHERAPP*", 1).replace(
        f"*{gs.split('*')[6]}*X*", "*2*X*", 1
    )
    other = other.replace(f"GE*1*{gs.split('*')[6]}~", "GE*1*2~")
    text = ONE[:end].replace("IEA*", "") + other + f"IEA*2*{CONTROL}~"
    ack = acknowledge(text, now=NOW)
    [answer] = interchanges(ack)
    fa = [line.split("*")[3] for line in answer if line.startswith("GS*")]
    assert fa == [sender, "OTHERAPP"]
    assert answer[-1] == "IEA*2*000000001~"
    assert read(ack).valid


def test_a_repeated_interchange_control_number_blames_only_the_repeat() -> None:
    # both interchanges have ISA13 000238388; only the second repeats it, and only its group has
    # a wrong GE01: findings go by place, not by control number
    ack = acknowledge(ONE + ONE.replace("GE*1*", "GE*5*"), now=NOW)
    first, repeat = interchanges(ack)
    assert not any(line.startswith("TA1*") and "*E*" in line for line in first)
    assert f"TA1*{CONTROL}" in repeat[1] and repeat[1].endswith("*E*025~")
    assert [line for line in first if line.startswith("AK9")] == ["AK9*A*1*1*1~"]
    assert [line for line in repeat if line.startswith("AK9")] == ["AK9*R*5*1*1*5~"]
