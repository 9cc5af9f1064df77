"""The marking rules as a page people read, generated from the policy the check enforces.

* :mod:`.page`: :func:`.page.build_page` -> :class:`.page.PolicyPage` (from the config);
* :mod:`.texts`: one catalogue of sentences per language (``lang/*.toml``);
* :mod:`.formats`: Markdown, HTML and Confluence storage format, each ``format(page) -> str``;
"""

from vulnmark.publish.formats import PageFormat
from vulnmark.publish.page import PolicyPage, build_page
from vulnmark.publish.texts import Lang

__all__ = ["Lang", "PageFormat", "PolicyPage", "build_page"]
