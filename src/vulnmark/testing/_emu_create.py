"""Issue and comment creation of the emulator (``POST /rest/api/{2,3}/issue`` and
``…/issue/{key}/comment``), validated as Jira does: the project and issue type must exist,
a summary is required (at most 255 characters), the description and comment body are an ADF
document on v3 and a string on v2, labels have no spaces, the assignee is ``{"accountId"}`` on
Cloud and ``{"name"}`` on Data Center and must be a known user, any other field is refused.
Errors are Jira's 400 body ``{"errorMessages": [], "errors": {field: message}}``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from vulnmark.testing._emu_data import JSON, EmuIssue, jira_time, render_comment, user
from vulnmark.testing._emu_http import HttpError
from vulnmark.testing._emu_writes import check_label

SETTABLE = {"project", "issuetype", "summary", "description", "labels", "assignee", "priority"}


def _bad(errors: JSON) -> HttpError:
    return HttpError(400, [], errors)


def check_adf(value: Any, field: str) -> None:
    """A minimal ADF check: a ``doc`` of version 1 whose nodes all have a type and whose text
    nodes have non-empty text (Jira refuses an empty text node)."""
    if not isinstance(value, dict) or value.get("type") != "doc" or value.get("version") != 1 \
            or not isinstance(value.get("content"), list):
        raise _bad({field: "Operation value must be an Atlassian Document (see the Atlassian "
                           "Document Format)"})
    stack = list(value["content"])
    while stack:
        node = stack.pop()
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            raise _bad({field: "Invalid ADF node."})
        if node["type"] == "text" and not (isinstance(node.get("text"), str) and node["text"]):
            raise _bad({field: "ADF text nodes must have non-empty text."})
        stack += node.get("content") or []


class CreateMixin:
    """Mixed into :class:`JiraEmulator`."""

    flavour: Literal["cloud", "datacenter"]
    issues: dict[str, EmuIssue]
    projects: dict[str, tuple[str, ...]]
    users: set[str] | None
    _next_id: int
    clock: Callable[[], datetime]
    add: Callable[..., None]

    @property
    def cloud(self) -> bool:
        """Whether the emulator plays Jira Cloud (REST v3, account ids) or Data Center."""
        return self.flavour == "cloud"

    def _body_text(self, value: Any, field: str, v3: bool) -> None:
        if v3:
            check_adf(value, field)
        elif not isinstance(value, str):
            raise _bad({field: "Operation value must be a string"})

    def create_issue(self, v: int, body: JSON) -> JSON:
        if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
            raise HttpError(400, ["Issue fields are required."])
        fields: JSON = body["fields"]
        errors: JSON = {}
        for name in fields:
            if name not in SETTABLE:
                errors[name] = (f"Field '{name}' cannot be set. It is not on the appropriate "
                                "screen, or unknown.")
        project = fields.get("project")
        pkey = project.get("key") if isinstance(project, dict) else None
        known = set(self.projects) | {i.project for i in self.issues.values()}
        if pkey not in known:
            errors["project"] = "valid project is required"
        itype = fields.get("issuetype")
        tname = itype.get("name") if isinstance(itype, dict) else None
        if tname is None:
            errors["issuetype"] = "Specify an issue type"
        elif pkey in known and tname not in self.projects.get(pkey, ("Bug", "Task")):
            errors["issuetype"] = "Specify a valid issue type"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255 or "\n" in summary:
            errors["summary"] = "Summary must be less than 255 characters and one line."
        if errors:
            raise _bad(errors)
        if "description" in fields and fields["description"] is not None:
            self._body_text(fields["description"], "description", v == 3)
        labels = fields.get("labels") or []
        if not isinstance(labels, list):
            raise _bad({"labels": "Labels must be a list."})
        for label in labels:
            check_label(label)
        assignee = self._assignee(fields.get("assignee"))
        self._next_id += 1
        number = 1 + max((i.number for i in self.issues.values() if i.project == pkey),
                         default=0)
        now = jira_time(self.clock())
        stored: JSON = {
            "summary": summary, "description": fields.get("description"),
            "labels": list(dict.fromkeys(labels)), "created": now, "updated": now,
            "status": {"name": "Open", "id": "1"}, "resolution": None, "resolutiondate": None,
            "reporter": user("vulnmark-intake", cloud=self.cloud),
            "priority": fields.get("priority") or {"name": "Medium", "id": "3"},
            "issuetype": {"name": tname, "id": "1"},
            "project": {"key": pkey, "id": "10000", "name": pkey},
        }
        if assignee is not None:
            stored["assignee"] = assignee
        issue = EmuIssue(self._next_id, f"{pkey}-{number}", stored)
        self.add([issue])
        host = "https://your-domain.atlassian.net" if self.cloud else "https://jira.example.org"
        return {"id": str(issue.id), "key": issue.key,
                "self": f"{host}/rest/api/{v}/issue/{issue.id}"}

    def _assignee(self, value: Any) -> JSON | None:
        if value is None:
            return None
        field = "accountId" if self.cloud else "name"
        name = value.get(field) if isinstance(value, dict) else None
        if not isinstance(name, str) or not name:
            raise _bad({"assignee": f"Specify the assignee by {field}."})
        if self.users is not None and name not in self.users:
            raise _bad({"assignee": f"User '{name}' does not exist."})
        out = user(name, cloud=self.cloud)
        if self.cloud:
            out["accountId"] = name
        return out

    def add_comment(self, issue: EmuIssue, v: int, body: JSON, base: str) -> JSON:
        if not isinstance(body, dict) or "body" not in body:
            raise _bad({"comment": "Comment body can not be empty!"})
        text = body["body"]
        self._body_text(text, "comment", v == 3)
        if not v == 3 and not text.strip():
            raise _bad({"comment": "Comment body can not be empty!"})
        self._next_id += 1
        now = jira_time(self.clock())
        comment = {"id": str(self._next_id), "author": user("vulnmark-intake", cloud=self.cloud),
                   "body": text, "created": now, "updated": now}
        issue.comments.append(comment)
        issue.fields["updated"] = now
        self.add([issue])  # re-index (updated changed)
        return render_comment(comment, v3=v == 3, base=base, key=issue.key)
