"""Each phrase family of the statement grammar (issue 14), with real sentences.

The first tests read real records in place from ../shared/data (CVE 5 descriptions written by
VulDB and Google, Android bulletins in NVD); the phrase-family tests use sentences as they
appear in advisories and tickets in each language.
"""

from __future__ import annotations

import gzip
import json

import pytest
from classify_support import make

from shared_data import data as dataset
from vulnmark.check.infer import read
from vulnmark.config.policy import Policy


def _cve5(cve: str, lang: str) -> str:
    year, number = cve.split("-")[1:]
    folder = f"{number[:-3]}xxx"
    path = dataset("cve5_vulnrichment", "records", year, folder, f"{cve}.json")
    record = json.loads(path.read_text(encoding="utf-8"))
    return next(x["value"] for x in record["containers"]["cna"]["descriptions"]
                if x["lang"].startswith(lang))


@pytest.mark.parametrize(
    ("cve", "lang", "expected", "phrase"),
    [
        ("CVE-2018-25093", "de", "CRITICAL", "Eine kritische Schwachstelle wurde"),
        ("CVE-2009-10003", "de", "MEDIUM", "eine problematische Schwachstelle"),
        ("CVE-2005-10003", "de", "CRITICAL", "Sie wurde als kritisch eingestuft."),
        ("CVE-2018-25092", "en", "CRITICAL", "It has been declared as critical."),
        ("CVE-2023-5257", "en", "MEDIUM", "It has been rated as problematic."),
        ("CVE-2022-3842", "en", "HIGH", "(Chromium security severity: High)"),
    ],
)
def test_real_cna_descriptions(
    cve: str, lang: str, expected: str, phrase: str, policy: Policy
) -> None:
    reading = read(make(_cve5(cve, lang)), policy)
    assert reading.suggested == expected
    assert phrase in reading.evidence[0].text


@pytest.mark.parametrize(("cve", "expected"), [("CVE-2016-3904", "HIGH"),
                                               ("CVE-2016-3906", "MEDIUM")])
def test_real_android_bulletin_wording(cve: str, expected: str, policy: Policy) -> None:
    path = dataset("nvd_api2_vulnz_cache", "nvdcve-2016.json.gz")
    with gzip.open(path, "rt") as fh:
        items = json.load(fh)["vulnerabilities"]
    text = next(x["value"] for item in items if item["cve"]["id"] == cve
                for x in item["cve"]["descriptions"] if x["lang"] == "en")
    reading = read(make(text), policy)
    assert reading.suggested == expected
    assert "This issue is rated as" in reading.evidence[0].text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # English: severity noun with a noun phrase between it and the verb
        ("The severity of this issue was determined to be High.", "HIGH"),
        ("Red Hat Product Security has rated this update as having a security impact of "
         "Important.", "HIGH"),
        # English: the rating verbs
        ("A vulnerability was found in Acme 1.0. It has been declared as critical.", "CRITICAL"),
        ("The flaw is deemed critical: no user interaction is needed.", "CRITICAL"),
        ("After triage the finding was assessed as medium.", "MEDIUM"),
        ("The CA security team scored it as critical.", "CRITICAL"),
        ("This is considered low since it requires an authenticated user.", "LOW"),
        # English: class first, adverb and quoted
        ("The heap overflow is critically rated.", "CRITICAL"),
        ('The memory corruption was "moderate" rated by the vendor.', "MEDIUM"),
        # English: header lines
        ("Impact: Critical", "CRITICAL"),
        ("**Impact:** High\nThe parser reads past the buffer.", "HIGH"),
        ("Impact\nhigh\nProducts\nFirefox", "HIGH"),
        ("Security impact: Moderate", "MEDIUM"),
        ("Severity — High", "HIGH"),
        # German
        ("Es wurde eine kritische Schwachstelle in der OCSP-Komponente gefunden.", "CRITICAL"),
        ("Sie wurde als sehr kritisch eingestuft.", "CRITICAL"),
        ("Die Lücke gilt als hoch.", "HIGH"),
        ("Es handelt sich um eine Sicherheitslücke mit hohem Schweregrad.", "HIGH"),
        ("Die Schwachstelle ist als mittelschwer eingestuft worden.", "MEDIUM"),
        # French
        ("La vulnérabilité est jugée critique par l'éditeur.", "CRITICAL"),
        ("Cette faille est qualifiée de critique.", "CRITICAL"),
        ("Elle est considérée comme « critique » par le CERT.", "CRITICAL"),
        ("La vulnérabilité est catégorisée comme élevée.", "HIGH"),
        ("Il s'agit d'une vulnérabilité de faible criticité.", "LOW"),
        ("Une faille de haute sévérité a été corrigée.", "HIGH"),
        ("Microsoft a attribué la gravité importante à cette mise à jour.", "HIGH"),
        ("Gravité : modérée", "MEDIUM"),
        ("Le risque est élevé pour les autorités de certification.", "HIGH"),
        # Hungarian
        ("Magas kockázatú sérülékenységet javítottak a gyártók.", "HIGH"),
        ("A sérülékenység súlyossága: súlyos", "HIGH"),
        ("Kritikus minősítésű hiba az OCSP szerverben.", "CRITICAL"),
        ("A sérülékenység kritikus súlyosságú.", "CRITICAL"),
    ],
)
def test_phrase_family(text: str, expected: str, policy: Policy) -> None:
    reading = read(make(text), policy)
    assert reading.suggested == expected
    assert reading.confidence >= 0.7


