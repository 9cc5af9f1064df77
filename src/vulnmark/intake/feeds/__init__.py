"""Feeds of published vulnerabilities, one module each behind :class:`Feed`: NVD CVE API 2.0
documents (:mod:`.nvd`), CVE JSON 5.x records (:mod:`.cve5`), the CISA KEV catalog
(:mod:`.kev`) and OSV advisories (:mod:`.osv`)."""

from vulnmark.intake.feeds.cve5 import Cve5Feed
from vulnmark.intake.feeds.interface import Advisory, Feed, KevEntry, Package, Rating
from vulnmark.intake.feeds.kev import KevFeed
from vulnmark.intake.feeds.nvd import NvdFeed
from vulnmark.intake.feeds.osv import OsvFeed

#: Every file feed, by the name ``vulnmark intake run --feed`` takes.
FEEDS: dict[str, type[Feed]] = {f.name: f for f in (NvdFeed, Cve5Feed, KevFeed, OsvFeed)}

__all__ = ["FEEDS", "Advisory", "Cve5Feed", "Feed", "KevEntry", "KevFeed", "NvdFeed",
           "OsvFeed", "Package", "Rating"]
