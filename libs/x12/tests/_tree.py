"""A small loop-tree builder for tests of the typed models (not the library's reader).

It knows just enough loop triggers to shape the sample files the way the guides do.
"""

from __future__ import annotations

from rcm.x12.errors import X12Error
from rcm.x12.models.envelope import GroupHeader, InterchangeAck, InterchangeHeader
from rcm.x12.models.interchange import FunctionalGroup, Interchange, read_transaction
from rcm.x12.segments import Delimiters, Loop, Segment
from rcm.x12.tokenizer import Tokenizer

# (segment id, element 1 values or None, parent loop ids, new loop id); HL loops go flat under ST.
_TRIGGERS: dict[str, list[tuple[str, frozenset[str] | None, tuple[str, ...], str]]] = {
    "837": [
        ("NM1", frozenset({"41"}), ("ST",), "1000A"),
        ("NM1", frozenset({"40"}), ("ST",), "1000B"),
        ("NM1", frozenset({"85"}), ("2000A",), "2010AA"),
        ("NM1", frozenset({"87"}), ("2000A",), "2010AB"),
        ("NM1", frozenset({"PE"}), ("2000A",), "2010AC"),
        ("NM1", frozenset({"IL"}), ("2000B",), "2010BA"),
        ("NM1", frozenset({"PR"}), ("2000B",), "2010BB"),
        ("NM1", frozenset({"QC"}), ("2000C",), "2010CA"),
        ("CLM", None, ("2000B", "2000C"), "2300"),
        ("NM1", frozenset({"DN", "P3"}), ("2300",), "2310A"),
        ("NM1", frozenset({"82"}), ("2300",), "2310B"),
        ("NM1", frozenset({"77"}), ("2300",), "2310C"),
        ("NM1", frozenset({"DQ"}), ("2300",), "2310D"),
        ("NM1", frozenset({"PW"}), ("2300",), "2310E"),
        ("NM1", frozenset({"45"}), ("2300",), "2310F"),
        ("SBR", None, ("2300",), "2320"),
        ("NM1", frozenset({"IL"}), ("2320",), "2330A"),
        ("NM1", frozenset({"PR"}), ("2320",), "2330B"),
        ("NM1", frozenset({"DN", "P3"}), ("2320",), "2330C"),
        ("NM1", frozenset({"82"}), ("2320",), "2330D"),
        ("NM1", frozenset({"77"}), ("2320",), "2330E"),
        ("NM1", frozenset({"DQ"}), ("2320",), "2330F"),
        ("NM1", frozenset({"85"}), ("2320",), "2330G"),
        ("LX", None, ("2300",), "2400"),
        ("LIN", None, ("2400",), "2410"),
        ("NM1", frozenset({"82"}), ("2400",), "2420A"),
        ("NM1", frozenset({"QB"}), ("2400",), "2420B"),
        ("NM1", frozenset({"77"}), ("2400",), "2420C"),
        ("NM1", frozenset({"DQ"}), ("2400",), "2420D"),
        ("NM1", frozenset({"DK"}), ("2400",), "2420E"),
        ("NM1", frozenset({"DN"}), ("2400",), "2420F"),
        ("NM1", frozenset({"PW"}), ("2400",), "2420G"),
        ("NM1", frozenset({"45"}), ("2400",), "2420H"),
        ("SVD", None, ("2400",), "2430"),
        ("LQ", None, ("2400",), "2440"),
    ],
    "835": [
        ("N1", frozenset({"PR"}), ("ST",), "1000A"),
        ("N1", frozenset({"PE"}), ("ST",), "1000B"),
        ("LX", None, ("ST",), "2000"),
        ("CLP", None, ("2000", "ST"), "2100"),
        ("SVC", None, ("2100",), "2110"),
    ],
    "999": [
        ("AK2", None, ("ST",), "2000"),
        ("IK3", None, ("2000",), "2100"),
        ("IK4", None, ("2100",), "2110"),
    ],
}
_HL_LEVELS = {
    "837": {"20": "2000A", "22": "2000B", "23": "2000C"},
    "270": {"20": "2000A", "21": "2000B", "22": "2000C", "23": "2000D"},
    "276": {"20": "2000A", "21": "2000B", "19": "2000C", "22": "2000D", "23": "2000E", "PT": "2000D"},
    "278": {"20": "2000A", "21": "2000B", "22": "2000C", "23": "2000D", "EV": "2000E", "SS": "2000F"},
}
_HL_LEVELS["271"] = _HL_LEVELS["270"]
_HL_LEVELS["277"] = _HL_LEVELS["276"]
_PARTY = {"270": "2100", "276": "2100", "278": "2010"}
_PARTY["271"] = "2100"
_PARTY["277"] = "2100"
_TRAILERS = {"PLB": "ST", "AK9": "ST", "IK5": "2000", "LE": "2110"}


