"""JSON from outside (import files, Jira responses, webhook bodies), decoded strictly.

Python's ``json`` quietly keeps the last of two members with the same name (a ``labels`` member
given twice dropped a ``Vulnerability`` label, m2), turns ``\\ud800`` into a string no encoder
accepts, reads integers of thousands of digits until the conversion limit raises a bare
``ValueError``, and lets a NUL through that PostgreSQL then refuses (m4). :func:`loads` refuses
each of these with an :class:`~vulnmark.errors.InputError` that names the member, and,
where asked, nesting deeper than a limit (a webhook body).
"""

from __future__ import annotations

import json
import re
from typing import Any

from vulnmark.errors import InputError

#: The most digits an integer may have: no ticket field needs more (Jira ids have ~10).
MAX_INT_DIGITS = 100

_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")


def loads(text: str | bytes, *, max_depth: int | None = None, replace: bool = False) -> Any:
    """Decode ``text``; :class:`InputError` for duplicate member names, lone surrogates, NUL
    characters, huge integers, and nesting deeper than ``max_depth`` (or than Python can
    decode). Malformed JSON raises :class:`json.JSONDecodeError` (callers name its line).

    ``replace=True`` (Jira's answers: one user pasting a lone surrogate into a summary must
    not stop the sync for everyone) turns lone surrogates and NUL into U+FFFD instead."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InputError(f"not UTF-8 (byte 0x{text[e.start]:02x} at offset "
                             f"{e.start})") from None
    depth = 0 if max_depth is None else _depth(text, max_depth)
    if max_depth is not None and depth > max_depth:
        raise InputError(f"JSON nested too deeply ({depth} levels; at most {max_depth})")
    try:
        value = json.loads(text, object_pairs_hook=_replacing if replace else _object,
                           parse_int=_int)
    except RecursionError:
        raise InputError("JSON nested too deeply") from None
    if replace:
        return _clean(value)
    if isinstance(value, str | list):
        _check_value(value, "")
    return value


def _replacing(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return _object([(_clean(name), _clean(value)) for name, value in pairs])


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return _BAD_CHAR.sub("\ufffd", value) if _BAD_CHAR.search(value) else value
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise InputError(f"duplicate member name {name!r} in one object"
                                 f"{_whose(pairs)}: refusing to guess which one counts",
                                 field=name)
            seen.add(name)
    for name, value in pairs:
        if _BAD_CHAR.search(name):
            raise InputError(f"member name {_show(name)} {_why(name)}")
        if isinstance(value, str | list):
            _check_value(value, name)
    return obj


def _whose(pairs: list[tuple[str, Any]]) -> str:
    key = next((v for k, v in pairs if k == "key"), None)
    return f" (ticket {key!r})" if isinstance(key, str) and len(key) < 100 else ""


def _check_value(value: str | list[Any], name: str) -> None:
    if isinstance(value, str):
        if _BAD_CHAR.search(value):
            raise InputError(_why(value), field=name or None)
        return
    for item in value:
        if isinstance(item, str | list):
            _check_value(item, name)


def _why(text: str) -> str:
    m = _BAD_CHAR.search(text)
    assert m is not None
    if m.group() == "\x00":
        return "contains a NUL character (\\u0000)"
    return f"contains a lone surrogate (\\u{ord(m.group()):04x}), which is not a character"


def _show(text: str) -> str:
    return ascii(text[:60])


def _int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise InputError(f"an integer of {len(digits.lstrip('-'))} digits (at most "
                         f"{MAX_INT_DIGITS}): {digits[:20]}…")
    return int(digits)


def _depth(text: str, limit: int) -> int:
    """The deepest nesting of ``[``/``{`` outside strings (one linear scan)."""
    if text.count("[") + text.count("{") <= limit:
        return 0  # cannot be deeper than the brackets it has
    depth = deepest = 0
    for m in _TOKENS.finditer(text):
        ch = m.group()
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)
