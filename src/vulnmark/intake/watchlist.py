"""Does a publication concern us? The watchlist of ``[intake]`` against one advisory.

Each entry matches on any of: a vendor (the record's vendor names: CVE 5 ``affected``, KEV
``vendorProject``, the vendor part of each CPE name), a product (``product`` or
``vendor/product``), a CPE name prefix, a package (a package URL without version, or
``Ecosystem/name``) or a keyword (a whole word or phrase of the title or description).
Names compare case-insensitively with ``_`` as a space (CPE writes ``http_server``).
:func:`explain` says, entry by entry, why a record matches or not (``vulnmark intake test``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from vulnmark.config.intake import WatchEntry
from vulnmark.intake.feeds import Advisory


@dataclass(frozen=True)
class Match:
    entry: WatchEntry
    reasons: tuple[str, ...]
    """What matched, e.g. ``vendor 'openssl' (cpe:2.3:a:openssl:openssl:…)``."""


def _norm(name: str) -> str:
    return " ".join(name.replace("\\", "").replace("_", " ").casefold().split())


def _cpe_parts(cpe: str) -> tuple[str, str] | None:
    """(vendor, product) of a CPE 2.3 name (``cpe:2.3:a:VENDOR:PRODUCT:…``)."""
    parts = re.split(r"(?<!\\):", cpe)
    if len(parts) >= 5 and parts[0] == "cpe" and parts[1] == "2.3":
        return parts[3], parts[4]
    return None


@lru_cache(maxsize=4096)
def _word(keyword: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(keyword) + r"(?!\w)", re.IGNORECASE)


def _package_key(ecosystem: str, name: str) -> str:
    eco = ecosystem.casefold()
    if eco == "pypi":  # PEP 503: -, _ and . are the same
        name = re.sub(r"[-_.]+", "-", name)
    return f"{eco}/{name.casefold()}"


def _purl_base(purl: str) -> str:
    base = purl.split("?")[0].split("#")[0].split("@")[0]
    return base.casefold().rstrip("/")


def _vendors(a: Advisory) -> Iterator[tuple[str, str]]:
    """(normalised vendor, where it was found)."""
    for v in a.vendors:
        yield _norm(v), v
    for cpe in a.cpes:
        parts = _cpe_parts(cpe)
        if parts is not None:
            yield _norm(parts[0]), cpe


def _products(a: Advisory) -> Iterator[tuple[str, str, str]]:
    """(normalised vendor, normalised product, where)."""
    for v, p in a.products:
        yield _norm(v), _norm(p), f"{v} {p}".strip()
    for cpe in a.cpes:
        parts = _cpe_parts(cpe)
        if parts is not None:
            yield _norm(parts[0]), _norm(parts[1]), cpe


def match_entry(a: Advisory, entry: WatchEntry) -> tuple[str, ...]:
    """Why ``entry`` matches ``a`` (empty: it does not)."""
    reasons: list[str] = []
    wanted = {_norm(v): v for v in entry.vendors}
    for found, where in _vendors(a):
        if found in wanted:
            reasons.append(f"vendor {wanted.pop(found)!r} ({where})")
    products = list(_products(a))
    for want in entry.products:
        vendor, _, product = want.rpartition("/")
        hit = next((where for v, p, where in products
                    if p == _norm(product) and (not vendor or v == _norm(vendor))), None)
        if hit is not None:
            reasons.append(f"product {want!r} ({hit})")
    for prefix in entry.cpe_prefixes:
        hit = next((c for c in a.cpes if c.casefold().startswith(prefix.casefold())), None)
        if hit is not None:
            reasons.append(f"CPE prefix {prefix!r} ({hit})")
    purls = {_purl_base(p.purl): p for p in a.packages if p.purl}
    names = {_package_key(p.ecosystem, p.name): p for p in a.packages}
    for want in entry.packages:
        if want.startswith("pkg:"):
            if _purl_base(want) in purls:
                reasons.append(f"package {want!r}")
            continue
        eco, _, name = want.partition("/")
        if _package_key(eco, name) in names:
            reasons.append(f"package {want!r}")
    text = f"{a.title}\n{a.description}"
    for keyword in entry.keywords:
        m = _word(keyword).search(text)
        if m is not None:
            start = max(0, m.start() - 30)
            reasons.append(f"keyword {keyword!r} (…{' '.join(text[start:m.end() + 30].split())}…)")
    return tuple(reasons)


def matches(a: Advisory, watch: Sequence[WatchEntry]) -> list[Match]:
    """The entries that match ``a``, in watchlist order."""
    out = []
    for entry in watch:
        reasons = match_entry(a, entry)
        if reasons:
            out.append(Match(entry, reasons))
    return out


def explain(a: Advisory, watch: Sequence[WatchEntry]) -> list[str]:
    """One line per entry: what matched, or what the record offered that did not."""
    lines = []
    for entry in watch:
        reasons = match_entry(a, entry)
        if reasons:
            lines.append(f"{entry.name}: matches: {'; '.join(reasons)}")
            continue
        seen = sorted({v for v, _ in _vendors(a)})[:8]
        lines.append(f"{entry.name}: no match (the record names vendors "
                     f"{', '.join(seen) or 'none'}; {len(a.cpes)} CPE names; "
                     f"{len(a.packages)} packages; no watched keyword in its text)")
    return lines
