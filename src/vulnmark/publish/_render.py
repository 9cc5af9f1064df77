"""What the page's formats share: the catalogue's sentences filled with the policy's values,
each value written as code in the format's own syntax and escaped for it.

A sentence of the catalogue is trusted text with ``{placeholders}``; a value (a label, a
recipient, a JQL query) comes from the configuration and is not trusted: :class:`Writer`
escapes both, each its own way, so a label such as ``<img/src=x/onerror=alert(1)>`` or
``a|b`` is shown as written and never becomes markup.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup, escape

from vulnmark.publish.page import ClassRow, PolicyPage
from vulnmark.report.interface import clean

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|!~&])")


class Writer:
    """How one format writes trusted text and untrusted values (Markdown by default)."""

    def text(self, trusted: str) -> str:
        return _MD_SPECIAL.sub(r"\\\1", trusted)

    def code(self, value: str, *, cell: bool = False) -> str:
        """An inline code span that shows ``value`` exactly; ``cell``: inside a table cell,
        where a ``|`` must be escaped even in a code span (GFM)."""
        value = clean(value)
        longest = max((len(m) for m in re.findall(r"`+", value)), default=0)
        fence = "`" * (longest + 1)
        pad = " " if value.startswith("`") or value.endswith("`") else ""
        if cell:
            value = value.replace("|", "\\|")
        return f"{fence}{pad}{value}{pad}{fence}"

    def done(self, rendered: str) -> str:
        """What a template receives (markup formats mark it safe)."""
        return rendered


class MarkupWriter(Writer):
    """HTML and Confluence storage format (XHTML): everything escaped, values in ``<code>``."""

    def text(self, trusted: str) -> str:
        return str(escape(trusted))

    def code(self, value: str, *, cell: bool = False) -> str:
        return str(Markup("<code>{}</code>").format(clean(value)))

    def done(self, rendered: str) -> str:
        return Markup(rendered)


class Render:
    """What a template calls: the page's sentences and values, written by one writer."""

    def __init__(self, page: PolicyPage, writer: Writer) -> None:
        self.page = page
        self.w = writer

    def t(self, key: str, **values: str) -> str:
        """The catalogue's sentence ``key``, escaped, with the rendered ``values`` put in."""
        out = []
        for literal, name, _spec, _conv in string.Formatter().parse(self.page.texts[key]):
            out.append(self.w.text(literal))
            if name is not None:
                out.append(values[name])
        return self.w.done("".join(out))

    def text(self, trusted: str) -> str:
        """Generated text (a number of hours, a time): escaped, no placeholders."""
        return self.w.done(self.w.text(trusted))

    def code(self, value: str, cell: bool = False) -> str:
        return self.w.done(self.w.code(value, cell=cell))

    def codes(self, values: Sequence[str], cell: bool = False) -> str:
        return self.w.done(", ".join(self.w.code(v, cell=cell) for v in values))

    def either(self, values: Sequence[str]) -> str:
        """``a, b or c`` in the page's language, each value as code."""
        parts = [self.w.code(v) for v in values]
        if len(parts) > 1:
            parts = [", ".join(parts[:-1]) + f" {self.w.text(self.page.texts['or'])} "
                     + parts[-1]]
        return self.w.done("".join(parts))


def hours(page: PolicyPage, value: float) -> str:
    t = page.texts
    n = t.number(value)
    if value % 24 == 0 and value > 24:
        return t["hours_days"].format(n=n, d=t.number(value / 24))
    return t["hours_day"].format(n=n) if value == 24 else t["hours"].format(n=n)


def deadline(page: PolicyPage, row: ClassRow) -> str:
    if row.deadline_hours is None:
        return page.texts["no_clock"]
    return hours(page, row.deadline_hours)


def cvss(page: PolicyPage, row: ClassRow) -> str:
    if row.cvss is None:
        return page.texts["no_cvss"]
    lo, hi = row.cvss
    score = page.texts.score
    return score(lo) if lo == hi else f"{score(lo)}–{score(hi)}"


def when(page: PolicyPage, at: datetime) -> str:
    """A time as people read it here: in the policy's timezone, named."""
    local = at.astimezone(ZoneInfo(page.timezone))
    return f"{local:%Y-%m-%d %H:%M} ({page.timezone})"


def fenced(value: str) -> str:
    """A fenced Markdown code block that holds ``value`` whatever backticks it contains."""
    value = clean(value)
    longest = max((len(m) for m in re.findall(r"`+", value)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{value}\n{fence}"


def cdata(value: str) -> str:
    """``value`` as CDATA (a ``]]>`` inside is split across two sections)."""
    return "<![CDATA[" + clean(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


@cache
def environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("vulnmark.publish", "templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(hours=hours, deadline=deadline, cvss=cvss, when=when, fenced=fenced,
                       cdata=cdata)
    return env
