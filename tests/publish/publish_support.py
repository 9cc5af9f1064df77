"""What the page tests share (a module of its own: ``conftest`` names collide across test
folders, so constants are not imported from one)."""

from __future__ import annotations

from datetime import UTC, datetime

NOW = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)

HOSTILE_TOML = """\
preset = "ncssr-v2+etsi-319-401"
recipients = ["mso@example.org", "<b>boss</b>@example.org"]
[labels]
vulnerability = ["Sérülékenység", "<img/src=x/onerror=alert(1)>", "a|b`c"]
[classes.CRITICAL]
aliases = ["KRITIKUS", "]]>&amp;", "--><script>alert(2)</script>"]
[schedule]
cron = "0 7 * * 1-5"
timezone = "Europe/Budapest"
"""
