"""A Confluence emulator (Cloud REST v2 pages and Data Center REST content) as an ASGI app.

Written from Atlassian's public API documentation; every exchange can be checked against the
official OpenAPI documents (:mod:`vulnmark.testing.confluence_spec`). What vulnmark uses:

* Cloud (``flavour="cloud"``): ``GET /wiki/api/v2/spaces?keys=``, ``GET /wiki/api/v2/pages``
  (``space-id``, ``title``, ``status``), ``POST /wiki/api/v2/pages``, ``GET|PUT
  /wiki/api/v2/pages/{id}`` (``body-format=storage``);
* Data Center (``flavour="datacenter"``): ``GET|POST /rest/api/content`` (``spaceKey``,
  ``title``, ``expand``), ``GET|PUT /rest/api/content/{id}``.

As Confluence does, an update must carry the current version number plus one (else 409
Conflict, naming the current version), a title is unique in its space (400), and a request
without the right credentials gets 401 (Basic ``user:token``; on Data Center also a Bearer
personal access token). Every version of every page is kept (:attr:`Page.versions`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qs

from vulnmark.testing._emu_http import read_body
from vulnmark.testing.jira_emulator import Exchange

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
V2 = "/wiki/api/v2"
DC = "/rest/api/content"


@dataclass
class Version:
    number: int
    body: str
    title: str
    message: str
    when: datetime


@dataclass
class Page:
    id: str
    space_key: str
    parent_id: str | None
    versions: list[Version] = field(default_factory=list)

    @property
    def current(self) -> Version:
        return self.versions[-1]


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class ConfluenceEmulator:
    flavour: Literal["cloud", "datacenter"] = "cloud"
    credentials: set[str] = field(default_factory=set)
    """Accepted ``Authorization`` header values (empty: every request is accepted)."""
    spaces: dict[str, str] = field(default_factory=lambda: {"SEC": "98305"})
    """Space key -> space id."""
    pages: dict[str, Page] = field(default_factory=dict)
    exchanges: list[Exchange] = field(default_factory=list)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _next_id: int = 557000

    @staticmethod
    def basic(user: str, token: str) -> str:
        return "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()

    def page_versions(self, page_id: str) -> list[int]:
        return [v.number for v in self.pages[page_id].versions]

    # -- ASGI ---------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive)
        method, path = scope["method"], scope["path"]
        query = scope.get("query_string", b"").decode()
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        try:
            if self.credentials and headers.get("authorization") not in self.credentials:
                raise _Refused(401, "Current user not permitted to use Confluence")
            status, payload = self._route(method, path, parse_qs(query), body)
        except _Refused as e:
            status, payload = e.status, self._error(e.status, e.message)
        raw = json.dumps(payload).encode()
        self.exchanges.append(Exchange(method, path, query, body, status, raw))
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json;charset=UTF-8"),
            (b"content-length", str(len(raw)).encode())]})
        await send({"type": "http.response.body", "body": raw})

    def _error(self, status: int, message: str) -> dict[str, Any]:
        if self.flavour == "cloud":
            return {"errors": [{"status": status, "code": _CODES.get(status, "ERROR"),
                                "title": message, "detail": None}]}
        return {"statusCode": status, "message": message, "data": {
            "authorized": status != 401, "valid": status != 400, "errors": [],
            "successful": False}}

    def _route(self, method: str, path: str, q: dict[str, list[str]],
               body: bytes) -> tuple[int, Any]:
        prefix = V2 if self.flavour == "cloud" else DC
        if not path.startswith(prefix):
            raise _Refused(404, f"No resource at {path}")
        rest = path[len(prefix):].strip("/")
        data = _json(body) if method in ("POST", "PUT") else {}
        if self.flavour == "cloud":
            if rest == "spaces" and method == "GET":
                return 200, self._v2_spaces(q)
            if rest == "pages" and method == "GET":
                return 200, self._v2_list(q)
            if rest == "pages" and method == "POST":
                return 200, self._v2_page(self._create(data, cloud=True), "storage")
            if rest.startswith("pages/") and method in ("GET", "PUT"):
                page = self._page(rest.removeprefix("pages/"))
                if method == "PUT":
                    self._update(page, data, cloud=True)
                    return 200, self._v2_page(page, "storage")
                return 200, self._v2_page(page, _one(q, "body-format"))
        else:
            if rest == "" and method == "GET":
                return 200, self._dc_list(q)
            if rest == "" and method == "POST":
                return 200, self._dc_page(self._create(data, cloud=False), body=True)
            if rest and method in ("GET", "PUT"):
                page = self._page(rest)
                if method == "PUT":
                    self._update(page, data, cloud=False)
                    return 200, self._dc_page(page, body=True)
                return 200, self._dc_page(page, body="body.storage" in _one(q, "expand"))
        raise _Refused(405 if rest in ("", "pages", "spaces") else 404,
                       f"{method} {path} is not supported")

    # -- the pages ----------------------------------------------------------------------

    def _page(self, page_id: str) -> Page:
        if page_id not in self.pages:
            raise _Refused(404, f"No content found with id: {page_id}")
        return self.pages[page_id]

    def _create(self, data: dict[str, Any], *, cloud: bool) -> Page:
        if cloud:
            space_key = next((k for k, v in self.spaces.items() if v == data.get("spaceId")),
                             None)
            parent = data.get("parentId")
            storage = data.get("body", {})
            storage = storage.get("storage", storage)
        else:
            if data.get("type") != "page":
                raise _Refused(400, "Content type must be page")
            space_key = (data.get("space") or {}).get("key")
            if space_key not in self.spaces:
                space_key = None
            ancestors = data.get("ancestors") or []
            parent = str(ancestors[0]["id"]) if ancestors else None
            storage = (data.get("body") or {}).get("storage", {})
        title = data.get("title")
        if space_key is None:
            raise _Refused(404 if cloud else 400, "Space does not exist")
        if not title:
            raise _Refused(400, "A page must have a title")
        if storage.get("representation") != "storage" or "value" not in storage:
            raise _Refused(400, "Body must be in storage representation")
        if any(p.space_key == space_key and p.current.title == title
               for p in self.pages.values()):
            raise _Refused(400, "A page with this title already exists: A page already "
                                "exists with the same TITLE in this space")
        self._next_id += 1
        page = Page(str(self._next_id), space_key, str(parent) if parent else None)
        page.versions.append(Version(1, storage["value"], title, "", self.clock()))
        self.pages[page.id] = page
        return page

    def _update(self, page: Page, data: dict[str, Any], *, cloud: bool) -> None:
        number = (data.get("version") or {}).get("number")
        if number != page.current.number + 1:
            raise _Refused(409, "Version must be incremented on update. Current version is: "
                                f"{page.current.number}")
        storage = data.get("body", {})
        storage = storage.get("storage", storage)
        if storage.get("representation") != "storage" or "value" not in storage:
            raise _Refused(400, "Body must be in storage representation")
        if not data.get("title") or (cloud and data.get("status") != "current"):
            raise _Refused(400, "title and status are required")
        message = (data.get("version") or {}).get("message", "")
        page.versions.append(Version(number, storage["value"], data["title"], message,
                                     self.clock()))

    # -- Cloud v2 JSON --------------------------------------------------------------------

    def _v2_spaces(self, q: dict[str, list[str]]) -> dict[str, Any]:
        keys = {k for v in q.get("keys", []) for k in v.split(",")}
        return {"results": [
            {"id": sid, "key": key, "name": key, "type": "global", "status": "current",
             "authorId": "5b10a2844c20165700ede21g", "createdAt": _when(self.clock()),
             "homepageId": "65540"}
            for key, sid in self.spaces.items() if not keys or key in keys], "_links": {}}

    def _v2_list(self, q: dict[str, list[str]]) -> dict[str, Any]:
        space_ids = {s for v in q.get("space-id", []) for s in v.split(",")}
        title = _one(q, "title")
        found = [p for p in self.pages.values()
                 if (not space_ids or self.spaces[p.space_key] in space_ids)
                 and (not title or p.current.title == title)]
        return {"results": [self._v2_page(p, _one(q, "body-format")) for p in found],
                "_links": {}}

    def _v2_page(self, page: Page, body_format: str) -> dict[str, Any]:
        v = page.current
        out: dict[str, Any] = {
            "id": page.id, "status": "current", "title": v.title,
            "spaceId": self.spaces[page.space_key], "parentId": page.parent_id or "65540",
            "parentType": "page", "authorId": "5b10a2844c20165700ede21g",
            "createdAt": _when(page.versions[0].when),
            "version": {"createdAt": _when(v.when), "message": v.message, "number": v.number,
                        "minorEdit": False, "authorId": "5b10a2844c20165700ede21g"},
            "body": {}, "_links": {"webui": f"/spaces/{page.space_key}/pages/{page.id}",
                                   "base": "https://your-domain.atlassian.net/wiki"}}
        if body_format == "storage":
            out["body"] = {"storage": {"representation": "storage", "value": v.body}}
        return out

    # -- Data Center JSON ------------------------------------------------------------------

    def _dc_list(self, q: dict[str, list[str]]) -> dict[str, Any]:
        key, title = _one(q, "spaceKey"), _one(q, "title")
        found = [p for p in self.pages.values()
                 if (not key or p.space_key == key) and (not title or p.current.title == title)]
        expand = _one(q, "expand")
        return {"results": [self._dc_page(p, body="body.storage" in expand) for p in found],
                "start": 0, "limit": 25, "size": len(found), "_links": {}}

    def _dc_page(self, page: Page, *, body: bool) -> dict[str, Any]:
        v = page.current
        out: dict[str, Any] = {
            "id": page.id, "type": "page", "status": "current", "title": v.title,
            "space": {"key": page.space_key, "name": page.space_key, "type": "global",
                      "status": "current", "_expandable": {}, "_links": {}},
            "version": {"number": v.number, "when": _when(v.when), "minorEdit": False,
                        "message": v.message, "by": {"type": "known", "username": "vulnmark"}},
            "_links": {"webui": f"/pages/viewpage.action?pageId={page.id}"},
            "_expandable": {}}
        if body:
            out["body"] = {"storage": {"value": v.body, "representation": "storage",
                                       "_expandable": {}}}
        return out


_CODES = {400: "INVALID_REQUEST_PARAMETER", 401: "UNAUTHORIZED", 404: "NOT_FOUND",
          405: "METHOD_NOT_ALLOWED", 409: "CONFLICT"}


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise _Refused(400, "Could not parse the request body as JSON") from None
    if not isinstance(data, dict):
        raise _Refused(400, "The request body must be a JSON object")
    return data


def _one(q: dict[str, list[str]], name: str) -> str:
    return q.get(name, [""])[-1]


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
