"""Test doubles that ship with vulnmark: a protocol-faithful Jira emulator and a loopback server."""

from vulnmark.testing.jira_emulator import JiraEmulator

__all__ = ["JiraEmulator"]
