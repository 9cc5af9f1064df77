"""The policy page as one self-contained HTML document (inline CSS, no script, every
configured string escaped)."""

from __future__ import annotations

from vulnmark.publish._render import MarkupWriter, Render, environment
from vulnmark.publish.interface import PageFormatter
from vulnmark.publish.page import PolicyPage


class HtmlPage(PageFormatter):
    media_type = "text/html"

    def format(self, page: PolicyPage) -> str:
        return environment(True).get_template("page.xhtml.j2").render(
            r=Render(page, MarkupWriter()), storage=False)
