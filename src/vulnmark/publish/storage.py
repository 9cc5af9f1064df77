"""The policy page in Confluence storage format: the XHTML body Confluence keeps, with its
``code`` macro for the labels and the JQL (CDATA, so nothing in them is markup). This is the
body ``vulnmark policy publish`` sends (``representation: storage``)."""

from __future__ import annotations

from vulnmark.publish._render import MarkupWriter, Render, environment
from vulnmark.publish.interface import PageFormatter
from vulnmark.publish.page import PolicyPage


class StoragePage(PageFormatter):
    media_type = "application/xhtml+xml"

    def format(self, page: PolicyPage) -> str:
        return environment(True).get_template("page.xhtml.j2").render(
            r=Render(page, MarkupWriter()), storage=True)
