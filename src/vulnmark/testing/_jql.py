"""A JQL subset for the Jira emulator: the clauses vulnmark emits plus simple scopes.

Grammar (case-insensitive keywords)::

    query   := expr? ("ORDER BY" field [ASC|DESC] ("," field [ASC|DESC])*)?
    expr    := term (OR term)*
    term    := factor (AND factor)*
    factor  := NOT factor | "(" expr ")" | clause
    clause  := field op value | field [NOT] IN "(" value ("," value)* ")" | field IS [NOT] EMPTY

Fields: ``project``, ``key``/``issuekey``, ``labels``, ``resolution``, ``status``,
``issuetype``, ``priority``, ``created``, ``updated``. Dates: ``"-Nm"``/``"-Nh"``/``"-Nd"``
relative to now, or ``"yyyy-MM-dd[ HH:mm]"`` in UTC. Unknown syntax raises :class:`JqlError`
(the emulator answers 400 like Jira).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

Predicate = Callable[[Any, datetime], bool]
"""(issue, now) -> bool; the issue has ``field_values(name)`` and ``date(name)``."""


class JqlError(ValueError):
    """The query is not valid in the supported subset."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|>=|<=|=|>|<|\(|\)|,|~)
      | (?P<word>[^\s"'=!<>(),~]+)
    )""",
    re.X,
)
_ESC = {"t": "\t", "n": "\n", "r": "\r", '"': '"', "'": "'", "\\": "\\", " ": " "}
DATE_FIELDS = {"created", "updated"}
EMPTY = {"empty", "null"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    quoted: bool = False


def _unquote(s: str) -> str:
    out: list[str] = []
    i = 1
    while i < len(s) - 1:
        ch = s[i]
        if ch == "\\":
            nxt = s[i + 1]
            if nxt == "u":
                out.append(chr(int(s[i + 2 : i + 6], 16)))
                i += 6
                continue
            if nxt not in _ESC:
                raise JqlError(f"illegal escape \\{nxt} in {s}")
            out.append(_ESC[nxt])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def tokenize(jql: str) -> list[Token]:
    pos, tokens = 0, []
    while pos < len(jql):
        if jql[pos:].strip() == "":
            break
        m = _TOKEN.match(jql, pos)
        if not m:
            raise JqlError(f"cannot parse JQL at character {pos}: {jql[pos:pos + 20]!r}")
        pos = m.end()
        if m.group("str"):
            tokens.append(Token("value", _unquote(m.group("str")), quoted=True))
        elif m.group("op"):
            tokens.append(Token("op", m.group("op")))
        else:
            tokens.append(Token("value", m.group("word")))
    return tokens


@dataclass(frozen=True)
class Query:
    predicate: Predicate | None
    order_by: tuple[tuple[str, bool], ...]
    """(field, descending) pairs."""
    keys: tuple[str, ...] = ()
    """Issue keys named in ``key``/``issuekey`` clauses (Jira rejects unknown ones)."""

    @property
    def bounded(self) -> bool:
        return self.predicate is not None


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.toks = tokens
        self.i = 0
        self.keys: list[str] = []

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def kw(self, *words: str) -> bool:
        for n, w in enumerate(words):
            t = self.peek(n)
            if t is None or t.quoted or t.text.lower() != w:
                return False
        return True

    def take(self) -> Token:
        t = self.peek()
        if t is None:
            raise JqlError("unexpected end of JQL")
        self.i += 1
        return t

    def expect(self, text: str) -> None:
        t = self.take()
        if t.text.lower() != text or t.quoted:
            raise JqlError(f"expected {text!r}, found {t.text!r}")

    def query(self) -> Query:
        pred = None if self.kw("order", "by") or self.peek() is None else self.expr()
        order: list[tuple[str, bool]] = []
        if self.kw("order", "by"):
            self.i += 2
            while True:
                field = self.take().text.lower()
                desc = False
                if self.kw("asc") or self.kw("desc"):
                    desc = self.take().text.lower() == "desc"
                order.append((field, desc))
                if self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                    self.i += 1
                    continue
                break
        if self.peek() is not None:
            raise JqlError(f"unexpected {self.peek().text!r}")  # type: ignore[union-attr]
        return Query(pred, tuple(order), tuple(self.keys))

    def expr(self) -> Predicate:
        parts = [self.term()]
        while self.kw("or"):
            self.i += 1
            parts.append(self.term())
        if len(parts) == 1:
            return parts[0]
        return lambda issue, now: any(p(issue, now) for p in parts)

    def term(self) -> Predicate:
        parts = [self.factor()]
        while self.kw("and"):
            self.i += 1
            parts.append(self.factor())
        if len(parts) == 1:
            return parts[0]
        return lambda issue, now: all(p(issue, now) for p in parts)

    def factor(self) -> Predicate:
        if self.kw("not"):
            self.i += 1
            inner = self.factor()
            return lambda issue, now: not inner(issue, now)
        t = self.peek()
        if t is not None and t.text == "(" and not t.quoted:
            self.i += 1
            inner = self.expr()
            self.expect(")")
            return inner
        return self.clause()

    def values(self) -> list[Token]:
        self.expect("(")
        vals = [self.take()]
        while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
            self.i += 1
            vals.append(self.take())
        self.expect(")")
        return vals

    def clause(self) -> Predicate:
        field = self.take().text.lower()
        if field == "issuekey":
            field = "key"
        if self.kw("is", "not"):
            self.i += 2
            self._empty()
            return lambda issue, now: bool(issue.field_values(field))
        if self.kw("is"):
            self.i += 1
            self._empty()
            return lambda issue, now: not issue.field_values(field)
        if self.kw("not", "in"):
            self.i += 2
            vals = {v.text for v in self.values()}
            return lambda issue, now: bool(
                issue.field_values(field)
            ) and not vals.intersection(issue.field_values(field))
        if self.kw("in"):
            self.i += 1
            vals = {v.text for v in self.values()}
            if field == "key":
                self.keys.extend(sorted(vals))
            return lambda issue, now: bool(vals.intersection(issue.field_values(field)))
        op = self.take().text
        value = self.take()
        if field == "key" and op == "=":
            self.keys.append(value.text)
        if field in DATE_FIELDS and op in (">=", "<=", ">", "<", "="):
            return _date_clause(field, op, value.text)
        if op == "=":
            return lambda issue, now: value.text in issue.field_values(field)
        if op == "!=":
            return lambda issue, now: bool(
                issue.field_values(field)
            ) and value.text not in issue.field_values(field)
        raise JqlError(f"operator {op!r} is not supported for field {field!r}")

    def _empty(self) -> None:
        t = self.take()
        if t.text.lower() not in EMPTY:
            raise JqlError(f"expected EMPTY, found {t.text!r}")


_REL = re.compile(r"^([+-]?)(\d+)([mhdw])$")
_UNITS = {"m": 1, "h": 60, "d": 1440, "w": 10080}


def _date_clause(field: str, op: str, text: str) -> Predicate:
    rel = _REL.match(text.strip())
    absolute: datetime | None = None
    if not rel:
        for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
            try:
                absolute = datetime.strptime(text.strip(), fmt).replace(tzinfo=UTC)
                break
            except ValueError:
                continue
        if absolute is None:
            raise JqlError(f"date value {text!r} for field {field!r} is not valid")

    def bound(now: datetime) -> datetime:
        if absolute is not None:
            return absolute
        assert rel is not None
        sign = -1 if rel.group(1) == "-" else 1
        return now + sign * timedelta(minutes=int(rel.group(2)) * _UNITS[rel.group(3)])

    ops: dict[str, Callable[[datetime, datetime], bool]] = {
        ">=": lambda a, b: a >= b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        "<": lambda a, b: a < b,
        "=": lambda a, b: a == b,
    }
    cmp = ops[op]
    return lambda issue, now: cmp(issue.date(field), bound(now))


def parse(jql: str) -> Query:
    return _Parser(tokenize(jql)).query()
