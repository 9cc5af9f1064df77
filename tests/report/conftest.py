"""A canned daily report with one finding of every kind and hostile ticket text."""

from __future__ import annotations

import pytest
from canned_report import NOW, canned_findings, canned_health

from vulnmark.config.presets import preset
from vulnmark.report.model import ControlHealth, DailyReport

__all__ = ["NOW", "canned_findings", "canned_health"]

@pytest.fixture
def policy():  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(preset("etsi-319-401"), timezone="Europe/Budapest")


@pytest.fixture
def report(policy) -> DailyReport:  # type: ignore[no-untyped-def]
    findings = canned_findings()
    return DailyReport.from_policy(
        policy, generated_at=NOW, tickets=40, vulnerabilities=12,
        by_class={"CRITICAL": 4, "HIGH": 3, "LOW": 2, "unclassified": 3},
        findings=findings, health=canned_health(),
    )


@pytest.fixture
def empty_report(policy) -> DailyReport:  # type: ignore[no-untyped-def]
    health = ControlHealth(runs=(), missed_days=(), last_delivery=None, undelivered=())
    return DailyReport.from_policy(
        policy, generated_at=NOW, tickets=5, vulnerabilities=2,
        by_class={"HIGH": 2, "unclassified": 0}, findings=(), health=health,
    )
