"""The CISA Known Exploited Vulnerabilities catalog (JSON, schema of cisagov/kev-data).

Each entry becomes an advisory with its :class:`KevEntry` (date added, due date, required
action) and the vendor and product KEV names. KEV states no severity: a KEV record alone is
unrated, and KEV membership escalates the class of the same CVE from another feed
(:mod:`vulnmark.intake.classify`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vulnmark.intake.feeds.interface import Advisory, AdvisoryId, Feed, Fields, KevEntry

REQUIRED = ("cveID", "vendorProject", "product", "vulnerabilityName", "dateAdded",
            "shortDescription", "requiredAction", "dueDate")


class KevFeed(Feed):
    name = "kev"
    suffixes = (".json",)

    def parse(self, document: Any, *, file: str) -> Iterator[Advisory]:
        f = Fields(None, file)
        doc = f.obj(document, "(document)")
        if "vulnerabilities" not in doc or "catalogVersion" not in doc:
            raise f.error("vulnerabilities", "missing (is this the CISA KEV catalog JSON?)")
        out = []
        for i, item in enumerate(f.items(doc["vulnerabilities"], "vulnerabilities")):
            e = Fields(f"#{i}", file).obj(item, f"vulnerabilities[{i}]")
            cve = e.get("cveID")
            g = Fields(cve if isinstance(cve, str) else f"#{i}", file)
            for key in REQUIRED:
                if key not in e:
                    raise g.error(key, "missing (required by the KEV schema)")
            if not isinstance(cve, str) or not cve.startswith("CVE-"):
                raise g.error("cveID", f"expected a CVE id, got {cve!r}")
            vendor = g.text(e["vendorProject"], "vendorProject")
            product = g.text(e["product"], "product")
            added = g.day(e["dateAdded"], "dateAdded", optional=False)
            assert added is not None
            entry = KevEntry(added, g.day(e["dueDate"], "dueDate"),
                             g.text(e["requiredAction"], "requiredAction"),
                             g.text(e.get("knownRansomwareCampaignUse"),
                                    "knownRansomwareCampaignUse", optional=True) or None)
            notes = g.text(e.get("notes"), "notes", optional=True)
            out.append(Advisory(
                id=AdvisoryId(cve), feed="kev",
                title=g.text(e["vulnerabilityName"], "vulnerabilityName"),
                description=g.text(e["shortDescription"], "shortDescription"),
                references=tuple(u for u in notes.replace(";", " ").split()
                                 if u.startswith("https://")),
                vendors=(vendor,), products=((vendor, product),), kev=entry,
                source_file=file))
        return iter(out)
