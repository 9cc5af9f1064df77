"""``read(ticket, policy)``: what the text of a ticket says about its class.

Reading order is title, description, then comments 0..n. When the text states several classes
the most severe one is suggested (a text about several issues is as severe as its worst one),
unless a statement explicitly re-rates the issue ("reclassified to MEDIUM after investigation",
"downgraded to LOW"): then that latest re-rating wins over everything stated before it.
Inside one piece of text a CVSS v3/v4 vector or score outranks a v2 one, since v2 has no
CRITICAL, and a worded class outranks the CVSS score it cites right after it ("Severity: High
(CVSS 6.5)"). When the classes still in force disagree (text against vector, two statements),
the evidence shows the disagreeing snippet too and the confidence stays below 0.7, under every
auto-apply threshold. The Jira priority counts only when the policy says
``priority_is_severity = true``, and then only when the text states nothing (evidence field
``label``, text ``priority: <name>``).

Speed: all text of a ticket is lower-cased once and scanned once for the gating stems
(:mod:`._scan`); the language patterns, CVSS parsers and signal patterns then run only in
windows around what was found.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from vulnmark.check.infer import _controls, _signals, _statements
from vulnmark.check.infer._cvss import ratings
from vulnmark.check.infer._grammar import MID_WORD
from vulnmark.check.infer._linear import search
from vulnmark.check.infer._options import Options, options_for
from vulnmark.check.infer._prose import Prose
from vulnmark.check.infer._scan import StemIndex, Stems, scan
from vulnmark.check.infer._text import Segment, lowered, snippet, split
from vulnmark.check.infer._vocab import (
    ANY_CLASS,
    CANONICAL,
    POLICY_SCALE,
    canonical_class,
    scale_note,
)
from vulnmark.config.policy import Policy
from vulnmark.model import Evidence, Reading, Ticket

logger = logging.getLogger(__name__)

_MAX_EVIDENCE = 3
_MAX_SIGNALS = 5
_NEAR = 80  # characters
_PRIORITY = re.compile(rf"\s*(?P<cls>{ANY_CLASS})\s*", re.IGNORECASE)


#: Stems found inside words (the statement ones of :data:`._grammar.MID_WORD`, "insecure",
#: "unauthorized", "csrf", "rustsec-"); every other stem counts at a word start.
_MID_WORD = MID_WORD.union({"secur", "authori", "srf", "sec-", "passw"})


#: What makes a text worth the CVSS parsers (:func:`ratings` needs one of them), and a
#: parenthesised class word ("(High)" at a line end can state a class): found by the same
#: scan as the stems, anywhere in a word, instead of one more pass over the text each.
_CVSS_MARKS = ("cvss", "av:", "score")
_PAREN_MARKS = tuple(f"({word})" for word in _statements.PAREN_WORDS)


def _stem_table() -> Stems:
    """Every gating stem once, with the groups it serves (statement languages, signals, then
    the CVSS and parenthesis marks)."""
    by_stem: dict[str, list[int]] = {}
    for g, stems in enumerate(_statements.GROUP_STEMS):
        for stem in stems:
            by_stem.setdefault(stem, []).append(g)
    for group, stems in ((_STRONG, _signals.STRONG_STEMS), (_WEAK, _signals.WEAK_STEMS),
                         (_CVSS, _CVSS_MARKS), (_PAREN, _PAREN_MARKS),
                         (_CONTROL, _controls.STEMS)):
        for stem in stems:
            by_stem.setdefault(stem, []).append(group)
    anywhere = _MID_WORD.union(_CVSS_MARKS, _PAREN_MARKS)
    return tuple(
        (stem, tuple(groups), stem not in anywhere) for stem, groups in by_stem.items()
    )


_STRONG = len(_statements.GROUP_STEMS)
_WEAK = _STRONG + 1
_CVSS = _STRONG + 2
_PAREN = _STRONG + 3
_CONTROL = _STRONG + 4  # a failed control described in plain words (_controls)
_SIGNAL_GROUPS = (_STRONG, _WEAK, _CONTROL)
_STEMS = _stem_table()
_ASCII_STEMS = tuple(s for s in _STEMS if s[0].isascii())
_INDEX = StemIndex.build(_STEMS)
_ASCII_INDEX = StemIndex.build(_ASCII_STEMS)
_SIGNAL_ONLY = tuple(
    (stem, tuple(_SIGNAL_GROUPS.index(g) for g in groups if g in _SIGNAL_GROUPS), word_start)
    for stem, groups, word_start in _STEMS
    if any(g in _SIGNAL_GROUPS for g in groups)
)
_SIGNAL_INDEX = StemIndex.build(_SIGNAL_ONLY)
_ASCII_SIGNAL_INDEX = StemIndex.build(tuple(s for s in _SIGNAL_ONLY if s[0].isascii()))
_MARGINS = (*(_statements.MARGIN for _ in _statements.GROUP_STEMS), _signals.MARGIN,
            _signals.MARGIN, (0, 0), (0, 0), _controls.MARGIN)
_SIGNAL_MARGINS = tuple(_MARGINS[g] for g in _SIGNAL_GROUPS)  # the margins of _SIGNAL_INDEX


@dataclass(frozen=True)
class _Candidate:
    cls: str
    order: int
    pos: int
    confidence: float
    evidence: Evidence
    cvss_version: int | None = None
    revises: bool = False


def _evidence(seg: Segment, start: int, end: int, note: str = "") -> Evidence:
    return Evidence(seg.field, snippet(seg, start, end) + note, seg.comment)


def _stated(seg: Segment, st: _statements.Statement, options: Options) -> _Candidate:
    """A statement as a candidate, read on the policy's scales first; the evidence names the
    scale when the word is not the class's own name ("rated important [scale: Microsoft/Red
    Hat, important = HIGH]")."""
    own = options.rescaled(st.word) if options.scales else None
    cls = own or st.cls
    note = scale_note(st.word, cls, POLICY_SCALE if own else None) if st.word else ""
    return _Candidate(cls, seg.order, st.start, st.confidence,
                      _evidence(seg, st.start, st.end, note), None, st.revises)


