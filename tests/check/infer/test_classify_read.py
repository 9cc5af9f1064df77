"""Reading order, evidence, custom patterns and the Jira priority."""

from __future__ import annotations

from classify_support import make, with_inference

from vulnmark.check.infer import read
from vulnmark.config.policy import Policy
from vulnmark.model import Evidence


def test_later_comment_reclassifies(policy: Policy) -> None:
    ticket = make(
        "Found during the pentest. Severity: HIGH.",
        "Looking into it.",
        "Reclassified to MEDIUM after investigation: only reachable from the admin VLAN.",
    )
    reading = read(ticket, policy)
    assert reading.suggested == "MEDIUM"
    assert reading.evidence[0] == Evidence(
        "comment",
        "Reclassified to MEDIUM after investigation: only reachable from the admin VLAN.",
        1,
    )
    # a reclassification is believed, but less than an uncontested statement
    assert 0.7 <= reading.confidence < read(make("Severity: HIGH."), policy).confidence


def test_order_is_title_description_comments(policy: Policy) -> None:
    ticket = make("Besorolás: magas", "Besorolás: kritikus", title="[LOW] TLS config drift")
    assert read(ticket, policy).suggested == "CRITICAL"
    # the order decides only for an explicit re-rating; otherwise the worst class stands
    ticket = make("Severity was lowered to low.", title="Severity: critical")
    assert read(ticket, policy).suggested == "LOW"
    ticket = make("Severity: critical", title="Severity was lowered to low.")
    assert read(ticket, policy).suggested == "CRITICAL"


def test_title_evidence(policy: Policy) -> None:
    reading = read(make("", title="OCSP signer key exposure (Critical)"), policy)
    assert reading.suggested == "CRITICAL"
    assert reading.evidence == (Evidence("title", "OCSP signer key exposure (Critical)"),)


def test_evidence_is_the_exact_sentence(policy: Policy) -> None:
    description = (
        "The HSM audit log can be truncated by an operator.\n"
        "After review the CA security team rated it HIGH. Fix before the next ceremony."
    )
    reading = read(make(description), policy)
    (evidence,) = reading.evidence
    assert evidence.field == "description" and evidence.index is None
    assert evidence.text == "After review the CA security team rated it HIGH."
    assert evidence.text in description


def test_text_whose_lower_case_changes_length(policy: Policy) -> None:
    # "İ".lower() is two characters; offsets of the evidence must still be exact
    description = "İSTANBUL office: İİİ. Severity: High. CVE-2024-3094 in xz."
    reading = read(make(description), policy)
    assert reading.suggested == "HIGH"
    assert reading.evidence[0].text == "Severity: High."
    assert reading.signals[0].text == "CVE-2024-3094 in xz."


def test_evidence_snippet_is_short(policy: Policy) -> None:
    long_sentence = "word " * 200 + "severity: critical " + "word " * 200
    reading = read(make(long_sentence), policy)
    assert reading.suggested == "CRITICAL"
    assert len(reading.evidence[0].text) <= 200
    assert "severity: critical" in reading.evidence[0].text


def test_evidence_collects_agreeing_statements(policy: Policy) -> None:
    ticket = make("Severity: High", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H")
    reading = read(ticket, policy)
    assert reading.suggested == "HIGH"
    assert [e.field for e in reading.evidence] == ["comment", "description"]
    assert reading.confidence > 0.95


def test_worded_class_outranks_the_score_it_cites(policy: Policy) -> None:
    reading = read(make("Severity: High (CVSS 6.5)"), policy)
    assert reading.suggested == "HIGH"
    assert reading.confidence < 0.8  # the text states two classes
    # a vector stated apart from the words is a statement of its own: it takes precedence
    # (it is computed) and the conflict is shown
    vector = "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:L/I:N/A:N"
    text = "Severity: High.\n\n" + "Details follow. " * 8 + "\n" + vector
    reading = read(make(text), policy)
    assert reading.suggested == "LOW"
    assert [e.text for e in reading.evidence] == [vector, "Severity: High."]
    assert reading.confidence <= 0.7


def test_conflict_in_the_same_text_lowers_confidence(policy: Policy) -> None:
    reading = read(make("Severity: High. Severity: Low."), policy)
    assert reading.suggested == "HIGH"
    assert reading.confidence < 0.8
    assert [e.text for e in reading.evidence] == ["Severity: High.", "Severity: Low."]


def test_custom_pattern() -> None:
    policy = with_inference(
        {"patterns": [{"regex": r"\bP1 security\b", "class": "CRITICAL"},
                      {"regex": r"sev-?2", "class": "high"}]}
    )
    reading = read(make("Raised as P1 security incident by the MSO."), policy)
    assert reading.suggested == "CRITICAL"
    assert reading.evidence[0].text == "Raised as P1 security incident by the MSO."
    assert read(make("", "Now SEV2."), policy).suggested == "HIGH"
    # the default policy knows nothing of these phrasings
    assert read(make("Raised as P1 security incident."), Policy()).suggested is None


def test_custom_patterns_are_compiled_once_per_policy() -> None:
    from vulnmark.check.infer._options import options_for

    policy = with_inference({"patterns": [{"regex": "blocker-sec", "class": "CRITICAL"}]})
    assert options_for(policy) is options_for(policy)


def test_priority_is_not_a_severity_by_default(policy: Policy) -> None:
    reading = read(make("The responder crashed.", priority="High"), policy)
    assert reading.suggested is None


def test_priority_is_severity_when_configured() -> None:
    policy = with_inference({"priority_is_severity": True})
    reading = read(make("The responder crashed.", priority="High"), policy)
    assert reading.suggested == "HIGH"
    assert reading.evidence == (Evidence("label", "priority: High"),)
    assert reading.confidence < 0.9
    # the text still wins over the priority field
    assert read(make("Severity: low", priority="High"), policy).suggested == "LOW"
    # a priority that is not a class name says nothing
    assert read(make("x", priority="Blocker"), policy).suggested is None
    assert read(make("x", priority="Magas"), policy).suggested == "HIGH"
    # a priority read on a vendor scale names it, as text statements do
    assert read(make("x", priority="Important"), policy).evidence == (
        Evidence("label", "priority: Important [scale: Microsoft/Red Hat, important = HIGH]"),)


def test_reading_of_an_empty_ticket(policy: Policy) -> None:
    reading = read(make(""), policy)
    assert reading.suggested is None and reading.evidence == () and reading.signals == ()
    assert not reading.is_suspect


def test_huge_and_hostile_text(policy: Policy) -> None:
    filler = "The CRL publisher retried. " * 40000  # ~1 MB
    assert read(make(filler + "Severity: high."), policy).suggested == "HIGH"
    assert read(make("CVSS " * 100000), policy).suggested is None
    assert read(make("{quote}" + "Severity: critical " * 1000), policy).suggested is None
