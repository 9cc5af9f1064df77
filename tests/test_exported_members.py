"""The library API is deliberate: ``vulnmark.__all__`` is pinned here (a change to it is a change
of the public contract), and every name in it is importable and what it claims to be."""

from __future__ import annotations

import vulnmark

EXPORTED = [
    "CheckOptions", "CheckResult", "Comment", "Config", "DailyJob", "DailyRun", "Evidence",
    "Filters", "Finding", "LabelChange", "Outcome", "Policy", "Reading", "Run", "Store",
    "Ticket", "TicketKey", "VulnmarkError", "__version__", "check", "load_config", "preset",
]


def test_all_is_pinned() -> None:
    assert vulnmark.__all__ == EXPORTED


def test_every_exported_name_exists_and_belongs_to_vulnmark() -> None:
    for name in vulnmark.__all__:
        member = getattr(vulnmark, name)
        if name == "__version__":
            assert isinstance(member, str)
            continue
        module = getattr(member, "__module__", "")
        assert module.startswith("vulnmark."), (name, module)
        assert not any(part.startswith("_") for part in module.split(".")[1:]), (name, module)
