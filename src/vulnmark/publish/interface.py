"""The interface every policy-page format implements: ``format(page) -> str``, no I/O."""

from __future__ import annotations

from abc import ABC, abstractmethod

from vulnmark.publish.page import PolicyPage


class PageFormatter(ABC):
    """Turns a :class:`PolicyPage` into one string; the caller decides where it goes."""

    media_type: str = "text/plain"

    @abstractmethod
    def format(self, page: PolicyPage) -> str:
        """The whole page."""
