"""Backfill: propose the missing labels from what the text already says, apply approved ones.

A proposal adds labels to one ticket: the classification label the text states (for an
``unclassified`` ticket), the vulnerability label (for an ``unmarked`` one), or both (for a
``suspected`` one whose text also states a class). Proposals are reviewed as JSON or CSV, edited
(``accept`` = yes), and applied with :func:`apply`; or applied automatically above a confidence
threshold. Applying is idempotent: a label already present is not added again, and a ticket that
no longer has the finding gets no proposal. Every applied label is recorded in the evidence log
with the evidence that justified it.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from vulnmark._csv import csv_text, undefuse
from vulnmark.check import kinds as finding_kinds
from vulnmark.check.results import Filters, check
from vulnmark.config.load import Config
from vulnmark.config.policy import Policy
from vulnmark.errors import InputError
from vulnmark.evidence.events import BackfillApplied
from vulnmark.model import Evidence, Finding, TicketKey
from vulnmark.sources import embedded
from vulnmark.sources.interface import check_labels
from vulnmark.sources.jira.settings import JiraSettings
from vulnmark.sources.jira.writeback import LabelEdit, LabelOutcome, apply_labels
from vulnmark.store import Store, events
from vulnmark.store import tickets as _tickets

logger = logging.getLogger(__name__)

KINDS = finding_kinds.backfill_kinds()
"""The finding kinds a proposal is made for (see :data:`vulnmark.check.kinds.KINDS`)."""
SUSPECTED_CONFIDENCE = 0.5
"""Confidence of adding the vulnerability label to a suspected ticket whose text states no class:
the signals show a vulnerability is discussed, not that the ticket is one. Never above the
default auto-apply threshold."""
#: What a reviewer may write in the ``accept`` column, in the policy's languages (English,
#: Hungarian, German, French); anything else is refused naming the line, never ignored.
ACCEPT_WORDS = frozenset({"yes", "y", "x", "true", "1", "accept", "accepted",
                          "igen", "i", "ja", "j", "oui", "o"})
REJECT_WORDS = frozenset({"", "no", "n", "false", "0", "-", "reject", "rejected",
                          "nem", "nein", "non"})
#: Delimiters a spreadsheet saves CSV with (Hungarian, German and French Excel use ";").
DELIMITERS = (",", ";", "\t")
REVIEW_COLUMNS = ("ticket", "add", "kind", "suggested", "confidence", "group", "title",
                  "evidence", "accept")


@dataclass(frozen=True)
class Proposal:
    ticket: TicketKey
    add: tuple[str, ...]
    kind: str
    suggested: str | None
    confidence: float
    title: str = ""
    evidence: tuple[Evidence, ...] = ()
    reviewed: str | None = None
    """Where a person accepted it (review file and row), when applied from a review."""

    @property
    def group(self) -> str:
        return "high" if self.confidence >= 0.9 else "medium" if self.confidence >= 0.7 else "low"

    def as_dict(self) -> dict[str, object]:
        return {
            "ticket": self.ticket, "add": list(self.add), "kind": self.kind,
            "suggested": self.suggested, "confidence": round(self.confidence, 3),
            "group": self.group, "title": self.title,
            "evidence": [e.as_dict() for e in self.evidence], "accept": "",
        }


def propose(store: Store, policy: Policy, now: datetime) -> list[Proposal]:
    """Proposals for every ticket whose marking is incomplete, most confident first."""
    result = check(store, policy, now, Filters(kinds=KINDS))
    out = [p for f in result.findings if (p := _proposal(f, policy)) is not None]
    out.sort(key=lambda p: (-p.confidence, p.ticket))
    return out


def _proposal(f: Finding, policy: Policy) -> Proposal | None:
    """What the kind's backfill action (:attr:`vulnmark.check.kinds.Kind.backfill`) adds."""
    vuln = policy.vulnerability_label
    action = finding_kinds.BY_NAME[f.kind].backfill
    if action == "class":
        if not f.suggested:
            return None
        add: tuple[str, ...] = (f.suggested,)
        confidence = f.confidence or 0.0
    elif action == "vulnerability":
        add, confidence = (vuln,), 1.0  # a classification label says "vulnerability" already
    elif action == "vulnerability_and_class":
        add = (vuln, f.suggested) if f.suggested else (vuln,)
        confidence = f.confidence if f.suggested and f.confidence else SUSPECTED_CONFIDENCE
    else:
        return None
    return Proposal(f.ticket, add, f.kind, f.suggested, confidence, f.title, f.evidence)


