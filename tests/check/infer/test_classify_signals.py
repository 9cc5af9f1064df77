"""Vulnerability signals: advisory ids, vulnerability words, the two-concept rule."""

from __future__ import annotations

import pytest
from classify_support import make

from vulnmark.check.infer import read
from vulnmark.config.policy import Policy


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Upgrade OpenSSL for CVE-2024-5535 before the audit.", "CVE-2024-5535"),
        ("See GHSA-h5c8-rqwp-cp95 for details.", "GHSA-h5c8-rqwp-cp95"),
        ("Tracked upstream as RUSTSEC-2023-0071.", "RUSTSEC-2023-0071"),
        ("PYSEC-2021-19 affects our tooling.", "PYSEC-2021-19"),
        ("The login form is vulnerable to XSS.", "vulnerable"),
        ("Ez egy sérülékenység az RA felületen.", "sérülékenység"),
        ("Sebezhetőség a naplózásban.", "Sebezhetőség"),
        ("Eine Schwachstelle im OCSP-Dienst.", "Schwachstelle"),
        ("Une vulnérabilité dans le portail.", "vulnérabilité"),
        ("Possible remote code execution via the upload endpoint.", "remote code execution"),
        ("SQL injection in the search field.", "SQL injection"),
        ("Privilege escalation through the sudoers entry.", "Privilege escalation"),
        ("An attacker can replay the token.", "attacker"),
    ],
)
def test_strong_signal(text: str, term: str, policy: Policy) -> None:
    reading = read(make(text), policy)
    assert reading.is_suspect
    assert term in reading.signals[0].text
    assert reading.signals[0].field == "description"


@pytest.mark.parametrize(
    "text",
    [
        "Renew the TLS certificate of the OCSP responder.",
        "Encryption key ceremony scheduled; client authentication certificates to follow.",
        "Security review meeting moved to Friday.",  # one weak concept is not enough
        "The password field is too narrow.",
        "Improve the log rotation of the CRL publisher.",
    ],
)
def test_everyday_ca_text_is_not_suspected(text: str, policy: Policy) -> None:
    reading = read(make(text), policy)
    assert reading.signals == ()
    assert not reading.is_suspect


def test_two_weak_concepts_make_a_signal(policy: Policy) -> None:
    ticket = make("Security: the export ignores permissions of the operator role.")
    reading = read(ticket, policy)
    assert reading.is_suspect
    assert len(reading.signals) == 2


def test_signal_in_a_comment_has_its_index(policy: Policy) -> None:
    reading = read(make("Routine upgrade.", "Never mind", "Fixes CVE-2023-0464."), policy)
    assert [(s.field, s.index) for s in reading.signals] == [("comment", 1)]


def test_quoted_signal_still_counts(policy: Policy) -> None:
    reading = read(make("> the reporter says this is an XSS\nChecking."), policy)
    assert reading.is_suspect


def test_signals_are_capped(policy: Policy) -> None:
    ids = " ".join(f"CVE-2024-{1000 + i}" for i in range(20))
    assert len(read(make(ids), policy).signals) == 5
