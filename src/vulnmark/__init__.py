"""vulnmark: machine-classified vulnerability tickets, visible deadlines, provable daily control.

The library API (the CLI is a thin front end over the same calls)::

    import vulnmark

    config = vulnmark.load_config(Path("vulnmark.toml"))        # checked at load
    with vulnmark.Store.open("sqlite:///vulnmark.db") as store:
        result = vulnmark.check(store, config.policy, now)       # findings at an instant
        run = vulnmark.DailyJob(store, config).run(now)          # the daily report, kept

Everything else is importable from its stage's package (see the README's "Architecture").
"""

from vulnmark._version import __version__
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
