"""The emulator's issue records and how they render as Jira REST v2 / v3 JSON."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

JSON = dict[str, Any]

#: Fields a search returns for ``*navigable`` / ``*all`` besides the ones stored per issue.
NAVIGABLE = (
    "summary", "description", "labels", "created", "updated", "status", "resolution",
    "resolutiondate", "reporter", "assignee", "priority", "issuetype", "project", "comment",
)


def jira_time(t: datetime) -> str:
    """Jira's format: ``2021-01-17T12:34:00.000+0000``."""
    t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"


def parse_jira_time(s: str) -> datetime:
    return datetime.fromisoformat(s).astimezone(UTC)


def text_to_adf(text: str | None) -> JSON | None:
    """Plain text as an ADF document: blank-line separated paragraphs, hard breaks inside."""
    if text is None:
        return None
    content: list[JSON] = []
    for para in text.split("\n\n"):
        nodes: list[JSON] = []
        for i, line in enumerate(para.split("\n")):
            if i:
                nodes.append({"type": "hardBreak"})
            if line:
                nodes.append({"type": "text", "text": line})
        content.append({"type": "paragraph", "content": nodes} if nodes else {"type": "paragraph"})
    return {"type": "doc", "version": 1, "content": content}


def adf_plain(doc: Any) -> str:
    """Flatten ADF to text for the v2 rendering of an issue seeded with ADF."""
    if isinstance(doc, dict):
        if doc.get("type") == "text":
            return str(doc.get("text", ""))
        if doc.get("type") == "hardBreak":
            return "\n"
        inner = "".join(adf_plain(c) for c in doc.get("content", []))
        return inner + ("\n" if doc.get("type") == "paragraph" else "")
    return ""


def user(name: str, *, cloud: bool, email: bool = False) -> JSON:
    """A user as Jira shows it; ``emailAddress`` only with ``email`` (Cloud hides it unless
    the user's profile visibility allows it)."""
    shown = {"emailAddress": f"{name}@example.org"} if email else {}
    if cloud:
        return {"accountId": f"5b10ac8d82e05b22cc7d{abs(hash(name)) % 10**4:04d}",
                "accountType": "atlassian", "active": True, "displayName": name, **shown,
                "self": f"https://your-domain.atlassian.net/rest/api/3/user?accountId={name}"}
    return {"name": name, "key": name, "active": True, "displayName": name, **shown,
            "self": f"https://jira.example.org/rest/api/2/user?username={name}"}


@dataclass
class EmuIssue:
    """One issue held by the emulator, stored in the v2 representation."""

    id: int
    key: str
    fields: JSON
    comments: list[JSON] = field(default_factory=list)
    histories: list[JSON] = field(default_factory=list)
    _sort_key: tuple[str, str, int] | None = field(default=None, repr=False, compare=False)

    @property
    def project(self) -> str:
        return self.key.rsplit("-", 1)[0]

    @property
    def number(self) -> int:
        return int(self.key.rsplit("-", 1)[1])

    def date(self, name: str) -> datetime:
        return parse_jira_time(self.fields[name])

    def field_values(self, name: str) -> tuple[str, ...]:
        """Values a JQL clause compares against (names for objects, () when empty)."""
        if name == "key":
            return (self.key,)
        if name == "project":
            return (self.project,)
        if name == "labels":
            return tuple(self.fields.get("labels") or ())
        value = self.fields.get(name)
        if value is None:
            return ()
        if isinstance(value, dict):
            return tuple(str(value[k]) for k in ("name", "key", "id") if k in value)
        return (str(value),)

    def sort_key(self) -> tuple[str, str, int]:
        """(created in UTC, project, number): the order of ``ORDER BY created, key``."""
        if self._sort_key is None:
            self._sort_key = (jira_time(self.date("created")), self.project, self.number)
        return self._sort_key


def field_set(spec: Iterable[str] | None, default: str) -> set[str] | None:
    """Requested fields: None means all (``*all``/``*navigable``); ``-x`` exclusions ignored."""
    names = [n.strip() for s in (spec or [default]) for n in str(s).split(",") if n.strip()]
    if not names:
        names = [default]
    if any(n in ("*all", "*navigable") for n in names):
        return None
    return {n for n in names if not n.startswith("-")}


def render_comment(c: JSON, *, v3: bool, base: str, key: str) -> JSON:
    out = dict(c)
    body = c.get("body")
    if v3 and isinstance(body, str):
        out["body"] = text_to_adf(body)
    elif not v3 and isinstance(body, dict):
        out["body"] = adf_plain(body)
    out["self"] = f"{base}/issue/{key}/comment/{c['id']}"
    return out


