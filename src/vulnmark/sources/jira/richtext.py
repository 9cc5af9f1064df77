"""Text that vulnmark writes into Jira, as Cloud's ADF document or Data Center's wiki markup.

A body is a tuple of :data:`Block` s (paragraphs, headings, bullet lists, link lists); the
two renderings return data and do no I/O. Text from feeds is never markup: in ADF it is plain
text nodes, in wiki markup every character that starts a macro, link, table or emphasis is
escaped, and only ``http(s)`` URLs without markup characters become links. Control characters
(NUL, ESC, C1, bidi overrides) become U+FFFD in both.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from vulnmark._text import clean

Kind = Literal["p", "h", "ul", "links"]
Block = tuple[Kind, tuple[str, ...]]
"""``("p", (line, …))`` a paragraph (lines joined with hard breaks), ``("h", (text,))`` a
heading, ``("ul", (item, …))`` a bullet list, ``("links", (url, …))`` a bullet list of
links."""

_LINE_START = re.compile(r"^(\s*(?:h[1-6]|bq))\.")
_SAFE_URL = re.compile(r"https?://[^\s\[\]{}|<>\"'\\^`]+")
_WIKI_SPECIAL = re.compile(r"([\\{}\[\]|!*^~+#?]|(?<![^\W_])[-_]|[-_](?![^\W_]))")
"""Wiki markup's special characters; ``-`` and ``_`` only where they could open or close
strikethrough or emphasis (not between two letters or digits: ``CVE-2026-1``, ``rsa_gen.c``)."""


def _text(value: str) -> str:
    return clean(value).replace("\r\n", "\n").replace("\r", "\n")


def adf(blocks: tuple[Block, ...] | list[Block]) -> dict[str, Any]:
    """An ADF ``doc`` (version 1)."""
    content: list[dict[str, Any]] = []
    for kind, items in blocks:
        if kind == "p":
            content.append(_paragraph("\n".join(items)))
        elif kind == "h":
            content.append({"type": "heading", "attrs": {"level": 3},
                            "content": _inline(" ".join(items))})
        else:
            content.append({"type": "bulletList", "content": [
                {"type": "listItem", "content": [
                    _link(item) if kind == "links" else _paragraph(item)]}
                for item in items]})
    return {"type": "doc", "version": 1, "content": content}


def _inline(text: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    for i, line in enumerate(_text(text).split("\n")):
        if i:
            nodes.append({"type": "hardBreak"})
        if line:
            nodes.append({"type": "text", "text": line})
    return nodes


def _paragraph(text: str) -> dict[str, Any]:
    nodes = _inline(text)
    return {"type": "paragraph", "content": nodes} if nodes else {"type": "paragraph"}


def _link(url: str) -> dict[str, Any]:
    if not _SAFE_URL.fullmatch(url):
        return _paragraph(url)
    return {"type": "paragraph", "content": [
        {"type": "text", "text": url, "marks": [{"type": "link", "attrs": {"href": url}}]}]}


def wiki(blocks: tuple[Block, ...] | list[Block]) -> str:
    """Jira wiki markup (REST v2)."""
    out: list[str] = []
    for kind, items in blocks:
        if kind == "p":
            out.append("\n".join(escape(line) for line in items))
        elif kind == "h":
            out.append("h3. " + escape(" ".join(items)))
        else:
            out.append("\n".join(
                "* " + (f"[{u}]" if kind == "links" and _SAFE_URL.fullmatch(u) else escape(u))
                for u in items))
    return "\n\n".join(out)


def escape(text: str) -> str:
    """``text`` as literal wiki markup: specials backslash-escaped, one line (no line-start
    syntax such as ``h1.`` or ``bq.`` can begin a line of its own)."""
    out = _WIKI_SPECIAL.sub(r"\\\1", " ".join(_text(text).split("\n")))
    return _LINE_START.sub(r"\1\\.", out)


def unescape(markup: str) -> str:
    """Wiki markup written by :func:`escape` read back as the text (backslashes dropped)."""
    return re.sub(r"\\(.)", r"\1", markup)


def plain(blocks: tuple[Block, ...] | list[Block]) -> str:
    """The same body as plain text (what the local copy of the ticket holds)."""
    out: list[str] = []
    for kind, items in blocks:
        if kind == "p":
            out.append("\n".join(items))
        elif kind == "h":
            out.append(" ".join(items) + ":")
        else:
            out.append("\n".join(f"- {u}" for u in items))
    return "\n\n".join(out)
