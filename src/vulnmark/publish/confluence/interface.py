"""Where the policy page is published: one interface, one module per Confluence flavour
(:mod:`.cloud`: REST v2 ``/wiki/api/v2/pages``; :mod:`.datacenter`: ``/rest/api/content``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class RemotePage:
    """A page as Confluence returned it."""

    id: str
    title: str
    version: int
    """The current version number (the next update must send this plus one)."""
    space: str | None = None
    """The space key, where the flavour reports it."""


class PageSite(ABC):
    """A Confluence site that holds the policy page."""

    name: str
    """``cloud`` or ``datacenter`` (recorded with each publication)."""

    @abstractmethod
    def get(self, page_id: str) -> RemotePage:
        """The page with ``page_id`` (:class:`~vulnmark.errors.PublishFailed` 404 if none)."""

    @abstractmethod
    def find(self, space: str, title: str) -> RemotePage | None:
        """The current page titled ``title`` in the space with key ``space``."""

    @abstractmethod
    def create(self, space: str, title: str, body: str, parent_id: str | None) -> RemotePage:
        """A new page (version 1) with the storage-format ``body``."""

    @abstractmethod
    def update(self, page: RemotePage, title: str, body: str, message: str) -> RemotePage:
        """The page's next version: ``page.version + 1`` (409 when someone was quicker)."""

    @abstractmethod
    def close(self) -> None:
        """Release the HTTP connections."""
