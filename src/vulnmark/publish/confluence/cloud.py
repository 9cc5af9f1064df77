"""Confluence Cloud, REST API v2: ``/wiki/api/v2/pages`` (the space key is turned into the
space id once, with ``GET /wiki/api/v2/spaces?keys=``)."""

from __future__ import annotations

from typing import Any

from vulnmark.errors import PublishError
from vulnmark.publish.confluence._http import Http
from vulnmark.publish.confluence.interface import PageSite, RemotePage

API = "/wiki/api/v2"


class CloudSite(PageSite):
    name = "cloud"

    def __init__(self, http: Http) -> None:
        self.http = http
        self._space_ids: dict[str, str] = {}

    def _space_id(self, key: str) -> str:
        if key not in self._space_ids:
            found = self.http.call("GET", f"{API}/spaces", params={"keys": key})
            results = [s for s in found.get("results", []) if s.get("key") == key]
            if not results:
                raise PublishError(f"publish.space: no space with key {key!r} on "
                                   f"{self.http.site} (or no permission to see it)")
            self._space_ids[key] = str(results[0]["id"])
        return self._space_ids[key]

    def get(self, page_id: str) -> RemotePage:
        return _page(self.http.call("GET", f"{API}/pages/{page_id}"))

    def find(self, space: str, title: str) -> RemotePage | None:
        found = self.http.call("GET", f"{API}/pages", params={
            "space-id": self._space_id(space), "title": title, "status": "current"})
        results = found.get("results", [])
        return _page(results[0]) if results else None

    def create(self, space: str, title: str, body: str, parent_id: str | None) -> RemotePage:
        payload: dict[str, Any] = {
            "spaceId": self._space_id(space), "status": "current", "title": title,
            "body": {"representation": "storage", "value": body}}
        if parent_id:
            payload["parentId"] = parent_id
        return _page(self.http.call("POST", f"{API}/pages", json=payload))

    def update(self, page: RemotePage, title: str, body: str, message: str) -> RemotePage:
        payload = {"id": page.id, "status": "current", "title": title,
                   "body": {"representation": "storage", "value": body},
                   "version": {"number": page.version + 1, "message": message}}
        return _page(self.http.call("PUT", f"{API}/pages/{page.id}", json=payload))

    def close(self) -> None:
        self.http.close()


def _page(data: dict[str, Any]) -> RemotePage:
    return RemotePage(str(data["id"]), str(data.get("title", "")),
                      int(data["version"]["number"]))
