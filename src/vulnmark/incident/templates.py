"""The report templates as data, and their rendering in Markdown (ready to paste into
Bugzilla): IRG 3.2 Preliminary, Full and Closure reports, and the IRG 2.0 Audit Incident
Report (../shared/reference/standards.md §3.3-§3.4). Headings and bold field names are the
guideline's, verbatim; a field that does not apply (nothing recorded) reads "N/A", as IRG 3.x
requires. Formats return strings and do no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from vulnmark.errors import IncidentError
from vulnmark.incident import status
from vulnmark.model_incident import LESSON_KINDS, Incident

NA = "N/A"

#: The narrative fields ``incident set`` takes: key -> the template's field name.
FIELDS: dict[str, str] = {
    "description": "Incident description",
    "noncompliance_start": "Non-compliance start date",
    "noncompliance_identified": "Non-compliance identified date",
    "noncompliance_end": "Non-compliance end date",
    "total_certificates": "Total number of certificates",
    "remaining_valid": 'Total number of "remaining valid" certificates',
    "certificate_types": "Affected certificate types",
    "heuristic": "Incident heuristic",
    "issuance_stopped": "Was issuance stopped in response to this incident, and why or why not?",
    "analysis": "Analysis",
    "additional_considerations": "Additional considerations",
    "root_causes": "Incident Root Cause(s)",
    "remediation": "Remediation description",
    "commitments": "Commitment summary",
    "appendix": "Appendix",
}
SUMMARY_TIMELINE = ("noncompliance_start", "noncompliance_identified", "noncompliance_end")
IMPACT = ("total_certificates", "remaining_valid", "certificate_types", "heuristic",
          "issuance_stopped", "analysis", "additional_considerations")
FACTOR_FIELDS = (("description", "Description"), ("timeline", "Timeline"),
                 ("detection", "Detection"), ("interaction", "Interaction with other factors"),
                 ("methodology", "Root Cause Analysis methodology used"))
#: ``incident report --template`` choices.
TEMPLATES: tuple[str, ...] = ("preliminary", "full", "closure", "audit-v2")


def _value(incident: Incident, key: str) -> str:
    return status.paragraph(incident.fields.get(key, "")) or NA


def _field(name: str, value: str, indent: str = "") -> str:
    if "\n" in value:  # a multi-line value goes under its name, indented
        body = "\n".join(f"{indent}  {line}" if line else "" for line in value.splitlines())
        return f"{indent}- **{name}:**\n{body}"
    return f"{indent}- **{name}:** {value}"


def _policies(incident: Incident) -> str:
    return "; ".join(status.cell(p) for p in incident.policies) or NA


def preliminary(incident: Incident, day: date) -> str:
    return "\n".join([
        "## Preliminary Incident Report", "", "### Summary", "",
        _field("Incident description", _value(incident, "description")),
        _field("Relevant policies", _policies(incident)),
        _field("Source of incident disclosure", incident.source), ""])


def full(incident: Incident, day: date) -> str:
    out = ["## Full Incident Report", "", "### Summary", "",
           _field("CA Owner CCADB unique ID", incident.ccadb_id or NA),
           _field("Incident description", _value(incident, "description")),
           "- **Timeline summary:**",
           *(_field(FIELDS[k], _value(incident, k), "  ") for k in SUMMARY_TIMELINE),
           _field("Relevant policies", _policies(incident)),
           _field("Source of incident disclosure", incident.source),
           "", "### Impact", "",
           *(_field(FIELDS[k], _value(incident, k)) for k in IMPACT),
           "", "### Timeline", "", *_timeline(incident),
           "", "### Related Incidents", "", "| Bug | Date | Description |", "|---|---|---|",
           *(f"| {status.cell(r.bug)} | {r.day} | {status.cell(r.description)} |"
             for r in incident.related),
           *(["| N/A | N/A | N/A |"] if not incident.related else []),
           "", "### Root Cause Analysis", "", *_factors(incident),
           "### Lessons Learned", "", *_lessons(incident),
           "", "### Action Items", "", status.table(incident, day).rstrip("\n"),
           "", "### Appendix", "", _value(incident, "appendix"), ""]
    return "\n".join(out)


def _timeline(incident: Incident) -> Iterator[str]:
    if not incident.timeline:
        yield NA
    for t in incident.timeline:
        yield f"- {t.at:%Y-%m-%d %H:%M} UTC: {status.cell(t.text)}"


def _factors(incident: Incident) -> Iterator[str]:
    if not incident.factors:
        yield from (NA, "")
    for n, f in enumerate(incident.factors, 1):
        yield f"#### Contributing Factor #{n}: {status.cell(f.title)}"
        yield ""
        for attr, name in FACTOR_FIELDS:
            yield _field(name, status.paragraph(getattr(f, attr)) or NA)
        yield ""


def _lessons(incident: Incident) -> Iterator[str]:
    for kind, name in LESSON_KINDS.items():
        items = [x.text for x in incident.lessons if x.kind == kind]
        if not items:
            yield _field(name, NA)
            continue
        yield f"- **{name}:**"
        yield from (f"  - {status.cell(text)}" for text in items)


def closure(incident: Incident, day: date) -> str:
    open_items = [r.item.title for r in status.rows(incident, day) if r.group != "done"]
    if open_items:
        raise IncidentError(f"incident {incident.id}: a Closure Report needs every action item "
                            f"complete; still open on {day}: {', '.join(open_items)}")
    return "\n".join([
        "### Report Closure Summary", "",
        _field("Incident description", _value(incident, "description")),
        _field("Incident Root Cause(s)", _value(incident, "root_causes")),
        _field("Remediation description", _value(incident, "remediation")),
        _field("Commitment summary", _value(incident, "commitments")), "",
        "All Action Items disclosed in this Incident Report have been completed as described, "
        "and we request its closure.", ""])


def audit_v2(incident: Incident, day: date) -> str:
    """The IRG 2.0 Audit Incident Report: a section per finding, the root cause analysis and
    the 3-column Action Items table of the template."""
    out = ["## Audit Incident Report", ""]
    if not incident.findings:
        out += [NA, ""]
    for f in incident.findings:
        out += [f"### Finding #{f.number}", "",
                _field("Standard and clause", f"{status.cell(f.standard)} "
                                              f"{status.cell(f.clause)}"),
                _field("Severity", f.severity),
                _field("Audit", f"{f.audit_start} to {f.audit_end}"),
                _field("Description", status.paragraph(f.text) or NA), ""]
    out += ["### Root Cause Analysis", "", *_factors(incident), "### Action Items", "",
            "| Action Item | Kind | Due Date |", "|---|---|---|",
            *(f"| {status.cell(r.item.title)} | {status.cell(r.item.kind)} | {r.state.due} |"
              for r in status.rows(incident, day)), ""]
    return "\n".join(out)


def render(template: str, incident: Incident, day: date) -> str:
    renderers = {"preliminary": preliminary, "full": full, "closure": closure,
                 "audit-v2": audit_v2}
    if template not in renderers:
        raise IncidentError(f"unknown template {template!r} (expected "
                            f"{', '.join(TEMPLATES)})")
    return renderers[template](incident, day)


def summary(incident: Incident) -> str:
    """The Bugzilla Summary: ``<CA Owner name>: <brief title>``."""
    return f"{status.cell(incident.ca_owner)}: {status.cell(incident.title)}"