def _segment_candidates(
    seg: Segment, options: Options, wins: list[list[tuple[int, int]]], cvss: bool
) -> list[_Candidate]:
    text = seg.text
    found = [_stated(seg, st, options)
             for st in _statements.statements(text, seg.low, wins[:_STRONG])]
    rated = list(ratings(text, seg.low)) if cvss else []
    if any(r.version >= 3 for r in rated):
        rated = [r for r in rated if r.version >= 3]
    found.extend(
        _Candidate(r.cls, seg.order, r.start, r.confidence, _evidence(seg, r.start, r.end),
                   r.version)
        for r in rated
    )
    for pattern, cls in options.patterns:
        for m in search(pattern, text):  # m12: a bounded stretch at a time (see _linear)
            found.append(_Candidate(cls, seg.order, m.start(), 0.9, _evidence(seg, *m.span())))
    return found


def _priority_candidate(ticket: Ticket, policy: Policy) -> _Candidate | None:
    priority = ticket.priority
    if not priority:
        return None
    cls: str | None = None
    note = ""
    match = policy.match_label(priority) if policy.classes else None
    if match is not None and match.role == "class":
        cls = match.canonical
    elif _PRIORITY.fullmatch(priority):
        cls = canonical_class(priority)
        note = scale_note(priority, cls, None) if cls else ""
    if cls is None:
        return None
    return _Candidate(cls, -1, 0, 0.6, Evidence("label", f"priority: {priority}{note}"))


class _Signals:
    """Collects strong signals and weak terms; weak ones count from two concepts on."""

    def __init__(self) -> None:
        self.strong: list[Evidence] = []
        self.weak: dict[str, Evidence] = {}
        self._seen: set[str] = set()

    def add(self, seg: Segment, wins: list[list[tuple[int, int]]]) -> None:
        low = seg.low
        strong, weak, control = wins[_STRONG], wins[_WEAK], wins[_CONTROL]
        if seg.raw is not seg.text:  # quoted text still says what the ticket is about
            low = lowered(seg.raw)
            index = _ASCII_SIGNAL_INDEX if low.isascii() else _SIGNAL_INDEX
            strong, weak, control = scan(low, index, _SIGNAL_MARGINS)
        prose = Prose(low)
        found = sorted([*_signals.strong_spans(low, strong),
                        *((s, e, False) for s, e in _controls.control_spans(low, control))])
        for start, end, is_id in found:
            if not is_id and not prose(start, end):
                continue
            term = low[start:end]
            if term not in self._seen and len(self.strong) < _MAX_SIGNALS:
                self._seen.add(term)
                self.strong.append(Evidence(seg.field, snippet(seg, start, end), seg.comment))
        for start, end, name in _signals.weak_spans(low, weak):
            if name not in self.weak and prose(start, end):
                self.weak[name] = Evidence(seg.field, snippet(seg, start, end), seg.comment)

    def result(self) -> tuple[Evidence, ...]:
        weak = list(self.weak.values()) if len(self.weak) >= 2 or self.strong else []
        return tuple([*self.strong, *weak][:_MAX_SIGNALS])


_NONE: list[tuple[int, int]] = []  # shared, never changed


