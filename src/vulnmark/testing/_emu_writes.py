"""Label writes of the emulator: ``PUT issue`` and Cloud bulk edit, validated as Jira does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vulnmark.testing._emu_data import JSON, EmuIssue
from vulnmark.testing._emu_http import HttpError


def _error(status: int, errors: JSON | None = None, messages: list[str] | None = None) -> Exception:
    return HttpError(status, messages or [], errors)


def check_label(label: Any) -> None:
    """Jira's messages for a label with spaces or over 255 characters."""
    if not isinstance(label, str) or not label:
        raise _error(400, {"labels": "Labels must be non-empty strings."})
    if any(ch.isspace() for ch in label):
        raise _error(400, {"labels": f"The label '{label}' contains spaces which is invalid."})
    if len(label.encode("utf-16-le")) // 2 > 255:
        raise _error(400, {"labels": f"The label '{label}' exceeds the maximum length for a "
                                     "single label of 255 characters."})


class WritesMixin:
    """Mixed into :class:`JiraEmulator`."""

    issues: dict[str, EmuIssue]
    tasks: dict[str, int]
    bulk_results: dict[str, tuple[list[int], int]]
    _next_id: int
    new_history: Callable[[EmuIssue, list[str], list[str]], None]
    """Provided by :class:`JiraEmulator` (records a changelog entry)."""

    def edit_labels(self, issue: EmuIssue, body: JSON) -> None:
        update = body.get("update") or {}
        fields = body.get("fields") or {}
        if "labels" in update and "labels" in fields:
            raise _error(400, {"labels": "Field 'labels' cannot be set. It is not on the "
                                         "appropriate screen, or unknown."})
        old = list(issue.fields.get("labels") or [])
        new = list(old)
        if "labels" in fields:
            for label in fields["labels"]:
                check_label(label)
            new = list(dict.fromkeys(fields["labels"]))
        for op in update.get("labels", []):
            if not isinstance(op, dict) or len(op) != 1:
                raise _error(400, {"labels": "Invalid update operation."})
            (verb, value), = op.items()
            if verb == "add":
                check_label(value)
                if value not in new:
                    new.append(value)
            elif verb == "remove":
                new = [x for x in new if x != value]
            elif verb == "set":
                for label in value:
                    check_label(label)
                new = list(dict.fromkeys(value))
            else:
                raise _error(400, {"labels": f"Operation '{verb}' is not supported."})
        unknown = (set(update) | set(fields)) - {"labels"}
        if unknown:
            raise _error(400, {sorted(unknown)[0]: "Field cannot be set by the emulator."})
        if new != old:
            issue.fields["labels"] = new
            self.new_history(issue, old, new)

    def bulk_edit(self, body: JSON) -> JSON:
        keys = body.get("selectedIssueIdsOrKeys") or []
        if not keys or len(keys) > 1000:
            raise _error(400, messages=["selectedIssueIdsOrKeys must hold 1 to 1000 issues."])
        if body.get("selectedActions") != ["labels"]:
            raise _error(400, messages=["Only the labels action is supported."])
        specs = ((body.get("editedFieldsInput") or {}).get("labelsFields")) or []
        processed: list[int] = []
        for key in keys:
            issue = self.issues.get(key)
            if issue is None:
                continue
            for spec in specs:
                mode = spec.get("bulkEditMultiSelectFieldOption")
                names = [lab["name"] for lab in spec.get("labels", [])]
                ops = {"ADD": "add", "REMOVE": "remove"}
                if mode not in ops:
                    raise _error(400, messages=[f"Unsupported option {mode!r}."])
                self.edit_labels(issue, {"update": {"labels": [{ops[mode]: n} for n in names]}})
            processed.append(issue.id)
        self._next_id += 1
        task = str(self._next_id)
        self.tasks[task] = 0
        self.bulk_results[task] = (processed, len(keys) - len(processed))
        return {"taskId": task}

    def bulk_progress(self, task: str) -> JSON:
        if task not in self.tasks:
            raise _error(404, messages=["Task not found."])
        self.tasks[task] += 1
        processed, invalid = self.bulk_results[task]
        if self.tasks[task] == 1:
            return {"taskId": task, "status": "RUNNING", "progressPercent": 50}
        return {"taskId": task, "status": "COMPLETE", "progressPercent": 100,
                "processedAccessibleIssues": processed,
                "invalidOrInaccessibleIssueCount": invalid, "totalIssueCount": len(processed)
                + invalid}
