"""Import files: Jira REST JSON (v2 wiki markup, v3 ADF) and vulnmark's JSON Lines."""

from vulnmark.sources.files.load import FileSource, load_file

__all__ = ["FileSource", "load_file"]