def render_issue(
    issue: EmuIssue,
    *,
    v3: bool,
    base: str,
    fields: set[str] | None,
    changelog: bool,
    comment_limit: int | None,
    changelog_limit: int | None,
    newest_first: bool = False,
) -> JSON:
    """The IssueBean for a search or GET issue (``base`` is ``…/rest/api/{2|3}``)."""
    out: JSON = {"expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
                 "id": str(issue.id), "key": issue.key, "self": f"{base}/issue/{issue.id}"}
    rendered: JSON = {}
    names = set(issue.fields) | {"comment"} if fields is None else fields
    for name in names:
        if name in ("id", "key"):
            continue
        if name == "comment":
            shown = issue.comments if comment_limit is None else issue.comments[:comment_limit]
            rendered["comment"] = {
                "comments": [render_comment(c, v3=v3, base=base, key=issue.key) for c in shown],
                "maxResults": len(shown), "total": len(issue.comments), "startAt": 0,
                "self": f"{base}/issue/{issue.id}/comment",
            }
            continue
        if name not in issue.fields:
            continue
        value = issue.fields[name]
        if name in ("description", "environment"):
            if v3 and isinstance(value, str):
                value = text_to_adf(value)
            elif not v3 and isinstance(value, dict):
                value = adf_plain(value)
        rendered[name] = value
    out["fields"] = rendered
    if changelog:
        ordered = issue.histories[::-1] if newest_first else issue.histories
        hist = ordered if changelog_limit is None else ordered[:changelog_limit]
        out["changelog"] = {"startAt": 0, "maxResults": len(hist),
                            "total": len(issue.histories), "histories": list(hist)}
    return out


def label_history(hid: int, author: JSON, at: datetime, old: list[str], new: list[str]) -> JSON:
    item: JSON = {"field": "labels", "fieldtype": "jira", "fieldId": "labels",
                  "fromString": " ".join(old), "toString": " ".join(new)}
    return {"id": str(hid), "author": author, "created": jira_time(at), "items": [item]}


def synthetic(
    n: int,
    *,
    project: str = "VULN",
    seed: int = 0,
    start: datetime,
    cloud: bool,
    labels: tuple[tuple[str, ...], ...] = (
        ("Sérülékenység", "HIGH"), ("Sérülékenység",), ("security",), (), ("Vulnerability", "LOW"),
        ("Sérülékenység", "CRITICAL"), ("Sérülékenység", "KÖZEPES"),
    ),
    many_comments_every: int = 0,
    first_id: int = 10000,
) -> list[EmuIssue]:
    """``n`` deterministic issues created a minute apart from ``start``.

    Every ``many_comments_every``-th issue gets 45 comments and 45 label changes, more than a
    Cloud search returns inline, so a complete sync has to page them.
    """
    rng = random.Random(seed)
    users = [user(f"user{i}", cloud=cloud, email=i % 2 == 0) for i in range(20)]
    status_open = {"name": "Open", "id": "1"}
    status_done = {"name": "Done", "id": "10001"}
    fixed = {"name": "Fixed", "id": "1"}
    types = [{"name": "Bug", "id": "1"}, {"name": "Task", "id": "3"}]
    prios = [{"name": n_, "id": str(i)}
             for i, n_ in enumerate(("Highest", "High", "Medium", "Low"))]
    proj = {"key": project, "id": "10000", "name": project}
    out: list[EmuIssue] = []
    for i in range(n):
        created = start + timedelta(minutes=i)
        updated = created + timedelta(hours=rng.randint(0, 48))
        lab = list(labels[rng.randrange(len(labels))])
        resolved = rng.random() < 0.3
        fields: JSON = {
            "summary": f"Issue {i}: {rng.choice(['TLS', 'OCSP', 'HSM', 'CRL', 'API'])} problem",
            "description": f"Found during review {i}.\n\nRated {rng.choice(['HIGH', 'low'])}.",
            "labels": lab, "created": jira_time(created), "updated": jira_time(updated),
            "status": status_done if resolved else status_open,
            "resolution": fixed if resolved else None,
            "resolutiondate": jira_time(updated) if resolved else None,
            "reporter": users[i % len(users)], "priority": prios[i % 4],
            "assignee": users[(i * 7 + 3) % len(users)] if i % 3 else None,
            "issuetype": types[i % 2], "project": proj,
        }
        issue = EmuIssue(first_id + i, f"{project}-{i + 1}", fields)
        ncom = 45 if many_comments_every and i % many_comments_every == 0 else rng.randint(0, 2)
        for c in range(ncom):
            t = jira_time(created + timedelta(minutes=c + 1))
            issue.comments.append({"id": str(first_id * 10 + i * 50 + c), "author": users[c % 20],
                                   "body": f"comment {c} on {i}", "created": t, "updated": t})
        nhist = 45 if ncom == 45 else (1 if lab else 0)
        prev: list[str] = []
        for h in range(nhist):
            new = lab if h == nhist - 1 else [f"step{h}"]
            issue.histories.append(label_history(first_id * 10 + i * 50 + h, users[h % 20],
                                                 created + timedelta(seconds=h + 1), prev, new))
            prev = new
        out.append(issue)
    return out
