"""Explicit classification statements in four languages, and the traps around them."""

from __future__ import annotations

import pytest
from classify_support import make

from vulnmark.check.infer import read
from vulnmark.config.policy import Policy


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # English
        ("The security team rated this HIGH after triage.", "HIGH"),
        ("Severity: critical", "CRITICAL"),
        ("*Severity:* Medium", "MEDIUM"),
        ("||Severity|Low|", "LOW"),
        ("This is a low severity flaw.", "LOW"),
        ("This is a high-severity issue in the OCSP responder.", "HIGH"),
        ("The finding is classified as critical.", "CRITICAL"),
        ("Criticality: high", "HIGH"),
        ("This is a moderate severity flaw in OpenSSL.", "MEDIUM"),
        ("Severity: informational", "INFORMATIVE"),
        ("Severity: none", "INFORMATIVE"),
        ("Severity: Info", "INFORMATIVE"),
        ("Microsoft rated it Important.", "HIGH"),
        ("Path traversal through path stored in Uint8Array (High)", "HIGH"),
        # Hungarian
        ("Besorolás: magas", "HIGH"),
        ("A sérülékenység besorolása: kritikus", "CRITICAL"),
        ("A hiba kritikus besorolást kapott.", "CRITICAL"),
        ("A sérülékenységet magasra soroltuk.", "HIGH"),
        ("Kritikusnak minősítettük a problémát.", "CRITICAL"),
        ("A besorolást közepesre módosítottuk.", "MEDIUM"),
        ("Súlyosság: alacsony", "LOW"),
        ("KÖZEPES besorolású sérülékenység", "MEDIUM"),
        ("Informatív besorolást kapott.", "INFORMATIVE"),
        # German
        ("Die Schwachstelle wurde als kritisch eingestuft.", "CRITICAL"),
        ("Schweregrad: hoch", "HIGH"),
        ("Einstufung: mittel", "MEDIUM"),
        ("Das Risiko wurde als niedrig bewertet.", "LOW"),
        ("Kritikalität: hoch", "HIGH"),
        # French
        ("Criticité : élevée", "HIGH"),
        ("Criticité\u00a0: critique", "CRITICAL"),
        ("La vulnérabilité est classée critique.", "CRITICAL"),
        ("Sévérité : moyenne", "MEDIUM"),
        ("Gravité : faible", "LOW"),
    ],
)
def test_statement_is_recognised(text: str, expected: str, policy: Policy) -> None:
    reading = read(make(text), policy)
    assert reading.suggested == expected
    assert reading.confidence >= 0.7
    assert reading.evidence and reading.evidence[0].field == "description"


@pytest.mark.parametrize(
    "text",
    [
        # negation
        "This is not critical.",
        "The severity is not critical.",
        "It was not rated high by anyone.",
        "A hiba nem kritikus besorolású.",
        "Nem minősül kritikusnak.",
        "Die Lücke ist nicht kritisch eingestuft.",
        "Schweregrad: nicht kritisch",
        "Ce n'est pas critique : criticité pas critique.",
        # false friends
        "Attack complexity: high",
        "CVSS metrics: AC:H, PR:L",
        "We need high availability for the signing service.",
        "The HSM is under high load during the ceremony.",
        "A critical fix for the build pipeline.",
        "Severity of the high load on the CRL distribution point.",
        "OpenSSL has moved DES-based ciphers from the HIGH to MEDIUM group.",
        "A magas rendelkezésre állás fontos.",
        "Hohe Verfügbarkeit ist wichtig.",
        "Haute disponibilité requise.",
        # templates offering several classes
        "Severity: [CRITICAL|HIGH|MEDIUM|LOW]",
        "Severity: <choose>",
        "Severity: Critical / High / Medium / Low",
        "Besorolás: kritikus vagy magas vagy közepes",
        # a range is not one class
        "This is considered low to medium severity.",
        "Severity: high to critical, depending on the deployment.",
        # quoted text
        "> Severity: critical\nThanks, looking into it.",
        "{quote}Severity: critical{quote}\nThanks.",
        "bq. Severity: critical",
        # nothing at all
        "The OCSP responder returns tryLater under load.",
        "",
    ],
)
def test_trap_abstains(text: str, policy: Policy) -> None:
    reading = read(make(text), policy)
    assert reading.suggested is None
    assert reading.evidence == ()
    assert reading.confidence == 0.0


def test_quote_does_not_hide_the_authors_own_statement(policy: Policy) -> None:
    text = "> Severity: critical\nWe disagree: severity is low."
    reading = read(make(text), policy)
    assert reading.suggested == "LOW"
    assert reading.evidence[0].text == "We disagree: severity is low."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The issue was downgraded from HIGH to MEDIUM.", "MEDIUM"),
        ("Severity was changed from High to Low.", "LOW"),
        ("A besorolást magasról közepesre módosítottuk.", "MEDIUM"),
        ("Schweregrad von hoch auf mittel gesenkt.", "MEDIUM"),
        ("Criticité : de élevée à moyenne.", "MEDIUM"),
    ],
)
def test_the_to_side_of_a_change_wins(text: str, expected: str, policy: Policy) -> None:
    assert read(make(text), policy).suggested == expected


def test_negation_applies_only_to_its_own_sentence(policy: Policy) -> None:
    text = "The reporter could not reproduce it on staging. Severity: high."
    assert read(make(text), policy).suggested == "HIGH"


def test_priority_word_in_text_is_not_a_severity(policy: Policy) -> None:
    assert read(make("Priority: High"), policy).suggested is None
