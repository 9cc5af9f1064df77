"""Test doubles that ship with vulnmark: protocol-faithful Jira and Confluence emulators and a
loopback server."""

from vulnmark.testing.confluence_emulator import ConfluenceEmulator
from vulnmark.testing.jira_emulator import JiraEmulator

__all__ = ["ConfluenceEmulator", "JiraEmulator"]
