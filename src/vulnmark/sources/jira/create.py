"""Create issues and comments in Jira (used by threat intake), and find them again by label.

* ``POST /rest/api/3/issue`` (Cloud: the description as an ADF document, the assignee by
  ``accountId``) or ``POST /rest/api/2/issue`` (Data Center: wiki markup, the assignee by
  ``name``), with project, issue type, summary, labels and assignee set at creation.
* ``POST …/issue/{key}/comment`` (ADF / wiki markup).
* :func:`find_labelled`: the issues of a project carrying one label (a bounded JQL search,
  both flavours), how a creation interrupted after the POST is found again.
* Every label is checked before anything is sent (:class:`LabelError`, exit 2). A 400 from
  Jira is a :class:`JiraHTTPError` whose ``fields`` are the fields Jira named (``errors``);
  retries of 429/503 are the client's (``Retry-After`` honoured).
"""

from __future__ import annotations

from dataclasses import dataclass

from vulnmark.errors import InputError
from vulnmark.sources.interface import check_label
from vulnmark.sources.jira import richtext
from vulnmark.sources.jira.client import JSON, JiraClient, issue_path
from vulnmark.sources.jira.jql import quote
from vulnmark.sources.jira.richtext import Block
from vulnmark.sources.jira.settings import JiraResponseError, LabelError

MAX_SUMMARY = 255


@dataclass(frozen=True)
class NewIssue:
    project: str
    issue_type: str
    summary: str
    body: tuple[Block, ...]
    labels: tuple[str, ...]
    assignee: str | None = None
    """Cloud: an account id; Data Center: a user name."""


def check_labels(labels: tuple[str, ...], *, what: str) -> None:
    for i, label in enumerate(labels):
        try:
            check_label(label, what=what, field=f"labels[{i}]")
        except InputError as e:
            raise LabelError(e.message, field=e.field) from None


def fields_of(jira: JiraClient, issue: NewIssue) -> JSON:
    """The ``fields`` of the create request for the client's flavour."""
    cloud = jira.flavour == "cloud"
    fields: JSON = {
        "project": {"key": issue.project},
        "issuetype": {"name": issue.issue_type},
        "summary": " ".join(issue.summary.split())[:MAX_SUMMARY],
        "description": richtext.adf(issue.body) if cloud else richtext.wiki(issue.body),
        "labels": list(issue.labels),
    }
    if issue.assignee:
        fields["assignee"] = {"accountId" if cloud else "name": issue.assignee}
    return fields


async def create_issue(jira: JiraClient, issue: NewIssue, *, what: str) -> tuple[str, str]:
    """Create ``issue``; returns its (id, key). ``what`` names it in errors."""
    check_labels(issue.labels, what=what)
    await jira.detect_flavour()
    created = await jira.request("POST", f"{jira.api}/issue", what=f"create issue for {what}",
                                 json={"fields": fields_of(jira, issue)}, idempotent=False)
    if not isinstance(created, dict) or not isinstance(created.get("key"), str) \
            or not isinstance(created.get("id"), str):
        raise JiraResponseError(f"{jira.settings.site}: create issue for {what}: the answer "
                                "has no string 'id' and 'key'")
    return created["id"], created["key"]


async def add_comment(jira: JiraClient, key: str, body: tuple[Block, ...], *, what: str) -> str:
    """Add a comment to ``key``; returns the comment's id."""
    await jira.detect_flavour()
    text = richtext.adf(body) if jira.flavour == "cloud" else richtext.wiki(body)
    made = await jira.request("POST", issue_path(jira.api, key, "comment"),
                              what=f"comment on {key} for {what}", json={"body": text},
                              idempotent=False)
    return str((made or {}).get("id", "")) if isinstance(made, dict) else ""


async def find_labelled(jira: JiraClient, project: str, label: str) -> list[tuple[str, str]]:
    """(id, key) of the issues of ``project`` labelled ``label``, oldest first."""
    jql = f"project = {quote(project)} AND labels = {quote(label)} ORDER BY created ASC"
    if await jira.detect_flavour() == "cloud":
        page = await jira.search_cloud({"jql": jql, "fields": ["labels"], "maxResults": 50})
    else:
        page = await jira.search_dc({"jql": jql, "fields": ["labels"], "maxResults": 50,
                                     "startAt": 0})
    return [(str(i.get("id")), str(i.get("key"))) for i in page["issues"]
            if isinstance(i, dict)]


async def comment_texts(jira: JiraClient, key: str) -> list[str]:
    """The text of every comment of ``key`` (ADF text nodes; wiki markup unescaped)."""
    await jira.detect_flavour()
    out: list[str] = []
    async for c in jira.paged(issue_path(jira.api, key, "comment"), what=f"comments of {key}",
                              start=0, list_field="comments"):
        body = c.get("body") if isinstance(c, dict) else None
        out.append(richtext.unescape(body) if isinstance(body, str) else _adf_text(body))
    return out


def _adf_text(node: object) -> str:
    if isinstance(node, dict):
        if node.get("type") == "text":
            return str(node.get("text", ""))
        return "".join(_adf_text(c) for c in node.get("content") or [])
    return ""
