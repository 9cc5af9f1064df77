"""Configurations the page tests render: every preset, and one full of hostile strings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from vulnmark.config.load import Config, load

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


@pytest.fixture
def hostile(tmp_path: Path) -> Config:
    path = tmp_path / "hostile.toml"
    path.write_text(HOSTILE_TOML, encoding="utf-8")
    return load(path)
