"""Fixtures of the text-inference tests."""

from __future__ import annotations

import pytest

from vulnmark.config.policy import Policy
from vulnmark.config.presets import preset


@pytest.fixture
def policy() -> Policy:
    return preset("etsi-319-401")
