"""Ticket sources behind one interface: import files (Jira REST JSON, vulnmark JSON Lines).

The Jira HTTP sync lives in its own modules and reuses :func:`ticket_from_jira` and
:func:`adf_to_text`.
"""

from __future__ import annotations

from vulnmark.errors import InputError, SourceError
from vulnmark.sources.files.adf import adf_to_text
from vulnmark.sources.files.jira_json import iter_jira_document, ticket_from_jira
from vulnmark.sources.files.jsonl import ticket_from_json, ticket_to_json
from vulnmark.sources.files.load import FileSource, load_file
from vulnmark.sources.interface import TicketSource

__all__ = [
    "FileSource",
    "InputError",
    "SourceError",
    "TicketSource",
    "adf_to_text",
    "iter_jira_document",
    "load_file",
    "ticket_from_jira",
    "ticket_from_json",
    "ticket_to_json",
]
