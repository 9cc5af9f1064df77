"""The page format names the CLI accepts, mapped to formatter classes."""

from __future__ import annotations

import enum
from typing import assert_never

from vulnmark.errors import PublishError
from vulnmark.publish.html import HtmlPage
from vulnmark.publish.interface import PageFormatter
from vulnmark.publish.markdown import MarkdownPage
from vulnmark.publish.storage import StoragePage


class PageFormat(enum.StrEnum):
    """``vulnmark policy page --format`` choices."""

    MD = "md"
    HTML = "html"
    CONFLUENCE = "confluence"

    @classmethod
    def parse(cls, name: str) -> PageFormat:
        try:
            return cls(name.strip().lower())
        except ValueError:
            choices = ", ".join(f.value for f in cls)
            raise PublishError(f"unknown page format {name!r}; choose one of: {choices}") \
                from None

    def to_format(self) -> PageFormatter:
        if self is PageFormat.MD:
            return MarkdownPage()
        if self is PageFormat.HTML:
            return HtmlPage()
        if self is PageFormat.CONFLUENCE:
            return StoragePage()
        assert_never(self)
