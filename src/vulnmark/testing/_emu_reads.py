"""Read endpoints of the Jira emulator: search (Cloud tokens, DC offsets), GET issue, bulk
fetch, paged comments and changelog."""

from __future__ import annotations

import base64
import bisect
import json
import time
from typing import TYPE_CHECKING, Any

from vulnmark.testing import _jql
from vulnmark.testing._emu_data import JSON, EmuIssue, field_set, render_comment, render_issue
from vulnmark.testing._emu_http import HttpError, RawIssues

if TYPE_CHECKING:
    from vulnmark.testing.jira_emulator import JiraEmulator


def matches(emu: JiraEmulator, jql: str) -> list[str]:
    return matches_sorted(emu, jql)[0]

def matches_sorted(emu: JiraEmulator, jql: str) -> tuple[list[str], list[tuple[str, str, int]]]:
    """Keys matching ``jql`` in its ORDER BY (created, key by default), cached briefly."""
    hit = emu._cache.get(jql)
    if hit and hit[0] == emu._version and time.monotonic() - hit[1] < 30:
        return hit[2], hit[3]
    try:
        query = _jql.parse(jql)
    except _jql.JqlError as e:
        raise HttpError(400, [f"Error in the JQL Query: {e}"]) from None
    for key in query.keys:
        if key not in emu.issues:
            raise HttpError(400, [f"An issue with key '{key}' does not exist for field "
                                  "'key'."])
    now = emu.clock()
    pred = query.predicate
    keys = [k for k in emu._order_keys if pred is None or pred(emu.issues[k], now)]
    order = [f for f, _ in query.order_by]
    if order and order[0] not in ("created", "key", "issuekey"):
        raise HttpError(400, [f"Ordering by {order[0]!r} is not supported by the emulator"])
    if query.order_by and query.order_by[0][1]:
        keys.reverse()
    sort_keys = [emu.issues[k].sort_key() for k in keys]
    emu._cache[jql] = (emu._version, time.monotonic(), keys, sort_keys)
    return keys, sort_keys

def render_params(emu: JiraEmulator, v: int, params: JSON, default_fields: str) -> JSON:
    fields = params.get("fields")
    if isinstance(fields, str):
        fields = [fields]
    expand = params.get("expand") or ""
    if isinstance(expand, list):
        expand = ",".join(expand)
    return {"v3": v == 3, "base": emu._base(v), "fields": field_set(fields, default_fields),
            "changelog": "changelog" in str(expand).split(","),
            "comment_limit": emu.comment_limit, "changelog_limit": emu.changelog_limit}

def search_cloud(emu: JiraEmulator, v: int, params: JSON) -> JSON:
    jql = str(params.get("jql") or "")
    try:
        query = _jql.parse(jql)
    except _jql.JqlError as e:
        raise HttpError(400, [f"Error in the JQL Query: {e}"]) from None
    if not query.bounded:
        raise HttpError(400, ["Unbounded JQL queries are not allowed here. Please add a "
                              "search restriction to your query."])
    keys, sort_keys = matches_sorted(emu, jql)
    opts = render_params(emu, v, params, "id")
    ids_only = opts["fields"] is not None and opts["fields"] <= {"id", "key"}
    cap = 5000 if ids_only else emu.cloud_page_cap
    size = max(1, min(int(params.get("maxResults") or 50), cap))
    start = 0
    token = params.get("nextPageToken")
    if token:
        try:
            state = json.loads(base64.urlsafe_b64decode(str(token)))
            after = (state["c"], state["p"], state["n"])
        except (ValueError, KeyError, TypeError):
            raise HttpError(400, ["The nextPageToken is invalid or expired."]) from None
        start = bisect.bisect_right(sort_keys, after)
    page = keys[start:start + size]
    out: JSON = {"issues": render_many(emu, page, opts), "isLast": start + size >= len(keys)}
    if not out["isLast"] and page:
        c, p, n = emu.issues[page[-1]].sort_key()
        out["nextPageToken"] = base64.urlsafe_b64encode(
            json.dumps({"c": c, "p": p, "n": n}).encode()).decode()
    return out

