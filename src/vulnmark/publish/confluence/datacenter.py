"""Confluence Data Center (and Server): ``/rest/api/content`` under the site's base URL."""

from __future__ import annotations

from typing import Any

from vulnmark.publish.confluence._http import Http
from vulnmark.publish.confluence.interface import PageSite, RemotePage

API = "/rest/api/content"


class DataCenterSite(PageSite):
    name = "datacenter"

    def __init__(self, http: Http) -> None:
        self.http = http

    def get(self, page_id: str) -> RemotePage:
        return _page(self.http.call("GET", f"{API}/{page_id}", params={"expand": "version"}))

    def find(self, space: str, title: str) -> RemotePage | None:
        found = self.http.call("GET", API, params={"spaceKey": space, "title": title,
                                                   "type": "page", "expand": "version"})
        results = found.get("results", [])
        return _page(results[0]) if results else None

    def create(self, space: str, title: str, body: str, parent_id: str | None) -> RemotePage:
        payload: dict[str, Any] = {
            "type": "page", "title": title, "space": {"key": space},
            "body": {"storage": {"value": body, "representation": "storage"}}}
        if parent_id:
            payload["ancestors"] = [{"id": parent_id}]
        return _page(self.http.call("POST", API, json=payload))

    def update(self, page: RemotePage, title: str, body: str, message: str) -> RemotePage:
        payload = {"id": page.id, "type": "page", "title": title,
                   "version": {"number": page.version + 1, "message": message},
                   "body": {"storage": {"value": body, "representation": "storage"}}}
        return _page(self.http.call("PUT", f"{API}/{page.id}", json=payload))

    def close(self) -> None:
        self.http.close()


def _page(data: dict[str, Any]) -> RemotePage:
    space = data.get("space") or {}
    return RemotePage(str(data["id"]), str(data.get("title", "")),
                      int(data["version"]["number"]), space.get("key"))
