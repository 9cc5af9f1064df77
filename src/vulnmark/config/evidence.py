"""The ``[evidence]`` table: the RFC 3161 Time-Stamp Authority that stamps each report run's
chain head (``tsa_url``; none: heads are not time-stamped)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from vulnmark.errors import ConfigError

EVIDENCE_KEYS: tuple[str, ...] = ("tsa_url", "tsa_timeout")


@dataclass(frozen=True)
class EvidenceSettings:
    tsa_url: str | None = None
    """The TSA's HTTP(S) endpoint (RFC 3161 over HTTP); None: no time-stamps."""
    tsa_timeout: float = 10.0
    """Seconds one time-stamp request may take in all."""


def parse_evidence(table: Mapping[str, Any]) -> EvidenceSettings:
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key == "tsa_url":
            parts = urlsplit(value) if isinstance(value, str) else None
            if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError("evidence.tsa_url: expected an http:// or https:// URL of an "
                                  f"RFC 3161 Time-Stamp Authority, got {value!r}")
        elif key == "tsa_timeout":
            if isinstance(value, bool) or not isinstance(value, int | float) or \
                    not 0 < value <= 600:
                raise ConfigError(f"evidence.tsa_timeout: expected 0 to 600 s, got {value!r}")
            value = float(value)
        else:
            raise ConfigError(f"unknown key 'evidence.{key}' (expected "
                              f"{', '.join(EVIDENCE_KEYS)})")
        values[key] = value
    return EvidenceSettings(**values)
