"""The original classification: the class the publication itself gives, by a documented
precedence, mapped to the policy's classes.

1. The rating: the first source of ``intake.precedence`` (default NVD Primary, then the CNA,
   then an ADP, then the OSV advisory's own) that rated the record; within it the newest CVSS
   version present (4.0 > 3.1 > 3.0 > 2.0), then a worded severity (``important``).
2. Its qualitative severity: the one the record states; else from the score on the scale of
   its version; else from the vector (``../shared/reference/standards.md`` §4). A CVSS v2-only
   rating follows ``intake.v2_rule``: NCSSR v1.6 (v2 >= 7.0 is a Critical Vulnerability) or
   the NVD's v2 scale. NONE is INFORMATIVE.
3. CISA KEV membership escalates to at least ``intake.kev_min_class``.

A record with no rating is *unrated*: never a silent default (``intake.unrated``).
"""

from __future__ import annotations

from dataclasses import dataclass

from vulnmark.check.infer import severity_from_score, vector_class
from vulnmark.config.intake import IntakeSettings
from vulnmark.config.policy import Policy
from vulnmark.intake.feeds import Advisory, Rating

_VERSION_ORDER = ("4.0", "3.1", "3.0", "2.0", "text")
_NAMES = {"NONE": "INFORMATIVE", "INFORMATIONAL": "INFORMATIVE"}


@dataclass(frozen=True)
class Original:
    """A publication's original class and what it rests on."""

    cls: str | None
    """A class of the policy; None when unrated (and ``intake.unrated`` assumes none)."""
    rating: Rating | None
    """The rating chosen (None: unrated)."""
    severity: str | None
    """The rating's qualitative severity before mapping (``HIGH``)."""
    basis: str
    """How the class was reached, for the ticket and the evidence log."""
    escalated: bool = False
    """Raised to ``kev_min_class`` by KEV membership."""


def choose(ratings: tuple[Rating, ...], precedence: tuple[str, ...]) -> Rating | None:
    """The rating that counts: first source by precedence, newest version within it."""
    for source in precedence:
        mine = [r for r in ratings if r.source == source and r.version in _VERSION_ORDER]
        usable = [r for r in mine if _severity(r, "nvd") is not None]
        if usable:
            return min(usable, key=lambda r: _VERSION_ORDER.index(r.version))
    return None


def _severity(r: Rating, v2_rule: str) -> str | None:
    """The qualitative severity of a rating (upper case; NONE for 0.0)."""
    if r.version == "2.0":
        score = r.score
        if score is None and r.vector:
            found = vector_class(r.vector)
            score = None if found is None else {"LOW": 0.0, "MEDIUM": 4.0, "HIGH": 7.0}.get(
                found[0])
        if score is None:
            return r.severity if r.severity in ("LOW", "MEDIUM", "HIGH") else None
        if v2_rule == "ncssr-v1" and score >= 7.0:
            return "CRITICAL"
        return severity_from_score(score, 2)
    if r.severity in ("NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL"):
        return r.severity
    if r.score is not None and r.version != "text":
        word = severity_from_score(r.score, 4 if r.version == "4.0" else 3)
        return "NONE" if word == "INFORMATIVE" else word
    if r.vector:
        found = vector_class(r.vector)
        if found is not None:
            return "NONE" if found[0] == "INFORMATIVE" else found[0]
    return None


def original(advisory: Advisory, policy: Policy, settings: IntakeSettings, *,
             kev: bool = False) -> Original:
    """The class of ``advisory`` (``kev``: the CVE is in the KEV catalog, from any feed)."""
    rating = choose(advisory.ratings, settings.precedence)
    in_kev = kev or advisory.kev is not None
    if rating is None:
        assumed = settings.unrated if settings.unrated in policy.class_names else None
        cls, severity = assumed, None
        basis = ("no rating in the publication" +
                 (f"; class {assumed} assumed (intake.unrated)" if assumed else ""))
    else:
        severity = _severity(rating, settings.v2_rule)
        assert severity is not None
        cls = _policy_class(_NAMES.get(severity, severity), policy)
        what = f"CVSS {rating.version}" if rating.version != "text" else "worded severity"
        basis = (f"{rating.source} ({rating.scorer or 'unnamed scorer'}) {what}"
                 f"{' ' + str(rating.score) if rating.score is not None else ''}"
                 f"{' ' + rating.vector if rating.vector else ''} -> {severity}")
        if rating.version == "2.0":
            basis += f" (v2 rule {settings.v2_rule})"
        if cls is None:
            basis += f"; the policy has no class {severity}"
    escalated = False
    floor = settings.kev_min_class
    if in_kev and floor is not None and floor in policy.class_names and \
            (cls is None or policy.rank(cls) > policy.rank(floor)):
        basis += f"; in CISA KEV: raised to {floor} (intake.kev_min_class)"
        cls, escalated = floor, True
    return Original(cls, rating, severity, basis, escalated)


def _policy_class(name: str, policy: Policy) -> str | None:
    if name in policy.class_names:
        return name
    match = policy.match_label(name)
    return match.canonical if match is not None and match.role == "class" else None
