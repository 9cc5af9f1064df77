"""A configuration full of hostile strings, for the page tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from publish_support import HOSTILE_TOML

from vulnmark.config.load import Config, load


@pytest.fixture
def hostile(tmp_path: Path) -> Config:
    path = tmp_path / "hostile.toml"
    path.write_text(HOSTILE_TOML, encoding="utf-8")
    return load(path)
