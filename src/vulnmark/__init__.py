"""vulnmark: machine-classified vulnerability tickets, visible deadlines, provable daily control.

The library API (the CLI is a thin front end over the same calls)::

    import vulnmark

    config = vulnmark.load_config(Path("vulnmark.toml"))        # checked at load
    with vulnmark.Store.open("sqlite:///vulnmark.db") as store:
        result = vulnmark.check(store, config.policy, now)       # findings at an instant
        run = vulnmark.DailyJob(store, config).run(now)          # the daily report, kept

Everything else is importable from its stage's package (see the README's "Architecture").
"""

from __future__ import annotations

import sys
import types
from importlib import import_module
from typing import TYPE_CHECKING, Any

from vulnmark._version import __version__

if TYPE_CHECKING:
    from vulnmark.check.engine import CheckOptions
    from vulnmark.check.results import CheckResult, Filters, check
    from vulnmark.config.load import Config
    from vulnmark.config.load import load as load_config
    from vulnmark.config.policy import Policy
    from vulnmark.config.presets import preset
    from vulnmark.control.daily import DailyJob, DailyRun
    from vulnmark.errors import VulnmarkError
    from vulnmark.model import (
        Comment,
        Evidence,
        Finding,
        LabelChange,
        Outcome,
        Reading,
        Run,
        Ticket,
        TicketKey,
    )
    from vulnmark.store import Store

#: Where each name of the API lives: imported on first use (PEP 562), so that importing the
#: package (every CLI start, shell completion) does not load SQLAlchemy and the check.
_WHERE: dict[str, tuple[str, str]] = {
    "CheckOptions": ("vulnmark.check.engine", "CheckOptions"),
    "CheckResult": ("vulnmark.check.results", "CheckResult"),
    "Filters": ("vulnmark.check.results", "Filters"),
    "check": ("vulnmark.check.results", "check"),
    "Config": ("vulnmark.config.load", "Config"),
    "load_config": ("vulnmark.config.load", "load"),
    "Policy": ("vulnmark.config.policy", "Policy"),
    "preset": ("vulnmark.config.presets", "preset"),
    "DailyJob": ("vulnmark.control.daily", "DailyJob"),
    "DailyRun": ("vulnmark.control.daily", "DailyRun"),
    "VulnmarkError": ("vulnmark.errors", "VulnmarkError"),
    **{name: ("vulnmark.model", name) for name in (
        "Comment", "Evidence", "Finding", "LabelChange", "Outcome", "Reading", "Run", "Ticket",
        "TicketKey")},
    "Store": ("vulnmark.store", "Store"),
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'vulnmark' has no attribute {name!r}")
    value = getattr(import_module(where[0]), where[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


class _Package(types.ModuleType):
    """``vulnmark.check`` is the function of the API, as it was when the package imported it
    eagerly; importing the subpackage ``vulnmark.check`` (which sets the attribute on its
    parent) must not replace it."""

    @property
    def check(self) -> Any:
        return import_module("vulnmark.check.results").check

    @check.setter
    def check(self, value: Any) -> None:
        pass  # the subpackage: it stays reachable through sys.modules


sys.modules[__name__].__class__ = _Package


__all__ = [
    "CheckOptions",
    "CheckResult",
    "Comment",
    "Config",
    "DailyJob",
    "DailyRun",
    "Evidence",
    "Filters",
    "Finding",
    "LabelChange",
    "Outcome",
    "Policy",
    "Reading",
    "Run",
    "Store",
    "Ticket",
    "TicketKey",
    "VulnmarkError",
    "__version__",
    "check",
    "load_config",
    "preset",
]
