"""JSON daily report: the ``check`` JSON contract of DESIGN.md plus sections and health.

Keys are stable and in a fixed order; times are ISO-8601 UTC with a ``Z`` suffix.
"""

from __future__ import annotations

import json
import logging

from vulnmark._time import iso
from vulnmark.model import Run
from vulnmark.report.interface import ReportFormatter
from vulnmark.report.model import DailyReport

logger = logging.getLogger(__name__)


def run_dict(run: Run) -> dict[str, object]:
    return {
        "id": run.id,
        "kind": run.kind,
        "started_at": iso(run.started_at),
        "policy_digest": run.policy_digest,
        "counts": dict(run.counts),
        "report_digest": run.report_digest,
        "delivery_status": run.delivery_status,
        "message_id": run.message_id,
        "server_reply": run.server_reply,
        "error": run.error,
    }


def report_dict(report: DailyReport) -> dict[str, object]:
    """The report as plain JSON-ready data."""
    h = report.health
    return {
        "generated_at": iso(report.generated_at),
        "policy": {
            "name": report.policy_name,
            "digest": report.policy_digest,
            "timezone": report.timezone,
        },
        "summary": {
            "tickets": report.tickets,
            "vulnerabilities": report.vulnerabilities,
            "by_class": dict(report.counts_table),
            "by_kind": dict(report.by_kind),
            "left_out": list(report.left_out),
        },
        "findings": [f.as_dict(iso) for f in report.findings],
        "sections": [
            {"title": s.title, "kinds": list(s.kinds), "count": s.count}
            for s in report.sections()
        ],
        "health": {
            "ok": h.ok,
            "missed_days": [d.isoformat() for d in h.missed_days],
            "last_delivery": run_dict(h.last_delivery) if h.last_delivery else None,
            "undelivered": [run_dict(r) for r in h.undelivered],
            "notes": list(h.notes),
            "runs": [run_dict(r) for r in h.runs],
        },
        **({} if report.intake is None else {"intake": _intake(report)}),
    }


def _intake(report: DailyReport) -> dict[str, object]:
    d = report.intake
    assert d is not None
    return {"new": d.new, "escalated": d.escalated, "awaiting": d.awaiting,
            "due_soon": d.due_soon, "overdue": d.overdue, "assessed": d.assessed,
            "proposals": d.proposals, "rejected": d.rejected,
            "tickets": [{"ticket": i.ticket, "id": i.record, "state": i.state, "class": i.cls,
                         "assess_due_at": iso(i.due_at), "new": i.new,
                         "escalated": i.escalated, "proposed": i.proposed,
                         "rejected": i.rejected} for i in d.items]}


_FINDINGS = "\0findings\0"  # stands for the findings while the rest is indented
_ONE_LINE = json.JSONEncoder(ensure_ascii=False)  # json.dumps builds one per call


class JsonFormat(ReportFormatter):
    """UTF-8 JSON, one object: indented, with one finding per line.

    Python's JSON encoder is written in C only for unindented output; indenting tens of
    thousands of findings took most of a report's time, so each finding is encoded on one
    line and the (small) rest is indented around them.
    """

    media_type = "application/json"

    def format(self, report: DailyReport) -> str:
        data = report_dict(report)
        findings = data["findings"]
        assert isinstance(findings, list)
        data["findings"] = _FINDINGS
        text = json.dumps(data, indent=2, ensure_ascii=False)
        rows = ",\n    ".join(map(_ONE_LINE.encode, findings))
        array = f"[\n    {rows}\n  ]" if findings else "[]"
        return text.replace(json.dumps(_FINDINGS), array, 1) + "\n"
