"""Fixtures of the text-inference tests."""

from __future__ import annotations

import pytest

from vulnmark.policy import Policy, preset


@pytest.fixture
def policy() -> Policy:
    return preset("etsi-319-401")
