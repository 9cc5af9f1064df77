"""The summary page of an evidence pack (``index.html``): one self-contained page an auditor
reads offline. Every value from the store is HTML-escaped; charts are linked SVG files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from vulnmark._time import parse, stored
from vulnmark.evidence.backdating import backdated_note
from vulnmark.evidence.bound import BoundRun
from vulnmark.evidence.events import FindingDismissed, PolicyChanged, Reclassified
from vulnmark.model import Outcome
from vulnmark.store.metrics import Metrics

STYLE = """body{font-family:sans-serif;max-width:70em;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:2px 6px;
font-size:90%;text-align:left;vertical-align:top}th{background:#f0f0f0}.bad{color:#b2182b;
font-weight:bold}.ok{color:#1b7837;font-weight:bold}code{font-size:85%}img{max-width:100%}
body,td,th{overflow-wrap:anywhere;word-break:break-word}
@media (max-width:640px){body{margin:.5em}table,tbody,tr,td,th{display:block}
tr:first-child{display:none}tr{border-bottom:2px solid #ccc;margin-bottom:4px}}"""


def _e(value: object) -> str:
    return "-" if value is None else escape(str(value), quote=True)


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], *,
           raw_cols: frozenset[int] = frozenset()) -> str:
    if not rows:
        return "<p>None in the period.</p>"
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{v if i in raw_cols else _e(v)}</td>" for i, v in enumerate(r))
        + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _dismissed(dismissals: Sequence[FindingDismissed]) -> str:
    """``3 finding(s) dismissed (2 not_a_vulnerability, 1 duplicate)``."""
    by_reason: dict[str, int] = {}
    for d in dismissals:
        by_reason[d.reason] = by_reason.get(d.reason, 0) + 1
    detail = ", ".join(f"{n} {_e(r)}" for r, n in sorted(by_reason.items()))
    return f"{len(dismissals)} finding(s) dismissed" + (f" ({detail})" if detail else "")


def summary_page(*, preset: str, digest: str, timezone: str, since: datetime,
                 until: datetime, now: datetime, runs: Sequence[BoundRun],
                 days: Sequence[tuple[datetime, str, BoundRun | None]],
                 metrics: Metrics, outcomes: Sequence[Outcome],
                 reclassifications: Sequence[Reclassified],
                 policy_changes: Sequence[tuple[str, PolicyChanged]], label_changes: int,
                 chain: Mapping[str, Any], files: Sequence[str],
                 dismissals: Sequence[FindingDismissed] = (), dismissals_ended: int = 0) -> str:
    zone = ZoneInfo(timezone)

    def local(value: datetime | str) -> str:
        when = parse(value) if isinstance(value, str) else value
        return "-" if when is None else when.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")

    missed = [s for s, status, _ in days if status == "missed"]
    failed = [s for s, status, _ in days if status == "failed"]
    due = [d for d in days if d[1] not in ("not_started", "pending")]
    ran = len(due) - len(missed)
    verdict = (f'<span class="ok">The control ran for all {len(due)} due runs.</span>'
               if not missed else
               f'<span class="bad">{len(missed)} of {len(due)} due runs were missed.</span>')
    if len(due) < len(days):
        verdict += (f" ({len(days) - len(due)} slot(s) before the first report run or still "
                    "open.)")
    chain_line = (f'<span class="ok">verified</span>, {chain["log_records"]} records'
                  if chain["log_verified"] else
                  f'<span class="bad">BROKEN: {_e(chain["log_problem"])}</span>')
    parts = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>vulnmark evidence pack {_e(local(since))} – {_e(local(until))}</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Vulnerability classification control: evidence pack</h1>",
        _table(["Period", "Generated", "Policy", "Policy digest", "Timezone"], [[
            f"{local(since)} – {local(until)} (end exclusive)", local(now), preset, digest,
            timezone]]),
        "<h2>1. Did the control operate every day?</h2>",
        f"<p>{verdict} {ran} ran; {len(failed)} report(s) could not be delivered.</p>",
        '<p><img src="charts/control_days.svg" alt="daily control strip"></p>',
        _table(["Missed slot (local)"], [[local(s)] for s in missed]),
        "<h2>2. Runs and deliveries</h2>",
        _table(["Run", "Kind", "Started (local)", "Delivery", "Message-ID", "Server reply",
                "Error", "Report"], [[
                    r.id, r.kind, local(r.started_at), r.status, r.message_id,
                    r.server_reply, r.error,
                    (f'<a href="reports/run-{r.id:06d}.html">html</a> '
                     f'<a href="reports/run-{r.id:06d}.txt">text</a> '
                     f'<a href="reports/run-{r.id:06d}.json">json</a>')
                    if r.kind == "report" else "-"] for r in runs], raw_cols=frozenset({7})),
        "<h2>3. Deadlines and outcomes</h2>",
        '<p><img src="charts/within_deadline.svg" alt="share within deadline"></p>',
        '<p><img src="charts/time_to_classify.svg" alt="time to classify"></p>',
        _table(["Class", "Discovered", "Classify h (mean)", "Outcome h (mean)", "Deadline",
                "Met", "Missed", "Pending", "Backdated", "Within"], [[
                    r.classification, r.discovered, r.classify_hours_mean,
                    r.outcome_hours_mean, r.with_deadline, r.met, r.missed, r.pending,
                    r.backdated, "-" if r.share_within_deadline is None
                    else f"{r.share_within_deadline:.0%}"] for r in metrics.totals()]),
        "<h3>Outcomes recorded</h3>",
        _table(["Effective", "Ticket", "Outcome", "Reason", "By", "Plan / basis",
                "Backdated"], [[
            local(o.recorded_at), o.ticket, o.kind, o.reason, o.actor, o.text,
            backdated_note(o) or "-"] for o in outcomes]),
        "<h3>Reclassifications</h3>",
        _table(["Ticket", "From", "To", "By", "Why"], [[
            r.ticket, r.previous, r.new, r.by, r.why] for r in reclassifications]),
        f"<p>{label_changes} label change(s) in the period: see "
        '<a href="label_changes.csv">label_changes.csv</a>.</p>',
        "<h3>Dismissals</h3>",
        f"<p>In the period: {_dismissed(dismissals)}; {dismissals_ended} dismissal(s) ended "
        "by a person or by a change of the ticket (one also ends at its until date). Who, "
        'when, why and until: <a href="dismissals.csv">dismissals.csv</a>.</p>',
        "<h3>Policy changes</h3>",
        _table(["At", "Digest", "Preset", "Deadlines (hours)"], [[
            at, p.digest, p.preset, p.deadlines_hours] for at, p in policy_changes]),
        "<h2>4. Evidence log</h2>",
        f"<p>Live log at export: {chain_line}; head <code>{_e(chain['log_head'])}</code>.</p>",
        f"<p>Records of the period: {_e(chain['first_seq'])} to {_e(chain['last_seq'])}, "
        f"chained from <code>{_e(chain['anchor_prev_hash'])}</code> to "
        f"<code>{_e(chain['head'])}</code> "
        '(<a href="evidence/events.jsonl">events.jsonl</a>).</p>',
        "<p>Check this pack with <code>vulnmark evidence verify --pack FILE.zip</code>: it "
        "recomputes every SHA-256 of <code>manifest.json</code>, the hash chain, each "
        "report's digest against its run record, and the derived files and every number of "
        "this page from the records; <code>--public-key</code> checks the signature.</p>",
        "<h2>5. Files</h2>",
        "<ul>" + "".join(f'<li><a href="{_e(n)}">{_e(n)}</a></li>' for n in files) + "</ul>",
        f"<p>Generated {_e(stored(now))} by vulnmark.</p></body></html>",
    ]
    return "\n".join(parts) + "\n"