def _clip(spans: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    """The parts of ``spans`` inside ``[start, end)``, relative to ``start``."""
    return [
        (max(lo, start) - start, min(hi, end) - start)
        for lo, hi in spans
        if lo < end and hi > start
    ]


def _in_force(cands: list[_Candidate]) -> tuple[list[_Candidate], list[_Candidate]]:
    """The statements that still count: the priority only when nothing else is stated, a
    CVSS rating right after a worded class in the same text ("Severity: High (CVSS 6.5)") is
    the input to that decision, not a statement of its own, and an explicit re-rating
    ("downgraded to", "after review … LOW") supersedes everything stated before it.
    Returns the statements in force and the cited ratings."""
    stated = [c for c in cands if c.order >= 0] or cands
    worded = [c for c in stated if c.cvss_version is None]
    kept, cited = [], []
    for c in stated:
        if c.cvss_version is not None and any(
                w.order == c.order and c.pos - _NEAR <= w.pos < c.pos for w in worded):
            cited.append(c)
        else:
            kept.append(c)
    revisions = [c for c in kept if c.revises]
    if revisions:
        last = max(revisions, key=lambda c: (c.order, c.pos))
        kept = [c for c in kept if (c.order, c.pos) >= (last.order, last.pos)]
        cited = [c for c in cited if (c.order, c.pos) >= (last.order, last.pos)]
    return kept, cited


def _rank(cls: str) -> int:
    """How severe a class is (lower is more severe); a policy's own class names come last."""
    return CANONICAL.index(cls) if cls in CANONICAL else len(CANONICAL)


def _winner(kept: list[_Candidate]) -> _Candidate:
    """The most severe class stated, a CVSS vector or score before words (it is computed, the
    words are an opinion on some scale); among equals the latest statement."""
    rated = [c for c in kept if c.cvss_version is not None]
    return min(rated or kept, key=lambda c: (_rank(c.cls), -c.order, -c.pos))


def _confidence(
    winner: _Candidate, kept: list[_Candidate], cited: list[_Candidate], cands: list[_Candidate]
) -> float:
    agreeing = [c.confidence for c in kept if c.cls == winner.cls]
    conf = max(agreeing) + 0.02 * (len(agreeing) - 1)
    if any(c.cls != winner.cls for c in (*kept, *cited)):
        conf = min(conf * 0.75, _CONFLICT)  # two classes stated: a person must look
    elif any(c.cls != winner.cls and c.order >= 0 for c in cands):
        conf *= 0.9  # re-rated: believed, but less than an uncontested statement
    return round(max(0.0, min(0.99, conf)), 3)


#: The highest confidence of a reading whose text states two classes: below every
#: auto-apply threshold (``backfill --min-confidence`` defaults to 0.95).
_CONFLICT = 0.7


def _evidence_of(winner: _Candidate, kept: list[_Candidate]) -> tuple[Evidence, ...]:
    """The winner's snippet, the latest disagreeing one (a conflict is shown, not hidden),
    then agreeing ones."""
    evidence = [winner.evidence]
    latest_first = sorted(kept, key=lambda c: (-c.order, -c.pos))
    other = next((c for c in latest_first if c.cls != winner.cls), None)
    if other is not None and other.evidence != winner.evidence:
        evidence.append(other.evidence)
    for c in latest_first:
        if len(evidence) >= _MAX_EVIDENCE:
            break
        if c.cls == winner.cls and c.evidence not in evidence:
            evidence.append(c.evidence)
    return tuple(evidence)


_NOTHING = Reading()


def read(ticket: Ticket, policy: Policy) -> Reading:
    """What the ticket's text says: a suggested class (or None) and vulnerability signals."""
    options = options_for(policy)
    segs, joined = split(ticket)
    parts, start = [], 0
    for seg in segs[:-1]:
        start += len(seg.low) + 1
        parts.append(start)
    cands: list[_Candidate] = []
    if options.priority_is_severity:
        prio = _priority_candidate(ticket, policy)
        if prio is not None:
            cands.append(prio)
    signals: _Signals | None = None
    # One scan of all the text for every gating stem, then windows split per segment.
    all_wins = scan(joined, _ASCII_INDEX if joined.isascii() else _INDEX, _MARGINS, parts)
    cvss = bool(all_wins[_CVSS])
    found = [g for g, spans in enumerate(all_wins) if spans]
    wins = [_NONE] * len(all_wins)
    base = 0
    for seg in segs:
        end = base + len(seg.low)
        for g in found:
            wins[g] = _clip(all_wins[g], base, end)
        base = end + 1
        # without windows, CVSS or own patterns, only "(High)" at a line end can state a class
        if cvss or options.patterns or wins[_PAREN] or any(wins[:_STRONG]):
            cands.extend(_segment_candidates(seg, options, wins, cvss))
        if wins[_STRONG] or wins[_WEAK] or wins[_CONTROL] or seg.raw is not seg.text:
            if signals is None:
                signals = _Signals()
            signals.add(seg, wins)
    evidence_of = signals.result() if signals is not None else ()
    if not cands:
        return Reading(signals=evidence_of) if evidence_of else _NOTHING
    kept, cited = _in_force(cands)
    winner = _winner(kept)
    return Reading(winner.cls, _confidence(winner, kept, cited, cands), _evidence_of(winner, kept),
                   evidence_of)
