"""The watchlist: vendors, products, CPE prefixes, packages and whole-word keywords."""

from __future__ import annotations

from vulnmark.config.intake import WatchEntry
from vulnmark.intake.feeds import Advisory, Package
from vulnmark.intake.feeds.interface import AdvisoryId
from vulnmark.intake.watchlist import explain, matches

A = Advisory(
    id=AdvisoryId("CVE-2026-2"), feed="nvd", title="",
    description="A flaw in the PKCS#11 module of OpenSSL lets a remote attacker…",
    cpes=("cpe:2.3:a:apache:http_server:2.4.1:*:*:*:*:*:*:*",),
    products=(("Thales", "Luna Network HSM"),), vendors=("Thales",),
    packages=(Package("PyPI", "Django_Auth", "pkg:pypi/django-auth@1.0"),))


def _hits(**kw: tuple[str, ...]) -> bool:
    return bool(matches(A, [WatchEntry(name="w", **kw)]))  # type: ignore[arg-type]


def test_each_kind_of_entry() -> None:
    assert _hits(vendors=("apache",)) and _hits(vendors=("THALES",))
    assert _hits(products=("http server",)) and _hits(products=("apache/http_server",))
    assert _hits(products=("thales/luna network hsm",))
    assert not _hits(products=("nginx/http_server",))
    assert _hits(cpe_prefixes=("cpe:2.3:a:apache:http_server",))
    assert not _hits(cpe_prefixes=("cpe:2.3:a:apache:tomcat",))
    assert _hits(packages=("pkg:pypi/django-auth",)) and _hits(packages=("pypi/django.auth",))
    assert not _hits(packages=("npm/django-auth",))


def test_keywords_are_whole_words_case_insensitive() -> None:
    assert _hits(keywords=("pkcs#11",)) and _hits(keywords=("openssl",))
    assert _hits(keywords=("remote attacker",))
    assert not _hits(keywords=("SSL",)) and not _hits(keywords=("PKCS#1",))


def test_explain_says_why_and_why_not() -> None:
    lines = explain(A, [WatchEntry(name="pki", keywords=("OpenSSL",)),
                        WatchEntry(name="web", vendors=("nginx",))])
    assert lines[0].startswith("pki: matches: keyword 'OpenSSL'")
    assert lines[1].startswith("web: no match") and "apache" in lines[1]
