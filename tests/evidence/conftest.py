"""Fixtures of the evidence tests: one local Time-Stamp Authority per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tsa_support import LocalTsa, serve


@pytest.fixture(scope="module")
def tsa() -> Iterator[tuple[LocalTsa, str]]:
    """A TSA on 127.0.0.1 and its URL."""
    authority = LocalTsa()
    with serve(authority) as url:
        yield authority, url
