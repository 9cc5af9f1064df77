"""Import files: detect the format, decode strictly, validate every ticket before returning any.

Formats: a file named ``*.jsonl`` / ``*.ndjson`` is vulnmark JSON Lines
(:mod:`vulnmark.sources.files.jsonl`); any other file is parsed as one JSON document: Jira REST JSON
(:func:`~vulnmark.sources.files.jira_json.iter_jira_document`), or one vulnmark ticket object (a
``key`` and ``title`` but no ``fields``). A ``.json`` file that turns out to hold several JSON
objects, one per line, is read as JSON Lines.

The bytes must be UTF-8 (a leading byte-order mark is allowed). A ticket key may appear only
once per file. Any problem raises :class:`InputError` naming the file and the line or field,
and :func:`load_file` returns nothing at all, so a caller that writes only after it returns
never stores half a file.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from vulnmark.errors import InputError
from vulnmark.evidence.events import TicketsImported
from vulnmark.model import Ticket
from vulnmark.sources import strict_json
from vulnmark.sources.files.jira_json import iter_jira_document, ticket_from_jira
from vulnmark.sources.files.jsonl import ticket_from_json
from vulnmark.sources.interface import MAX_IMPORT_FILE_BYTES, TicketSource, truncated_fields
from vulnmark.store import Store, UpsertCounts

logger = logging.getLogger(__name__)

JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
#: Cut fields named in an import's evidence record (the rest are counted).
MAX_LISTED = 100


def load_file(
    path: Path,
    *,
    base_url: str | None = None,
    discovery_field: str | None = None,
) -> list[Ticket]:
    """All tickets of one import file, validated; :class:`InputError` on any bad input.

    ``base_url`` and ``discovery_field`` apply to Jira JSON (see :func:`ticket_from_jira`).
    """
    name = str(path)
    text = _read_text(path)
    if path.suffix.lower() in JSONL_SUFFIXES:
        tickets = list(_jsonl(text, name))
    else:
        try:
            doc = strict_json.loads(text)
        except json.JSONDecodeError as err:
            if err.msg == "Extra data" and _looks_like_jsonl(text):
                tickets = list(_jsonl(text, name))
            else:
                raise _json_error(err, name) from None
        except InputError as err:
            raise err.located(file=name) from None
        else:
            tickets = _from_document(doc, name, base_url, discovery_field)
    logger.info("%s: %d tickets", name, len(tickets))
    return tickets


class FileSource(TicketSource):
    """Import files as a ticket source; every file is validated before any ticket is yielded."""

    def __init__(
        self,
        paths: Iterable[Path],
        *,
        base_url: str | None = None,
        discovery_field: str | None = None,
    ) -> None:
        self.paths = tuple(paths)
        self.base_url = base_url
        self.discovery_field = discovery_field

    def fetch(self, since: datetime | None = None) -> Iterator[Ticket]:
        loaded = [
            load_file(path, base_url=self.base_url, discovery_field=self.discovery_field)
            for path in self.paths
        ]
        for tickets in loaded:
            for ticket in tickets:
                if since is None or (ticket.updated or ticket.created) >= since:
                    yield ticket


def _read_text(path: Path) -> str:
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_IMPORT_FILE_BYTES:
            raise InputError(f"{size} bytes, more than the {MAX_IMPORT_FILE_BYTES // 2**20} MiB "
                             "an import file may have: split it (a Jira search page or a few "
                             "thousand JSON lines per file)", file=name)
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror or err}", file=name) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise InputError(
            f"not UTF-8 (byte 0x{data[err.start]:02x} at offset {err.start}); "
            "convert the file to UTF-8",
            file=name,
            line=line,
        ) from None
    return text.removeprefix("\ufeff")


def _json_error(err: json.JSONDecodeError, name: str, line: int | None = None) -> InputError:
    return InputError(
        f"malformed JSON: {err.msg} (column {err.colno})", file=name, line=line or err.lineno
    )


def _looks_like_jsonl(text: str) -> bool:
    first = text.lstrip().split("\n", 1)[0].strip()
    try:
        return isinstance(json.loads(first), dict)
    except (json.JSONDecodeError, RecursionError):
        return False


def _jsonl(text: str, name: str) -> Iterator[Ticket]:
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            obj = strict_json.loads(raw)
        except json.JSONDecodeError as err:
            raise _json_error(err, name, line=number) from None
        except InputError as err:
            raise err.located(file=name, line=number) from None
        ticket = ticket_from_json(obj, file=name, line=number)
        if ticket.key in seen:
            raise InputError(
                f"ticket {ticket.key} appears more than once (first on line {seen[ticket.key]})",
                file=name,
                line=number,
                field="key",
            )
        seen[ticket.key] = number
        yield ticket


def _from_document(
    doc: object, name: str, base_url: str | None, discovery_field: str | None
) -> list[Ticket]:
    if isinstance(doc, dict) and "fields" not in doc and "title" in doc and "key" in doc:
        return [ticket_from_json(doc, file=name, line=1)]
    tickets: list[Ticket] = []
    seen: dict[str, int] = {}
    for number, issue in enumerate(iter_jira_document(doc, file=name), start=1):
        try:
            ticket = ticket_from_jira(issue, base_url=base_url, discovery_field=discovery_field)
        except InputError as err:
            if err.field == "key":
                err = InputError(f"issue #{number}: {err.message}", field=err.field)
            raise err.located(file=name) from None
        if ticket.key in seen:
            raise InputError(
                f"issue {ticket.key} appears more than once (issues #{seen[ticket.key]}"
                f" and #{number})",
                file=name,
                field="key",
            )
        seen[ticket.key] = number
        tickets.append(ticket)
    return tickets


@dataclass(frozen=True)
class Imported:
    """One imported file: its path, its tickets and what the upsert did with them."""

    path: Path
    tickets: int
    counts: UpsertCounts
    truncated: int = 0
    """Fields cut to their limit (named in the import's evidence record)."""


def load_files(paths: Sequence[Path], *, base_url: str | None = None,
               discovery_field: str | None = None) -> list[tuple[Path, list[Ticket]]]:
    """Every file read and validated (:func:`load_file`) before any is imported."""
    return [(path, load_file(path, base_url=base_url, discovery_field=discovery_field))
            for path in paths]


def import_files(store: Store, loaded: Sequence[tuple[Path, list[Ticket]]], *,
                 at: datetime) -> list[Imported]:
    """``vulnmark import`` of files read by :func:`load_files` (so a bad file changed
    nothing): each is upserted with its evidence record (file name, SHA-256, tickets)."""
    done = []
    for path, items in loaded:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        cut = [f"{t.key} {name}" for t in items for name in truncated_fields(t)]
        event = TicketsImported(
            path.name, sha256=digest, tickets=len(items),
            truncated=tuple(cut[:MAX_LISTED]) + ((f"... {len(cut) - MAX_LISTED} more",)
                                                  if len(cut) > MAX_LISTED else ())
            if cut else None)
        counts = store.upsert_tickets(items, actor="import", at=at, from_source=True,
                                      event=event)
        done.append(Imported(path, len(items), counts, len(cut)))
    return done