def _letter(loop_id: str) -> str:
    return loop_id[-1]


def build_tree(code: str, segments: list[Segment]) -> Loop:
    """The ST loop tree of one transaction set (ST..SE)."""
    root = Loop("ST", [segments[0]])
    stack = [root]
    triggers = _TRIGGERS.get(code, [])
    levels = _HL_LEVELS.get(code, {})
    for seg in segments[1:]:
        if seg.id == "SE":
            root.segments.append(seg)
            continue
        if seg.id == "HL":
            loop = Loop(levels.get(seg.get(3), "2000?"), [seg])
            del stack[1:]
            root.loops.append(loop)
            stack.append(loop)
            continue
        if seg.id in _TRAILERS:
            target = _TRAILERS[seg.id]
            while len(stack) > 1 and not stack[-1].id.startswith(target):
                stack.pop()
            stack[-1].segments.append(seg)
            continue
        new = _trigger(code, triggers, stack, seg)
        if new is not None:
            depth, loop_id = new
            del stack[depth + 1 :]
            loop = Loop(loop_id, [seg])
            stack[-1].loops.append(loop)
            stack.append(loop)
        else:
            stack[-1].segments.append(seg)
    return root


def _trigger(
    code: str, triggers: list[tuple[str, frozenset[str] | None, tuple[str, ...], str]], stack: list[Loop], seg: Segment
) -> tuple[int, str] | None:
    for depth in range(len(stack) - 1, -1, -1):
        parent = stack[depth].id
        for seg_id, quals, parents, loop_id in triggers:
            if seg.id == seg_id and parent in parents and (quals is None or seg.get(1) in quals):
                return depth, loop_id
        if code in _PARTY and parent.startswith("2000") and len(parent) == 5:
            letter = _letter(parent)
            party = _PARTY[code] + letter
            if seg.id == "NM1" and (depth == len(stack) - 1 or stack[depth + 1].id.startswith(_PARTY[code])):
                if depth == len(stack) - 1:
                    return depth, party
            if code in {"276", "277"} and seg.id == "TRN":
                return depth, "2200" + letter
        if code in {"276", "277"} and parent.startswith("2200") and seg.id == "SVC":
            return depth, ("2210" if code == "276" else "2220") + _letter(parent)
        if code in {"270", "271"} and parent.startswith("2100") and seg.id in {"EB", "EQ"}:
            return depth, "2110" + _letter(parent)
        if code == "271" and parent.startswith("2110") and seg.id == "NM1":
            return depth, "2120" + _letter(parent)
    return None


def read_sample(data: bytes) -> tuple[Interchange, Delimiters]:
    """An interchange model from the bytes of a sample, via the test tree builder."""
    tokenizer = Tokenizer(data)
    segments = list(tokenizer)
    delimiters = tokenizer.delimiters or Delimiters()
    if not segments or segments[0].id != "ISA":
        raise X12Error("no ISA segment")
    header = InterchangeHeader.from_segment(segments[0])
    acks: list[InterchangeAck] = []
    groups: list[FunctionalGroup] = []
    i = 1
    while i < len(segments):
        seg = segments[i]
        if seg.id == "TA1":
            acks.append(InterchangeAck.from_segment(seg, delimiters))
        elif seg.id == "GS":
            group_header = GroupHeader.from_segment(seg)
            transactions = []
            i += 1
            while i < len(segments) and segments[i].id == "ST":
                j = i
                while j < len(segments) and segments[j].id != "SE":
                    j += 1
                body = segments[i : j + 1]
                tree = build_tree(body[0].get(1), body)
                transactions.append(read_transaction(tree, delimiters))
                i = j + 1
            groups.append(FunctionalGroup(header=group_header, transactions=transactions))
            continue
        i += 1
    return Interchange(header=header, acknowledgments=acks, groups=groups), delimiters