def review_text(proposals: Sequence[Proposal], fmt: str) -> str:
    """A review file: JSON (a list) or CSV (one row per proposal, cells defused for the
    spreadsheet it is meant for), ``accept`` left blank."""
    if fmt == "json":
        return json.dumps([p.as_dict() for p in proposals], indent=2, ensure_ascii=False) + "\n"
    return csv_text(REVIEW_COLUMNS, [
        [p.ticket, " ".join(p.add), p.kind, p.suggested, f"{p.confidence:.3f}", p.group,
         p.title, " | ".join(f"{e.field}[{e.index}]: {e.text}" if e.index is not None
                             else f"{e.field}: {e.text}" for e in p.evidence), ""]
        for p in proposals])


def _review_text(path: Path) -> str:
    """The file as text: UTF-8 with or without BOM, else Windows-1250 (what Excel in a Central
    European locale saves as "CSV"), with a warning."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", file=str(path)) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        start = e.start
    try:
        text = raw.decode("cp1250")
    except UnicodeDecodeError:
        raise InputError(f"neither UTF-8 nor Windows-1250 (byte at offset {start})",
                         file=str(path)) from None
    logger.warning("%s: not UTF-8 (byte at offset %d); read as Windows-1250 (cp1250). "
                   "Save it as \"CSV UTF-8\" to be sure of every character", path, start)
    return text


def _csv_rows(text: str, path: Path) -> list[dict[str, str]]:
    """The rows of a review CSV whatever delimiter the spreadsheet used (``,`` ``;`` tab, or
    Excel's ``sep=`` first line)."""
    lines = text.splitlines(keepends=True)
    first = lines[0].strip() if lines else ""
    candidates: tuple[str, ...] = DELIMITERS
    if first.lower().startswith("sep=") and len(first) == 5:
        candidates, text = (first[4],), "".join(lines[1:])
    required = {"ticket", "add", "accept"}
    for delimiter in candidates:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = {(name or "").strip().lower() for name in reader.fieldnames or ()}
        if required <= header:
            return [{(k or "").strip().lower(): v for k, v in row.items()} for row in reader]
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=candidates[0])
    missing = required - {(name or "").strip().lower() for name in reader.fieldnames or ()}
    raise InputError(f"missing column(s) {', '.join(sorted(missing))} (looked for a header "
                     "separated by ',', ';' or tab)", file=str(path), line=1)


def read_review(path: Path) -> list[Proposal]:
    """The accepted proposals of an edited review file (JSON or CSV)."""
    text = _review_text(path)
    rows: list[dict[str, object]]
    if text.lstrip().startswith("["):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"malformed JSON: {e.msg}", file=str(path), line=e.lineno) from None
        if not isinstance(loaded, list) or not all(isinstance(r, dict) for r in loaded):
            raise InputError("expected a list of proposals", file=str(path))
        rows = loaded
    else:
        # the review file vulnmark wrote has its cells defused: read back what was defused
        rows = [{k: undefuse(v) if isinstance(v, str) else v for k, v in r.items()}
                for r in _csv_rows(text, path)]
    is_csv = not text.lstrip().startswith("[")
    accepted = []
    for i, row in enumerate(rows):
        line = i + 2 if is_csv else None  # CSV line numbers count the header
        answer = str(row.get("accept") or "").strip().lower()
        if answer in REJECT_WORDS:
            continue
        if answer not in ACCEPT_WORDS:
            raise InputError(
                f"{str(row.get('accept'))[:40]!r} is neither yes nor no (accepted: yes/no, "
                "igen/nem, ja/nein, oui/non, x, 1/0, true/false, or empty)",
                file=str(path), line=line, field="accept" if is_csv else f"[{i}].accept")
        key, add = row.get("ticket"), row.get("add")
        if not isinstance(key, str) or not key.strip():
            raise InputError("missing ticket key", file=str(path), line=line,
                             field="ticket" if is_csv else f"[{i}].ticket")
        labels = add.split() if isinstance(add, str) else add
        checked = check_labels(labels, what=f"{path}: {key}", field="add")
        if not checked:
            raise InputError(f"{key}: no label to add", file=str(path), line=line, field="add")
        accepted.append(Proposal(
            TicketKey(key.strip()), checked, str(row.get("kind") or "review"),
            str(row.get("suggested") or "") or None, _float(row.get("confidence")),
            str(row.get("title") or ""), _review_evidence(row.get("evidence")),
            reviewed=f"{path.name}:{line or i}"))
    return accepted


