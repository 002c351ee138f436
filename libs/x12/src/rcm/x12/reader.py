"""Reader: segments to one ``Loop`` tree per transaction set, with findings.

Loops are recognised from the guide data alone: a segment goes to the innermost
open loop where the guide expects it (by segment id and qualifier, in guide
order), else it closes loops outward until an enclosing loop expects it or one of
its child loops starts with it. What does not fit is reported and kept in the
innermost loop, so nothing is dropped.

``read`` returns a ``ReadResult`` (all transaction sets and all findings);
``read_claims`` streams one claim (835 2100, 837 2300, ...) at a time with its
header context, holding no more than one claim and its ancestors in memory.
Bad input produces findings; the only exception is ``X12Error`` for an
unreadable source object.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from rcm.x12.collector import collector_paused
from rcm.x12.envelope import Envelope, GroupHeader, InterchangeHeader, Place, SetHeader
from rcm.x12.findings import (
    ElementError,
    Finding,
    FindingKind,
    InterchangeNote,
    SegmentError,
    SetError,
    Severity,
)
from rcm.x12.hierarchy import Hierarchy, HLIssue, parent_levels
from rcm.x12.schema import Guide, LoopSpec, SegmentSpec, Usage, guide_for
from rcm.x12.schema.elements import SEGMENTS, element_ref
from rcm.x12.segments import Delimiters, Loop, Segment
from rcm.x12.tokenizer import Source, Tokenizer
from rcm.x12.validate import QuickCheck, check_segment, quick_check

__all__ = ["ClaimItem", "ClaimStream", "ReadResult", "TrailerItem", "TransactionSet", "read", "read_claims"]

_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")


@dataclass(slots=True)
class TransactionSet:
    """One transaction set: its tree (root loop "ST"), its context and its findings."""

    header: SetHeader
    root: Loop
    interchange: InterchangeHeader | None
    group: GroupHeader | None
    guide_id: str = ""  # '' when no guide supports the set
    findings: list[Finding] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.header.id

    @property
    def control_number(self) -> str:
        return self.header.control_number

    @property
    def version(self) -> str:
        return self.header.version

    @property
    def delimiters(self) -> Delimiters:
        return self.interchange.delimiters if self.interchange else Delimiters()

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    @property
    def valid(self) -> bool:
        return not self.errors


@dataclass(slots=True)
class ReadResult:
    """Everything read from one input."""

    transactions: list[TransactionSet] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    interchanges: list[InterchangeHeader] = field(default_factory=list)
    groups: list[GroupHeader] = field(default_factory=list)
    ta1: list[Segment] = field(default_factory=list)
    # per entry of ``groups``: the interchange that holds it (None for a GS outside one) and its
    # GE01 as written (None when no GE closed it); control numbers repeat across interchanges
    group_interchanges: list[InterchangeHeader | None] = field(default_factory=list)
    group_counts: list[str | None] = field(default_factory=list)
    # the ISA, GS, ST and TA1 segments in input order, each with its interchange's delimiters
    # (``read`` only; a claim stream does not keep them)
    headers: list[tuple[Segment, Delimiters | None]] = field(default_factory=list)
    # per entry of ``interchanges``: its TA1 findings (with data found after its IEA); per entry of
    # ``groups``: its AK9 findings. By place, not by control number, which may repeat
    interchange_findings: list[list[Finding]] = field(default_factory=list)
    group_findings: list[list[Finding]] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    @property
    def valid(self) -> bool:
        return not self.errors


@dataclass(slots=True)
class ClaimItem:
    """One claim-level loop with its context, as yielded by ``read_claims``.

    ``ancestors`` are shallow copies of the enclosing loops from the root ("ST")
    down to the claim's parent, each holding its own segments and its finished
    context children (1000A/1000B, 2010AA, 2010BA...), not other claims.
    """

    loop: Loop
    ancestors: list[Loop]
    transaction: SetHeader
    interchange: InterchangeHeader | None
    group: GroupHeader | None
    guide_id: str
    findings: list[Finding]

    def ancestor(self, loop_id: str) -> Loop | None:
        for loop in self.ancestors:
            if loop.id == loop_id:
                return loop
        return None


@dataclass(slots=True)
class TrailerItem:
    """What a transaction set holds after its last claim loop, as kept by ``read_claims``.

    ``segments`` are the set's own segments that follow the claim loops, before SE (the 835
    PLB provider adjustments); ``header`` is a copy of the set's root loop with its header
    segments and context loops (1000A/1000B) but no claims; ``se`` the trailer segment (None
    when missing) and ``findings`` those reported after the last claim (PLB elements, SE counts).
    """

    segments: list[Segment]
    header: Loop
    transaction: SetHeader
    interchange: InterchangeHeader | None
    group: GroupHeader | None
    guide_id: str
    se: Segment | None
    findings: list[Finding]

    def all(self, segment_id: str) -> list[Segment]:
        return [s for s in self.segments if s.id == segment_id]


@dataclass(slots=True)
class _Frame:
    spec: LoopSpec
    loop: Loop
    counts: list[int]
    pos: int = 0
    had_claims: bool = False
    finding_mark: int = 0
    # index of a required item not seen when the loop moved past its place -> the first segment
    # after that place (where a 999 reports it missing)
    passed: dict[int, Segment] | None = None


class _SetWalker:
    """Places the segments of one transaction set into loops and validates them."""

    def __init__(
        self,
        header: SetHeader,
        guide: Guide | None,
        delimiters: Delimiters,
        interchange: InterchangeHeader | None,
        group: GroupHeader | None,
        *,
        stream: bool = False,
    ) -> None:
        self.header = header
        self.guide = guide
        self.d = delimiters
        self.component = delimiters.component
        self.repetition = delimiters.repetition
        self.separators = delimiters.component + delimiters.repetition
        # id(segment spec) -> its quick element check (the guide's specs outlive the walker)
        self.quick: dict[int, QuickCheck] = {}
        self.stream = stream
        self.result = TransactionSet(header, Loop("ST"), interchange, group, guide.id if guide else "")
        self.findings = self.result.findings
        self.ready: list[ClaimItem] = []
        self.stack: list[_Frame] = []
        self.last: Segment | None = None
        self.claim_loops = guide.claim_loops if guide and stream else frozenset()
        self.hierarchy = Hierarchy(guide) if guide is not None and parent_levels(guide) else None
        self.trailer_mark: int | None = None  # root segments from here on follow the claims
        self.claim_findings_end = 0
        if guide is None:
            self._add(
                FindingKind.TRANSACTION,
                SetError.NOT_SUPPORTED,
                f"no implementation guide for {header.id} {header.version}".rstrip(),
                None,
                "",
            )

    # ------------------------------------------------------------------ findings
    def _add(
        self,
        kind: FindingKind,
        code: str,
        message: str,
        seg: Segment | None,
        loop_id: str,
        *,
        segment_id: str = "",
        element: int = 0,
        component: int = 0,
        repetition: int = 0,
        trigger: int = 0,
        severity: Severity = Severity.ERROR,
        loop_position: int = 0,
    ) -> None:
        st = self.header
        segment_id = segment_id or (seg.id if seg else "")
        interchange = self.result.interchange
        group = self.result.group
        self.findings.append(
            Finding(
                kind=kind,
                code=code,
                message=message,
                position=seg.position if seg else 0,
                set_position=seg.position - st.position + 1 if seg else 0,
                segment_id=segment_id,
                loop_id=loop_id,
                element=element,
                component=component,
                repetition=repetition,
                element_ref=element_ref(segment_id, element, component) if element else "",
                trigger_element=trigger,
                severity=severity,
                interchange=interchange.control_number if interchange else "",
                group=group.control_number if group else "",
                transaction=st.control_number,
                loop_position=loop_position,
            )
        )

    def _check(self, seg: Segment, spec: SegmentSpec, loop_id: str) -> None:
        quick = self.quick.get(id(spec))
        if quick is None:
            quick = self.quick[id(spec)] = quick_check(spec.elements, spec.id)
        if seg.id == spec.id and quick(seg.elements, self.component, self.repetition, self.separators):
            return
        # a check compiled since it was fetched replaces the first one
        self.quick[id(spec)] = quick_check(spec.elements, spec.id)
        for issue in check_segment(seg, spec.elements, self.d):
            self._add(
                FindingKind.ELEMENT,
                issue.code,
                issue.message,
                seg,
                loop_id,
                element=issue.element,
                component=issue.component,
                repetition=issue.repetition,
                trigger=issue.trigger,
            )

    # ------------------------------------------------------------------ feeding
    def feed(self, seg: Segment) -> None:
        self._feed(seg)
        if seg.id == "HL" and self.hierarchy is not None:
            self._report_hl(self.hierarchy.feed(seg, self.stack[-1].spec.id))

    def _report_hl(self, issues: list[HLIssue]) -> None:
        for hl in issues:
            issue = hl.issue
            self._add(
                FindingKind.ELEMENT, issue.code, issue.message, hl.segment, hl.loop_id, element=issue.element
            )

    def _feed(self, seg: Segment) -> None:
        self.last = seg
        if not self.stack:
            self._start(seg)
            return
        if self.guide is None:
            self.stack[-1].loop.segments.append(seg)
            return
        sid = seg.id
        elements = seg.elements
        comp = self.component
        stack = self.stack
        # 1: where the guide expects it, in order
        depth = len(stack) - 1
        while depth >= 0:
            frame = stack[depth]
            idxs = frame.spec.by_segment.get(sid)
            if idxs:
                items = frame.spec.items
                pos = frame.pos
                for i in idxs:
                    item = items[i]
                    if isinstance(item, SegmentSpec):
                        if item.order >= pos and (item.qualifier is None or item.matches(elements, comp)):
                            self._place(depth, i, item, seg)
                            return
                    elif item.order >= pos and item.trigger.matches(elements, comp):
                        self._open(depth, i, item, seg)
                        return
            depth -= 1
        # 2: known here, but out of order
        spent: tuple[int, int] | None = None
        for depth in range(len(stack) - 1, -1, -1):
            frame = stack[depth]
            for i in frame.spec.by_segment.get(sid, ()):
                item = frame.spec.items[i]
                spec = item if isinstance(item, SegmentSpec) else item.trigger
                if spec.matches(elements, comp):
                    if isinstance(item, LoopSpec) and frame.counts[i] >= item.max_repeat:
                        # reopening a loop past its maximum would take every segment after it
                        # along: a wrong qualifier where the guide expects a loop to start next
                        # is the likelier reading (step 2b)
                        spent = spent or (depth, i)
                        continue
                    self._out_of_order(depth, i, seg)
                    return
        # 2b: the id starts a loop next in order, but its qualifier is not one the guide lists
        # there (a 277CA 2200C TRN with TRN01 2): that loop opens, not one already used up
        if spent is not None:
            if self._misqualified(seg):
                return
            self._out_of_order(*spent, seg)
            return
        # 3: the id belongs in the innermost loop but its qualifier is unknown
        top = stack[-1]
        for i in top.spec.by_segment.get(sid, ()):
            item = top.spec.items[i]
            if isinstance(item, SegmentSpec) and item.qualifier is not None:
                index, component, _ = item.qualifier
                top.loop.segments.append(seg)
                self._add(
                    FindingKind.ELEMENT,
                    ElementError.INVALID_CODE,
                    "qualifier not valid at this place",
                    seg,
                    top.spec.id,
                    element=index,
                    component=component,
                )
                return
        # 4: not expected anywhere open
        if _SEGMENT_ID.match(sid) is None:
            code, message = SegmentError.UNRECOGNIZED, "unrecognized segment id"
        elif sid in SEGMENTS:
            code, message = SegmentError.UNEXPECTED, "segment not expected here"
        else:
            code, message = SegmentError.NOT_IN_SET, "segment not in this transaction set"
        top.loop.segments.append(seg)
        self._add(FindingKind.SEGMENT, code, message, seg, top.spec.id)

    def _out_of_order(self, depth: int, index: int, seg: Segment) -> None:
        frame = self.stack[depth]
        item = frame.spec.items[index]
        self._add(
            FindingKind.SEGMENT,
            SegmentError.OUT_OF_SEQUENCE,
            "segment out of the guide's order",
            seg,
            frame.spec.id,
        )
        if isinstance(item, SegmentSpec):
            self._place(depth, index, item, seg, reorder=False)
        else:
            self._open(depth, index, item, seg, reorder=False)

    def _misqualified(self, seg: Segment) -> bool:
        """Open the loop ``seg``'s id starts where the guide expects one next, in order and below
        its maximum repeat, though its qualifier is not listed there; reported as an invalid code.
        False when no such loop is expected."""
        stack = self.stack
        for depth in range(len(stack) - 1, -1, -1):
            frame = stack[depth]
            for i in frame.spec.by_segment.get(seg.id, ()):
                item = frame.spec.items[i]
                if not isinstance(item, LoopSpec):
                    continue
                spec = item.trigger
                if spec.qualifier is None or item.order < frame.pos or frame.counts[i] >= item.max_repeat:
                    continue
                mark = len(self.findings)
                self._open(depth, i, item, seg)
                index, component, _ = spec.qualifier
                if not any(
                    f.element == index and f.code == ElementError.INVALID_CODE for f in self.findings[mark:]
                ):  # the element check names the code when the qualifier is also its code list
                    self._add(
                        FindingKind.ELEMENT,
                        ElementError.INVALID_CODE,
                        "qualifier not valid at this place",
                        seg,
                        item.id,
                        element=index,
                        component=component,
                    )
                return True
        return False

    def _start(self, seg: Segment) -> None:
        root = self.result.root
        root.segments.append(seg)
        if self.guide is None:
            self.stack.append(_Frame(LoopSpec("ST", Usage.REQUIRED, 1), root, [1]))
            return
        spec = self.guide.root
        frame = _Frame(spec, root, [0] * len(spec.items))
        frame.counts[0] = 1
        self.stack.append(frame)
        self._check(seg, spec.trigger, "ST")

    def _pop_to(self, depth: int, seg: Segment | None) -> None:
        while len(self.stack) > depth + 1:
            self._close(self.stack.pop(), seg)

    def _place(
        self, depth: int, index: int, spec: SegmentSpec, seg: Segment, *, reorder: bool = True
    ) -> None:
        if len(self.stack) > depth + 1:
            self._pop_to(depth, seg)
        frame = self.stack[depth]
        if reorder:
            if spec.order > frame.pos:
                _note_passed(frame, spec.order, seg)
            frame.pos = spec.order
        count = frame.counts[index] + 1
        frame.counts[index] = count
        if count > spec.max_use:
            self._add(
                FindingKind.SEGMENT,
                SegmentError.EXCEEDS_MAX_USE,
                f"segment exceeds its maximum use of {spec.max_use}",
                seg,
                frame.spec.id,
            )
        frame.loop.segments.append(seg)
        self._check(seg, spec, frame.spec.id)

    def _open(self, depth: int, index: int, spec: LoopSpec, seg: Segment, *, reorder: bool = True) -> None:
        if len(self.stack) > depth + 1:
            self._pop_to(depth, seg)
        parent = self.stack[depth]
        if reorder:
            if spec.order > parent.pos:
                _note_passed(parent, spec.order, seg)
            parent.pos = spec.order
        count = parent.counts[index] + 1
        parent.counts[index] = count
        if count > spec.max_repeat:
            self._add(
                FindingKind.SEGMENT,
                SegmentError.LOOP_OVER_MAX,
                f"loop {spec.id} occurs more than {spec.max_repeat} times",
                seg,
                spec.id,
            )
        loop = Loop(spec.id, [seg])
        parent.loop.loops.append(loop)
        frame = _Frame(spec, loop, [0] * len(spec.items), finding_mark=len(self.findings))
        frame.counts[0] = 1
        self.stack.append(frame)
        self._check(seg, spec.trigger, spec.id)

    def _close(self, frame: _Frame, seg: Segment | None) -> None:
        """Close a loop at ``seg`` (the segment that does not fit in it), reporting what it lacks.

        A missing required segment or loop is reported, as 005010X231A1 IK302 counts it, at the
        segment that follows the place it was expected: the first one the loop holds after that
        place, else ``seg``. ``seg`` may be another claim's, so the finding also keeps the loop's
        own first position (``loop_position``): the 999 names the business unit that lacks it.
        """
        spec = frame.spec
        counts = frame.counts
        passed = frame.passed or {}
        start = frame.loop.segments[0].position if frame.loop.segments else 0
        loop_position = start - self.header.position + 1 if start else 0
        for i in spec.required:
            if counts[i]:
                continue
            item = spec.items[i]
            at = passed.get(i, seg)
            if isinstance(item, SegmentSpec):
                self._add(
                    FindingKind.SEGMENT,
                    SegmentError.REQUIRED_MISSING,
                    f"required segment {item.id} missing in loop {spec.id}",
                    at,
                    spec.id,
                    segment_id=item.id,
                    loop_position=loop_position,
                )
            else:
                self._add(
                    FindingKind.SEGMENT,
                    SegmentError.REQUIRED_MISSING,
                    f"required loop {item.id} missing in loop {spec.id}",
                    at,
                    item.id,
                    segment_id=item.trigger.id,
                    loop_position=loop_position,
                )
        if not self.stream or not self.stack:
            return
        parent = self.stack[-1]
        if spec.id in self.claim_loops:
            parent.loop.loops.remove(frame.loop)
            parent.had_claims = True
            self.ready.append(self._claim(frame))
            self.trailer_mark = len(self.result.root.segments)
            self.claim_findings_end = len(self.findings)
        elif frame.had_claims:
            parent.loop.loops.remove(frame.loop)
            parent.had_claims = True

    def _claim(self, frame: _Frame) -> ClaimItem:
        ancestors: list[Loop] = []
        path = [f.loop for f in self.stack]
        for i, loop in enumerate(path):
            nxt = path[i + 1] if i + 1 < len(path) else None
            ancestors.append(Loop(loop.id, list(loop.segments), [c for c in loop.loops if c is not nxt]))
        r = self.result
        claim_findings = self.findings[frame.finding_mark :]
        return ClaimItem(
            frame.loop, ancestors, self.header, r.interchange, r.group, r.guide_id, claim_findings
        )

    def finish(self, se: Segment | None) -> TransactionSet:
        """Close every loop at SE (or at a missing SE) and return the set."""
        if self.hierarchy is not None:
            self._report_hl(self.hierarchy.finish())
        self._pop_to(0, se or self.last)
        if self.stack:
            root_frame = self.stack.pop()
            if self.guide is not None:
                self._close(root_frame, se or self.last)
        if se is not None:
            self.result.root.segments.append(se)
            self._check_se(se)
        return self.result

    def trailer(self, se: Segment | None) -> TrailerItem:
        """The set's segments after its last claim loop, with the header context (streaming)."""
        r = self.result
        root = r.root
        segments = [s for s in root.segments if s is not se]
        mark = len(segments) if self.trailer_mark is None else self.trailer_mark
        header = Loop(root.id, segments[:mark], list(root.loops))
        return TrailerItem(
            segments[mark:],
            header,
            self.header,
            r.interchange,
            r.group,
            r.guide_id,
            se,
            self.findings[self.claim_findings_end :],
        )

    def _check_se(self, se: Segment) -> None:
        specs = SEGMENTS["SE"]
        for issue in check_segment(se, specs, self.d):
            self._add(FindingKind.ELEMENT, issue.code, issue.message, se, "ST", element=issue.element)


