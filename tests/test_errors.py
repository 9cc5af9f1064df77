"""One error tree: every error vulnmark raises on purpose is a VulnmarkError, and the external
failures (exit 3) are exactly those of the database, the mail server, Jira and Confluence."""

from __future__ import annotations

import inspect

import vulnmark.errors as errors
from vulnmark.errors import ExternalError, VulnmarkError
from vulnmark.sources.jira import settings as jira_settings
from vulnmark.sources.jira import webhook as jira_webhook


def _classes(module: object) -> list[type[BaseException]]:
    return [c for _, c in inspect.getmembers(module, inspect.isclass)
            if issubclass(c, BaseException) and c.__module__ == module.__name__]


def test_every_error_is_a_vulnmark_error() -> None:
    for module in (errors, jira_settings, jira_webhook):
        for cls in _classes(module):
            assert issubclass(cls, VulnmarkError), cls


def test_the_external_errors() -> None:
    external = {c.__name__ for m in (errors, jira_settings, jira_webhook) for c in _classes(m)
                if issubclass(c, ExternalError) and c is not ExternalError}
    assert external == {"StoreUnavailable", "DeliveryFailed", "BugzillaError", "JiraError",
                        "JiraAuthError", "JiraUnavailable", "JiraHTTPError", "JiraNotFound",
                        "JiraResponseError", "PublishFailed",
                        "FeedUnavailable", "IntakeJiraFailed"}


def test_the_tree_is_drawn_in_the_docstring() -> None:
    doc = errors.__doc__ or ""
    for name in errors.__all__:
        assert name in doc, name