@pytest.mark.parametrize(
    "text",
    [
        # hypotheticals and conditionals are evidence of nothing
        "The severity could be upgraded to Critical if an exploit appears.",
        "If the key were exposed, this would be critical.",
        "This may be rated high once the PoC is public.",
        "Falls ein Exploit erscheint, könnte die Einstufung auf kritisch steigen.",
        "La criticité pourrait devenir critique si un exploit est publié.",
        "Ha kiderül, hogy távolról kihasználható, a besorolás kritikus lenne.",
        # a question is not a statement
        "Should this be rated critical?",
        "Wurde die Schwachstelle als kritisch eingestuft?",
        "La vulnérabilité est-elle jugée critique ?",
        # class words that are not a statement
        "The impact on performance is high.",
        "Impact: High memory usage during CRL generation",
        "Die Komplexität eines Angriffs ist eher hoch.",
        "Mittels Manipulieren kann eine sql injection-Schwachstelle ausgenutzt werden.",
        "Keine kritische Schwachstelle wurde gefunden.",
        "La vulnérabilité n'est pas jugée critique.",
        "Súlyos hiba történt a naplózásban.",
        "The cache is considered high priority work.",
    ],
)
def test_not_a_statement(text: str, policy: Policy) -> None:
    reading = read(make(text), policy)
    assert reading.suggested is None
    assert reading.evidence == ()


def test_several_issues_the_worst_wins(policy: Policy) -> None:
    text = ("The first issue, critically rated, lets a renderer write out of bounds. "
            "The second is rated moderate.")
    reading = read(make(text), policy)
    assert reading.suggested == "CRITICAL"
    # both statements are shown, and two classes in one text are left to a person
    assert [e.text for e in reading.evidence] == [
        "The first issue, critically rated, lets a renderer write out of bounds.",
        "The second is rated moderate. [scale: Mozilla/Microsoft/Red Hat, moderate = MEDIUM]",
    ]
    assert reading.confidence <= 0.7


def test_an_explicit_re_rating_wins_over_earlier_statements(policy: Policy) -> None:
    ticket = make("Severity: critical", "Downgraded to LOW after review: the HSM is offline.")
    reading = read(ticket, policy)
    assert reading.suggested == "LOW"
    assert reading.evidence[0].field == "comment"
    assert 0.7 <= reading.confidence < 0.9
    # a later statement that does not re-rate does not lower the class
    assert read(make("Severity: critical", "Severity: low"), policy).suggested == "CRITICAL"


def test_text_against_vector_is_shown(policy: Policy) -> None:
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    ticket = make("Severity: Medium, says the reporter.", f"Our vector: {vector}")
    reading = read(ticket, policy)
    assert reading.suggested == "CRITICAL"  # the computed score before the opinion
    assert [e.field for e in reading.evidence] == ["comment", "description"]
    assert reading.confidence <= 0.7