def _note_passed(frame: _Frame, order: int, seg: Segment) -> None:
    """Remember ``seg`` for every required item of ``frame`` not seen whose place, in guide
    order, comes before ``order``: the loop is moving past it."""
    items = frame.spec.items
    counts = frame.counts
    for i in frame.spec.required:
        if not counts[i] and items[i].order < order:
            if frame.passed is None:
                frame.passed = {}
            frame.passed.setdefault(i, seg)


_SET_KINDS = (FindingKind.TRANSACTION, FindingKind.SEGMENT, FindingKind.ELEMENT)


class _Driver:
    """Runs tokenizer, envelope and set walkers over one input."""

    def __init__(self, source: Source, *, stream: bool) -> None:
        self.tokens = Tokenizer(source)
        self.envelope = Envelope()
        self.stream = stream
        self.result = ReadResult()
        self.walker: _SetWalker | None = None
        self.set_findings: list[Finding] = []
        self.trailers: list[TrailerItem] = []
        self.token_mark = 0  # tokenizer findings up to here are placed
        # id of a tokenizer finding given to a set (None: the set's copy is listed with the set's
        # findings) or to an interchange (its copy, stamped with the interchange, takes its place)
        self.routed: dict[int, Finding | None] = {}

    def _place_token_findings(self, before: int) -> None:
        """Give the tokenizer's new findings their set or interchange, up to the segment at
        ``before`` (0: all of them).

        An empty segment inside a transaction set is that set's error (its 999 reports it);
        the tokenizer finds it while splitting text ahead of the segments fed so far, so it
        waits until the segment it follows has been fed. Data after an interchange's IEA
        belongs to that interchange (its TA1 reports it).
        """
        findings = self.tokens.findings
        result = self.result
        while self.token_mark < len(findings):
            f = findings[self.token_mark]
            if f.kind is FindingKind.SEGMENT:
                if before and f.position >= before:
                    return
                walker = self.walker
                if walker is not None and self.envelope.set is walker.header and f.position:
                    header = walker.header
                    moved = replace(
                        f,
                        set_position=f.position - header.position + 1,
                        loop_id=walker.stack[-1].spec.id if walker.stack else "ST",
                        interchange=walker.result.interchange.control_number
                        if walker.result.interchange
                        else "",
                        group=walker.result.group.control_number if walker.result.group else "",
                        transaction=header.control_number,
                    )
                    walker.findings.append(moved)
                    self.routed[id(f)] = None
            elif (
                f.kind is FindingKind.INTERCHANGE
                and f.code == InterchangeNote.INVALID_CONTENT
                and result.interchanges
                and result.interchange_findings
            ):
                stamped = replace(f, interchange=result.interchanges[-1].control_number)
                result.interchange_findings[-1].append(stamped)
                self.routed[id(f)] = stamped
            self.token_mark += 1

    def _finish_set(self, se: Segment | None) -> None:
        walker = self.walker
        if walker is None:
            return
        self.walker = None
        tx = walker.finish(se)
        self.set_findings.extend(tx.findings)
        if self.stream:
            self.trailers.append(walker.trailer(se))
        else:
            self.result.transactions.append(tx)

    def run(self) -> Iterator[ClaimItem]:
        env = self.envelope
        result = self.result
        last: Segment | None = None
        keep_headers = not self.stream  # a stream keeps no more than it must
        token_findings = self.tokens.findings
        for seg in self.tokens:
            if len(token_findings) > self.token_mark:
                self._place_token_findings(0 if seg.id == "ISA" else seg.position)
            last = seg
            walker = self.walker
            if walker is not None and env.set is not None and seg.id not in _ENVELOPE_IDS:
                walker.feed(seg)
                if walker.ready:
                    yield from walker.ready
                    walker.ready.clear()
                continue
            if keep_headers and seg.id in _HEADER_IDS:
                result.headers.append((seg, self.tokens.delimiters))
            mark = len(env.findings)
            place = env.feed(seg, self.tokens.delimiters)
            new = env.findings[mark:]
            if place is Place.ISA and env.interchange is not None:
                result.interchanges.append(env.interchange)
                result.interchange_findings.append(env.interchange_findings)
            elif place is Place.GS and env.group is not None:
                result.groups.append(env.group)
                result.group_interchanges.append(env.interchange)
                result.group_counts.append(None)
                result.group_findings.append(env.group_findings)
            elif place is Place.GE and env.closed_by is seg and result.group_counts:
                result.group_counts[-1] = seg.get(1)
            elif place is Place.TA1:
                result.ta1.append(seg)
            if walker is not None and place is not Place.SE and env.set is not walker.header:
                walker.findings.extend(
                    f for f in new if f.kind in _SET_KINDS and f.code == SetError.TRAILER_MISSING
                )
                new = [f for f in new if not (f.kind in _SET_KINDS and f.code == SetError.TRAILER_MISSING)]
                self._finish_set(None)
                walker = None
            if place is Place.ST and env.set is not None:
                header = env.set
                guide = guide_for(header.id, header.version)
                walker = self.walker = _SetWalker(
                    header,
                    guide,
                    self.tokens.delimiters or Delimiters(),
                    env.interchange,
                    env.group,
                    stream=self.stream,
                )
                walker.findings.extend(f for f in new if f.kind in _SET_KINDS)
                walker.feed(seg)
            elif place is Place.SE and walker is not None:
                walker.findings.extend(f for f in new if f.kind in _SET_KINDS)
                self._finish_set(seg)
                if walker.ready:
                    yield from walker.ready
                    walker.ready.clear()
            elif place is Place.BODY and walker is not None:
                walker.feed(seg)
        self._place_token_findings(0)
        if self.walker is not None:
            walker = self.walker
            mark = len(env.findings)
            env.finish(last)
            walker.findings.extend(f for f in env.findings[mark:] if f.kind in _SET_KINDS)
            self._finish_set(None)
            if walker.ready:
                yield from walker.ready
                walker.ready.clear()
        else:
            env.finish(last)
        routed = {id(f) for f in self.set_findings}
        tokens = [self.routed.get(id(f), f) for f in self.tokens.findings]
        result.findings = [
            *(f for f in tokens if f is not None),
            *(f for f in env.findings if id(f) not in routed),
            *self.set_findings,
        ]


