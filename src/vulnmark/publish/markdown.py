"""The policy page as Markdown (CommonMark with GFM tables), for a wiki or a repository."""

from __future__ import annotations

from vulnmark.publish._render import Render, Writer, environment
from vulnmark.publish.interface import PageFormatter
from vulnmark.publish.page import PolicyPage


class MarkdownPage(PageFormatter):
    media_type = "text/markdown"

    def format(self, page: PolicyPage) -> str:
        text = environment(False).get_template("page.md.j2").render(r=Render(page, Writer()))
        return text.rstrip("\n") + "\n"
