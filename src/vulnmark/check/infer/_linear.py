"""Regular expressions that cannot hang on attacker-written ticket text (m12, ReDoS).

Python's ``re`` backtracks: ``(a+)+$`` takes exponential time on ``"a" * 34 + "b"`` and
``\\s*\\s*\\s*x`` polynomial time of high degree on a run of spaces; ticket text is written by
anyone who can file a Jira issue. A pattern applied to ticket text must stay in a subset whose
matching cost is linear in the text it is given (:func:`why_not_linear` says why one is not):

* no backreference, conditional group, or lookaround of unbounded width;
* a quantifier that repeats more than once (``*``, ``+``, ``{2,}``, ``{0,40}``) repeats one
  character or character class; a group may only be optional (``(…)?``);
* two such quantifiers that can consume the same character with nothing in between that stops
  them (``\\s*\\s*``, ``\\w+\\d*``, ``.*a?.*``) are refused: each attempt then costs at most
  one pass over the text a quantifier can eat.

Searching (``finditer``) still tries every start position, so the text given to a configured
pattern at once is bounded too: :func:`windows` cuts a field (itself capped by
:data:`vulnmark.check.infer._text.FIELD_CHARS`) into lines of at most :data:`WINDOW_CHARS`.
``benchmarks/redos.py`` measures the known pathological inputs.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from typing import Any

#: The standard library's own regex parser and its opcodes (no stubs: typed as Any). They are
#: what ``re.compile`` uses, so the check sees exactly the pattern that will run.
_parser: Any = importlib.import_module("re._parser")
C: Any = importlib.import_module("re._constants")

__all__ = ["WINDOW_CHARS", "search", "why_not_linear", "windows"]

#: Longest stretch of one field a configured pattern searches at once (a line, or a piece of
#: a longer line): the search's cost per window is at most quadratic in this, so linear in
#: the field. Pieces of a long line overlap by half, so a match of up to half this length is
#: always inside one piece.
WINDOW_CHARS = 256

#: Characters standing for "any character" when deciding whether two items overlap:
#: ASCII, and letters, digits and spaces of other scripts (Unicode \w, \d, \s).
_PROBE = "".join(map(chr, range(128))) + "\u00a0\u00e9\u0151\u00df\u0416\u4e2d\u0663\u2003\u200b"
_SINGLE = {C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN}
_REPEATS = {C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT}
_CATEGORIES: dict[Any, Callable[[str], bool]] = {
    C.CATEGORY_DIGIT: str.isdigit, C.CATEGORY_SPACE: str.isspace,
    C.CATEGORY_WORD: lambda ch: ch.isalnum() or ch == "_",
}


class _Unsafe(Exception):
    pass


def why_not_linear(regex: str, flags: int = 0) -> str | None:
    """None when ``regex`` is in the linear-time subset (module docstring), else the reason
    ("a repeated group: ...")."""
    try:
        parsed = _parser.parse(regex, flags)
    except re.error as e:
        return f"invalid regular expression: {e}"
    icase = bool(parsed.state.flags & re.IGNORECASE)
    try:
        _check(list(parsed), icase)
    except _Unsafe as e:
        return str(e)
    return None


def windows(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) spans covering ``text``: its lines, and a line longer than
    :data:`WINDOW_CHARS` as pieces of that length that overlap by half."""
    limit = len(text)
    start = 0
    while start < limit:
        nl = text.find("\n", start, limit)
        end = limit if nl < 0 else nl
        step = WINDOW_CHARS // 2
        while end - start > WINDOW_CHARS:
            yield start, start + WINDOW_CHARS
            start += step
        yield start, end
        start = end + 1


