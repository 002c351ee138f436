"""The typed models do not depend on the delimiters a file was written with.

Every sample is written again with other separators (the characters of each chosen so they
do not occur in the file's data) and must read into the same models: composites inside
repeated elements (999 CTX01, 271 EB03...) are split on the file's own separators.
"""

from __future__ import annotations

import pytest

from rcm.x12 import Tokenizer, X12Error
from rcm.x12.convert import read_interchanges, read_interchanges_leniently
from rcm.x12.models.ack_999 import ContextName, ImplementationAck999
from rcm.x12.segments import Delimiters, Segment

from .conftest import DATA, sample_files

pytestmark = pytest.mark.unit

OTHERS = [
    Delimiters(element="|", component=">", repetition="!", segment="~"),
    Delimiters(element="\x1d", component="\x1f", repetition="\x1e", segment="\x1c"),
    Delimiters(element="^", component="\\", repetition="`", segment="\n"),
]


def rewrite(segments: list[Segment], old: Delimiters, new: Delimiters) -> str:
    table = {}
    if old.component:
        table[ord(old.component)] = new.component
    if old.repetition:
        table[ord(old.repetition)] = new.repetition
    out = []
    for seg in segments:
        elements = [e.translate(table) for e in seg.elements]
        if seg.id == "ISA":
            elements = list(seg.elements)
            elements[10] = new.repetition if old.repetition else elements[10]
            elements[15] = new.component
        out.append(new.element.join([seg.id, *elements]) + new.segment)
    return "".join(out)


def models(text: str) -> object:
    interchanges, unread = read_interchanges_leniently(text)
    return [ic.model_dump(mode="json") for ic, _ in interchanges], [(u.loop, u.position) for u in unread]


def single_interchange_samples() -> list[str]:
    names = []
    for path in sample_files():
        tokens = Tokenizer(path.read_bytes())
        list(tokens)
        if tokens.interchanges == 1 and path.parent.name != "_malformed":
            names.append(str(path.relative_to(DATA)))
    return names


@pytest.mark.parametrize("name", single_interchange_samples())
def test_a_sample_reads_the_same_with_other_delimiters(name: str) -> None:
    raw = (DATA / name).read_text(errors="replace")
    tokens = Tokenizer(raw)
    segments = list(tokens)
    assert tokens.delimiters is not None
    try:
        expected = models(raw)
    except X12Error as exc:  # a sample that does not read must fail the same way
        expected = str(exc)
    used = set(raw) - set(tokens.delimiters.element + tokens.delimiters.component + tokens.delimiters.segment)
    used -= {tokens.delimiters.repetition, "\r", "\n"}
    tried = 0
    for new in OTHERS:
        if used & {new.element, new.component, new.repetition, new.segment}:
            continue
        tried += 1
        text = rewrite(segments, tokens.delimiters, new)
        try:
            got = models(text)
        except X12Error as exc:
            got = str(exc)
        assert got == expected, new
    assert tried


def test_ctx01_names_and_references_are_components() -> None:
    raw = (DATA / "999" / "xlate-staedi__simple999.edi").read_text()
    for text in (raw, raw.replace(":", ">")):  # ISA16 and every composite
        [(interchange, _)] = read_interchanges(text)
        [ack] = interchange.groups[0].transactions
        assert isinstance(ack, ImplementationAck999)
        contexts = [c.context for s in ack.sets for e in s.segment_errors for c in e.contexts]
        assert contexts == [
            [ContextName(name="CLM01", reference="123456789")],
            [
                ContextName(name="SITUATIONAL TRIGGER"),
                ContextName(name="SITUATIONAL TRIGGER", reference="2"),
                ContextName(name="SITUATIONAL TRIGGER", reference="3"),
            ],
            [ContextName(name="CLM01", reference="987654321")],
        ]