def search_dc(emu: JiraEmulator, params: JSON) -> JSON:
    jql = str(params.get("jql") or "")
    keys = matches(emu, jql)
    opts = render_params(emu, 2, params, "*navigable")
    if not emu.dc_truncates:
        opts["comment_limit"] = None
        opts["changelog_limit"] = None
    start = int(params.get("startAt") or 0)
    size = max(0, min(int(params.get("maxResults") or 50), emu.dc_page_cap))
    page = keys[start:start + size]
    return {"expand": "schema,names", "startAt": start, "maxResults": size,
            "total": len(keys), "issues": render_many(emu, page, opts)}

def render_many(emu: JiraEmulator, keys: list[str], opts: JSON) -> Any:
    if not emu.cache_renders:
        return [render_issue(emu.issues[k], **opts) for k in keys]
    fields = opts["fields"]
    okey = (opts["v3"], opts["base"], None if fields is None else frozenset(fields),
            opts["changelog"], opts["comment_limit"], opts["changelog_limit"])
    if emu._render_cache_version != emu._version:
        emu._render_cache.clear()
        emu._render_cache_version = emu._version
    frags = []
    for k in keys:
        frag = emu._render_cache.get((k, okey))
        if frag is None:
            frag = json.dumps(render_issue(emu.issues[k], **opts)).encode()
            emu._render_cache[(k, okey)] = frag
        frags.append(frag)
    return RawIssues(b"[" + b",".join(frags) + b"]")

def get_issue(emu: JiraEmulator, issue: EmuIssue, v: int, params: JSON) -> JSON:
    opts = render_params(emu, v, params, "*all")
    opts["comment_limit"] = None
    opts["changelog_limit"] = None
    return render_issue(issue, **opts)

def bulkfetch(emu: JiraEmulator, v: int, body: JSON) -> JSON:
    wanted = body.get("issueIdsOrKeys") or []
    if not 1 <= len(wanted) <= 100:
        raise HttpError(400, ["issueIdsOrKeys must hold 1 to 100 issues."])
    opts = render_params(emu, v, {"fields": body.get("fields"),
                                   "expand": body.get("expand") or []}, "*navigable")
    opts["newest_first"] = True  # "sorted by date, starting from the most recent", max 40
    found = []
    for ident in wanted:
        try:
            found.append(emu._issue(str(ident)))
        except HttpError:
            continue  # not found or not visible: silently left out, as Jira does
    return {"issues": [render_issue(i, **opts) for i in found], "issueErrors": []}

def comments(emu: JiraEmulator, issue: EmuIssue, v: int, params: JSON) -> JSON:
    start = int(params.get("startAt") or 0)
    size = max(1, min(int(params.get("maxResults") or 100), 100))
    page = issue.comments[start:start + size]
    return {"comments": [render_comment(c, v3=v == 3, base=emu._base(v), key=issue.key)
                         for c in page],
            "maxResults": size, "startAt": start, "total": len(issue.comments)}

def changelog(emu: JiraEmulator, issue: EmuIssue, v: int, params: JSON) -> JSON:
    start = int(params.get("startAt") or 0)
    size = max(1, min(int(params.get("maxResults") or 100), 100))
    page = issue.histories[start:start + size]
    base = f"{emu._base(v)}/issue/{issue.key}/changelog"
    out: JSON = {"self": f"{base}?startAt={start}&maxResults={size}", "maxResults": size,
                 "startAt": start, "total": len(issue.histories),
                 "isLast": start + size >= len(issue.histories), "values": page}
    if not out["isLast"]:
        out["nextPage"] = f"{base}?startAt={start + size}&maxResults={size}"
    return out