_ENVELOPE_IDS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE", "TA1"})
_HEADER_IDS = frozenset({"ISA", "GS", "ST", "TA1"})


def read(source: Source) -> ReadResult:
    """Read every transaction set of an input into loop trees, with all findings."""
    driver = _Driver(source, stream=False)
    with collector_paused():  # no caller code runs until the trees are complete
        for _ in driver.run():
            pass
    return driver.result


class ClaimStream:
    """Iterate the claims of an input one at a time; ``findings`` is complete once iteration ends.

    ``trailers`` holds one ``TrailerItem`` per transaction set, added when its SE is read:
    what follows the last claim (the 835 PLB provider adjustments) with the set's header.
    Transaction sets without claim loops (999, TA1...) yield nothing; read them with ``read``.
    """

    def __init__(self, source: Source) -> None:
        self._driver = _Driver(source, stream=True)

    def __iter__(self) -> Iterator[ClaimItem]:
        return self._driver.run()

    @property
    def findings(self) -> list[Finding]:
        return self._driver.result.findings

    @property
    def trailers(self) -> list[TrailerItem]:
        return self._driver.trailers

    @property
    def result(self) -> ReadResult:
        """Interchange and group headers and findings (transaction trees are not kept)."""
        return self._driver.result


def read_claims(source: Source) -> ClaimStream:
    """Stream the claim loops of an input (835 2100, 837 2300, 277 2200D...) with their context."""
    return ClaimStream(source)
