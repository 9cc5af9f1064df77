"""The findings cached with each evaluation, and reading them back.

A daily report at a million tickets reads back tens of thousands of cached findings, and that
is most of its cost once the evaluations are current. The layout is JSON arrays, the ticket's
own fields once; records are filled without their ``__init__`` (see :func:`~vulnmark.model.filled`).
A new layout gets a new :data:`FORMAT`, which is part of the evaluation stamp: a store cached
in an older one is evaluated again once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from vulnmark._time import iso, parse
from vulnmark.model import Evidence, Finding, Ticket, filled

FORMAT = 2
"""The layout of the cached findings (:func:`encode`)."""

_new = object.__new__


def encode(t: Ticket, classification: str | None, found: Sequence[Finding]) -> str:
    """A ticket's marking findings as cached.

    ``[title, url, labels, classification, reporter, created, [[kind, suggested, confidence,
    [[field, text, index], …], due_at, detail], …]]``.
    """
    return json.dumps([
        t.title, t.url, list(t.labels), classification, t.reporter, iso(t.created),
        [[f.kind, f.suggested, f.confidence, [[e.field, e.text, e.index] for e in f.evidence],
          iso(f.due_at), f.detail] for f in found],
    ], ensure_ascii=False)


def decode(key: str, doc: str) -> tuple[dict[str, Any], list[Finding]]:
    """The ticket's part of every finding (see :func:`ticket_finding`) and the cached
    findings of the ticket ``key``."""
    title, url, labels, classification, reporter, created, items = json.loads(doc)
    common = {"ticket": key, "title": title, "url": url, "labels": tuple(labels),
              "classification": classification, "reporter": reporter, "created": parse(created)}
    found = []
    for kind, suggested, confidence, evidence, due_at, detail in items:
        f = _new(Finding)
        fields = f.__dict__  # as filled() does, without a call and a keyword dict per record
        fields.update(common)
        fields["kind"], fields["suggested"], fields["confidence"] = kind, suggested, confidence
        fields["evidence"] = tuple([filled(Evidence, field=where, text=text, index=index)
                                    for where, text, index in evidence])
        fields["due_at"], fields["detail"] = parse(due_at), detail
        found.append(f)
    return common, found


def ticket_finding(common: dict[str, Any]) -> Finding:
    """A finding with only the ticket's part filled in, for the deadline findings."""
    return filled(Finding, kind="overdue", suggested=None, confidence=None, evidence=(),
                  due_at=None, detail="", **common)
