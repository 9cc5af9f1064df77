"""Atlassian Document Format (Jira Cloud REST v3 rich text) to plain text, losing no text.

Blocks become lines: paragraphs and headings one line each, list items ``- `` / ``1. `` with
nested items indented two spaces, table rows one line with cells joined by ``" | "``,
blockquotes prefixed ``> ``, code blocks verbatim, an expand's title before its body. Inline
nodes keep what a reader sees: mentions ``@Name``, emoji ``:smile:`` or the character, cards
their URL, dates ``YYYY-MM-DD``, statuses their text, a hard break a newline; a link whose
target is not already its text is followed by `` (url)`` so a linked advisory id is not lost.

Unknown node types are walked into (their ``text``, ``attrs.text`` and ``content`` kept);
missing keys and wrong types are skipped. :func:`adf_to_text` never raises; nesting deeper
than :data:`MAX_DEPTH` is flattened into space-separated text instead of recursing further.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

logger = logging.getLogger(__name__)

#: Below this depth the structure is rendered; deeper content is only collected as text.
MAX_DEPTH = 60

_INLINE = frozenset(
    {
        "text",
        "hardBreak",
        "mention",
        "emoji",
        "inlineCard",
        "date",
        "status",
        "placeholder",
        "mediaInline",
        "inlineExtension",
    }
)


def adf_to_text(doc: object) -> str:
    """Render an ADF document (or a list of ADF nodes) as plain text; anything else is ``""``."""
    if isinstance(doc, dict):
        text = _block(doc, 0)
    elif isinstance(doc, list):
        text = _children(doc, 0)
    else:
        return ""
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _content(node: dict[str, object]) -> list[object]:
    content = node.get("content")
    return content if isinstance(content, list) else []


def _attrs(node: dict[str, object]) -> dict[str, object]:
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, dict) else {}


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _children(nodes: list[object], depth: int) -> str:
    """Render sibling nodes: runs of inline nodes form one line, each block its own lines."""
    blocks: list[str] = []
    run: list[str] = []
    for node in nodes:
        if not isinstance(node, dict):
            continue
        if _is_inline(node):
            run.append(_inline(node, depth + 1))
        else:
            if run:
                blocks.append("".join(run))
                run = []
            rendered = _block(node, depth + 1)
            if rendered:
                blocks.append(rendered)
    if run:
        blocks.append("".join(run))
    return "\n".join(blocks)


def _is_inline(node: dict[str, object]) -> bool:
    kind = node.get("type")
    if kind in _INLINE:
        return True
    # An unknown leaf that carries text reads like a text node.
    return kind not in _BLOCK_RENDERERS and "content" not in node and "text" in node


def _inline(node: dict[str, object], depth: int) -> str:
    kind = node.get("type")
    attrs = _attrs(node)
    if kind == "text":
        text = _str(node.get("text"))
        href = _link_target(node)
        return f"{text} ({href})" if href and href != text else text
    if kind == "hardBreak":
        return "\n"
    if kind == "mention":
        name = _str(attrs.get("text")) or _str(attrs.get("displayName")) or _str(attrs.get("id"))
        return name if not name or name.startswith("@") else "@" + name
    if kind == "emoji":
        return _str(attrs.get("text")) or _str(attrs.get("shortName"))
    if kind == "inlineCard":
        return _card_url(attrs)
    if kind == "date":
        return _date(attrs.get("timestamp"))
    return _generic(node, depth)


def _link_target(node: dict[str, object]) -> str:
    marks = node.get("marks")
    if not isinstance(marks, list):
        return ""
    for mark in marks:
        if isinstance(mark, dict) and mark.get("type") == "link":
            return _str(_attrs(mark).get("href"))
    return ""


def _card_url(attrs: dict[str, object]) -> str:
    url = _str(attrs.get("url"))
    if url:
        return url
    data = attrs.get("data")
    if isinstance(data, dict):
        return _str(data.get("url")) or _str(data.get("name"))
    return ""


def _date(timestamp: object) -> str:
    """ADF dates are milliseconds since the epoch (as a string, sometimes a number)."""
    try:
        millis = int(timestamp) if isinstance(timestamp, str | int) else None
        if millis is None:
            return ""
        return datetime.fromtimestamp(millis / 1000, tz=UTC).date().isoformat()
    except (ValueError, OverflowError, OSError):
        return _str(timestamp)


def _generic(node: dict[str, object], depth: int) -> str:
    """Any node we do not know: its own text, its ``attrs.text``, then its content."""
    parts = [_str(node.get("text")) or _str(_attrs(node).get("text"))]
    content = _content(node)
    if content:
        parts.append(_children(content, depth) if depth < MAX_DEPTH else _flat(content))
    return "\n".join(part for part in parts if part)


def _block(node: dict[str, object], depth: int) -> str:
    if depth >= MAX_DEPTH:
        return _flat([node])
    renderer = _BLOCK_RENDERERS.get(_str(node.get("type")))
    if renderer is not None:
        return renderer(node, depth)
    if _is_inline(node):
        return _inline(node, depth)
    return _generic(node, depth)


def _plain(node: dict[str, object], depth: int) -> str:
    return _children(_content(node), depth)


def _list(node: dict[str, object], depth: int) -> str:
    kind = node.get("type")
    start = _attrs(node).get("order")
    number = start if isinstance(start, int) and not isinstance(start, bool) else 1
    lines: list[str] = []
    for item in _content(node):
        if not isinstance(item, dict):
            continue
        if kind == "orderedList":
            bullet = f"{number}. "
            number += 1
        elif kind == "taskList" or item.get("type") == "taskItem":
            bullet = "[x] " if _attrs(item).get("state") == "DONE" else "[ ] "
        else:
            bullet = "- "
        body = _block(item, depth + 1)
        if item.get("type") in ("bulletList", "orderedList", "taskList"):
            bullet = "  "  # a list directly inside a list (allowed in taskList): just indent
        lines.append(_indent(body, bullet))
    return "\n".join(lines)


def _indent(body: str, bullet: str) -> str:
    pad = " " * len(bullet)
    first, *rest = body.split("\n") if body else [""]
    return "\n".join([bullet + first, *(pad + line if line else line for line in rest)])


def _table(node: dict[str, object], depth: int) -> str:
    rows: list[str] = []
    for row in _content(node):
        if not isinstance(row, dict):
            continue
        cells = [
            " ".join(_block(cell, depth + 2).split("\n")).strip()
            for cell in _content(row)
            if isinstance(cell, dict)
        ]
        if not cells and row.get("type") != "tableRow":
            cells = [_block(row, depth + 1)]
        rows.append(" | ".join(cells))
    return "\n".join(rows)


def _code(node: dict[str, object], depth: int) -> str:
    return "".join(
        _str(child.get("text")) if child.get("type") == "text" else _block(child, depth + 1)
        for child in _content(node)
        if isinstance(child, dict)
    )


def _quote(node: dict[str, object], depth: int) -> str:
    body = _children(_content(node), depth)
    return "\n".join("> " + line if line else ">" for line in body.split("\n")) if body else ""


def _expand(node: dict[str, object], depth: int) -> str:
    title = _str(_attrs(node).get("title"))
    body = _children(_content(node), depth)
    return "\n".join(part for part in (title, body) if part)


def _block_card(node: dict[str, object], depth: int) -> str:
    return _card_url(_attrs(node)) or _generic(node, depth)


def _flat(nodes: list[object]) -> str:
    """Collect every string under ``nodes`` without recursion (for absurdly deep documents)."""
    out: list[str] = []
    stack: list[object] = list(reversed(nodes))
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key in ("text", "url", "shortName"):
                value = item.get(key)
                if isinstance(value, str) and value:
                    out.append(value)
            stack.append(item.get("attrs"))
            content = item.get("content")
            if isinstance(content, list):
                stack.extend(reversed(content))
    logger.debug("ADF nested deeper than %d levels: flattened", MAX_DEPTH)
    return " ".join(out)


_BLOCK_RENDERERS = {
    "doc": _plain,
    "paragraph": _plain,
    "heading": _plain,
    "listItem": _plain,
    "taskItem": _plain,
    "decisionItem": _plain,
    "bulletList": _list,
    "orderedList": _list,
    "taskList": _list,
    "decisionList": _list,
    "table": _table,
    "codeBlock": _code,
    "blockquote": _quote,
    "panel": _plain,
    "expand": _expand,
    "nestedExpand": _expand,
    "blockCard": _block_card,
    "embedCard": _block_card,
}
