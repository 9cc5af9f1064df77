"""Test doubles that ship with vulnmark: protocol-faithful Jira, Confluence and NVD API
emulators and a loopback server."""

from vulnmark.testing.confluence_emulator import ConfluenceEmulator
from vulnmark.testing.jira_emulator import JiraEmulator
from vulnmark.testing.nvd_emulator import NvdEmulator

__all__ = ["ConfluenceEmulator", "JiraEmulator", "NvdEmulator"]