def _float(value: object) -> float:
    try:
        return float(str(value))
    except ValueError:
        return 0.0


def _review_evidence(value: object) -> tuple[Evidence, ...]:
    """Evidence as the review file carries it: a JSON list, or CSV text kept verbatim."""
    if isinstance(value, list):
        fields = {"title": "title", "comment": "comment", "label": "label"}
        return tuple(Evidence(fields.get(str(e.get("field")), "description"),  # type: ignore[arg-type]
                              str(e.get("text") or ""),
                              e.get("index") if isinstance(e.get("index"), int) else None)
                     for e in value if isinstance(e, dict))
    text = str(value or "").strip()
    return (Evidence("description", text),) if text else ()


@dataclass(frozen=True)
class Applied:
    tickets: int = 0
    labels: int = 0
    skipped: int = 0


def apply(store: Store, proposals: Iterable[Proposal], *, actor: str, at: datetime,
          progress: Callable[[int], None] | None = None) -> Applied:
    """Add the proposed labels in the store (the tracker's relabel path,
    :func:`vulnmark.sources.embedded.relabel`), in one transaction, with evidence."""
    tickets = labels = skipped = 0
    with store.transaction() as conn:
        for p in proposals:
            t = _tickets.get(conn, p.ticket)
            if progress:
                progress(1)
            if t is None:
                raise InputError(f"no ticket {p.ticket!r} in the store", field="ticket")
            change = embedded.relabel(conn, t, add=p.add, by=actor, at=at, via="backfill")
            if change is None:
                skipped += 1
                continue
            new = change.added
            events.record(conn, BackfillApplied(p.ticket, new, actor, p.kind, p.confidence,
                                                p.evidence, p.reviewed), at)
            tickets += 1
            labels += len(new)
    return Applied(tickets, labels, skipped)


def jira_tickets(store: Store, proposals: Iterable[Proposal]) -> set[str]:
    """The keys among ``proposals`` whose ticket came from Jira (sync or Jira JSON import)."""
    with store.reading() as conn:
        return _tickets.of_source(conn, [p.ticket for p in proposals], "jira")


def apply_to_jira(store: Store, settings: JiraSettings, proposals: Sequence[Proposal], *,
                  actor: str, at: datetime) -> list[LabelOutcome]:
    """Add the proposed labels in Jira (write-back); the next sync brings them to the store.

    Each label Jira accepted is recorded with the evidence that justified it."""
    outcomes = apply_labels(store, settings, [LabelEdit(p.ticket, add=p.add) for p in proposals],
                            dry_run=False, actor=actor)
    by_key = {p.ticket: p for p in proposals}
    with store.transaction() as conn:
        for o in outcomes:
            p = by_key.get(TicketKey(o.key))
            if o.status == "applied" and p is not None:
                events.record(conn, BackfillApplied(p.ticket, o.added, actor, p.kind,
                                                    p.confidence, p.evidence, p.reviewed,
                                                    via="jira"), at)
    return outcomes


@dataclass(frozen=True)
class Approved:
    """What applying approved proposals did: in Jira (``to_jira``) and in the store."""

    jira_site: str | None = None
    jira: tuple[LabelOutcome, ...] = ()
    applied: Applied | None = None
    """None when a Jira write-back failed: nothing was applied in the store then."""

    @property
    def jira_failed(self) -> tuple[LabelOutcome, ...]:
        return tuple(o for o in self.jira if o.status == "failed")


def apply_approved(store: Store, config: Config, chosen: Sequence[Proposal], *, actor: str,
                   at: datetime, to_jira: bool = False, env: Mapping[str, str] | None = None,
                   progress: Callable[[int], None] | None = None) -> Approved:
    """Apply accepted proposals: with ``to_jira``, those of Jira tickets in Jira first
    (:func:`apply_to_jira`, credentials from ``env``); the others in the store (:func:`apply`)."""
    site: str | None = None
    outcomes: tuple[LabelOutcome, ...] = ()
    if to_jira:
        settings = JiraSettings.from_config(config.jira, env or {})
        remote = jira_tickets(store, chosen)
        outcomes = tuple(apply_to_jira(store, settings, [p for p in chosen if p.ticket in remote],
                                       actor=actor, at=at))
        site = settings.site
        chosen = [p for p in chosen if p.ticket not in remote]
        if any(o.status == "failed" for o in outcomes):
            return Approved(site, outcomes)
    return Approved(site, outcomes, apply(store, chosen, actor=actor, at=at, progress=progress))