def search(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """The non-empty matches of ``pattern`` in ``text``, window by window (:func:`windows`):
    each once; none that ends at a window's cut inside a line (``$`` would match there; a real
    match is found whole in the next window)."""
    seen: set[tuple[int, int]] = set()
    for start, end in windows(text):
        cut = end < len(text) and text[end] != "\n"
        for m in pattern.finditer(text, start, end):
            span = m.span()
            if span[1] > span[0] and span not in seen and not (cut and span[1] == end):
                seen.add(span)
                yield m


def _check(items: list[tuple[Any, Any]], icase: bool) -> None:
    for op, av in items:
        if op in (C.GROUPREF, C.GROUPREF_IGNORE, C.GROUPREF_LOC_IGNORE, C.GROUPREF_UNI_IGNORE):
            raise _Unsafe("a backreference (matching it can take exponential time)")
        if op is C.GROUPREF_EXISTS:
            raise _Unsafe("a conditional group (?(…)…)")
        if op in (C.ASSERT, C.ASSERT_NOT):
            if _has_repeat(av[1]):
                raise _Unsafe("a lookaround with a repeat in it (use a fixed-width one)")
            _check(list(av[1]), icase)
        elif op in _REPEATS:
            _lo, hi, sub = av
            sub = list(sub)
            if hi > 1 and not (len(sub) == 1 and sub[0][0] in _SINGLE):
                raise _Unsafe("a repeated group such as (a+)+ or (x|y)* (it can take "
                              "exponential time); repeat single characters or classes only")
            _check(sub, icase)
        elif op is C.SUBPATTERN:
            _check(list(av[-1]), icase)
        elif op is C.ATOMIC_GROUP:
            _check(list(av), icase)
        elif op is C.BRANCH:
            for branch in av[1]:
                _check(list(branch), icase)
    _check_overlap(list(_flatten(items, optional=False)), icase)


def _has_repeat(items: Any) -> bool:
    for op, av in items:
        if op in _REPEATS and av[1] > 1:
            return True
        if op is C.SUBPATTERN and _has_repeat(av[-1]):
            return True
        if op is C.BRANCH and any(_has_repeat(b) for b in av[1]):
            return True
    return False


def _flatten(items: list[tuple[Any, Any]], *, optional: bool) -> Iterator[tuple[str, Any]]:
    """The sequence as ("repeat", item) / ("one", item) / ("skip", None) elements; groups that
    are not repeated are opened, alternations are one opaque element."""
    for op, av in items:
        if op in _REPEATS and av[1] > 1:
            yield "repeat", av[2][0]
        elif op in _REPEATS:  # x? or (…)?: may match nothing, so it stops nothing
            yield from ((kind if kind == "repeat" else "skip", item)
                        for kind, item in _flatten(list(av[2]), optional=True))
        elif op is C.SUBPATTERN:
            yield from _flatten(list(av[-1]), optional=optional)
        elif op is C.ATOMIC_GROUP:
            yield from _flatten(list(av), optional=optional)
        elif op in _SINGLE or op is C.BRANCH:
            yield ("skip" if optional else "one"), (op, av)
        else:  # anchors (^ $ \b) and lookarounds consume nothing
            yield "skip", None


def _check_overlap(elements: list[tuple[str, Any]], icase: bool) -> None:
    for i, (kind, item) in enumerate(elements):
        if kind != "repeat":
            continue
        both = _chars(item, icase)
        for kind2, item2 in elements[i + 1:]:
            if kind2 == "skip":
                continue
            both &= _chars(item2, icase)
            if not both:
                break
            if kind2 == "repeat":
                raise _Unsafe("two repeats that can take the same characters one after the "
                              "other (like \\s*\\s* or .*.*); they take polynomial time")


def _chars(item: tuple[Any, Any], icase: bool) -> frozenset[str]:
    """The probe characters ``item`` (a single-character item or an alternation) can match."""
    op, av = item
    if op is C.BRANCH:
        out: set[str] = set()
        for branch in av[1]:
            for sub in branch:
                out |= _all_chars(sub, icase)
        return frozenset(out)
    return frozenset(ch for ch in _PROBE if _matches(op, av, ch, icase))


def _all_chars(item: tuple[Any, Any], icase: bool) -> frozenset[str]:
    op, av = item
    if op in _SINGLE:
        return _chars(item, icase)
    out: set[str] = set()
    subs = (av[2] if op in _REPEATS else av[-1] if op is C.SUBPATTERN
            else [s for b in av[1] for s in b] if op is C.BRANCH else [])
    for sub in subs:
        out |= _all_chars(sub, icase)
    return frozenset(out)


def _matches(op: Any, av: Any, ch: str, icase: bool) -> bool:
    variants = {v for v in (ch, ch.lower(), ch.upper()) if len(v) == 1} if icase else {ch}
    if op is C.ANY:
        return ch != "\n"
    if op is C.LITERAL:
        return chr(av) in variants
    if op is C.NOT_LITERAL:
        return chr(av) not in variants
    negate = False
    hit = False
    for sop, sav in av:  # op is IN
        if sop is C.NEGATE:
            negate = True
        elif sop is C.LITERAL:
            hit |= chr(sav) in variants
        elif sop is C.RANGE:
            hit |= any(sav[0] <= ord(v) <= sav[1] for v in variants)
        elif sop is C.CATEGORY:
            if sav in _CATEGORIES:
                hit |= _CATEGORIES[sav](ch)
            elif (positive := _negated(sav)) is not None:
                hit |= not _CATEGORIES[positive](ch)
            else:
                hit = True  # a category this does not know: assume it overlaps
    return hit != negate


def _negated(category: Any) -> Any:
    return {C.CATEGORY_NOT_DIGIT: C.CATEGORY_DIGIT, C.CATEGORY_NOT_SPACE: C.CATEGORY_SPACE,
            C.CATEGORY_NOT_WORD: C.CATEGORY_WORD}.get(category)
