"""Sample tickets that tell the story of the audit finding vulnmark was built for."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

from vulnmark.model import Comment, LabelChange, Ticket, TicketKey


def sample_tickets(now: datetime) -> list[Ticket]:
    """Eight tickets, each showing one thing the daily control catches (or accepts)."""

    def ago(hours: float) -> datetime:
        return now - timedelta(hours=hours)

    nfd_label = unicodedata.normalize("NFD", "Sérülékenység")
    return [
        Ticket(
            key=TicketKey("CA-101"),
            title="OCSP responder accepts requests signed with SHA-1",
            description="The OCSP responder still accepts SHA-1 signed requests from clients.",
            labels=("Vulnerability",),
            created=ago(30), reporter="Anna Kovács",
            comments=(
                Comment("Reproduced on the staging responder.", "Péter Nagy", ago(28)),
                Comment("Discussed with the security team: this is rated HIGH.", "Anna Kovács",
                        ago(26)),
            ),
            label_history=(LabelChange(ago(30), "Anna Kovács", ("Vulnerability",)),),
        ),
        Ticket(
            key=TicketKey("CA-102"),
            title="Outdated OpenSSL on the RA web front end",
            description="OpenSSL on ra-web-01 is two minor releases behind; "
                        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            labels=("Vulnerability", "CRITICAL"),
            created=ago(40), reporter="Márta Szabó",
            label_history=(LabelChange(ago(40), "Márta Szabó", ("Vulnerability", "CRITICAL")),),
        ),
        Ticket(
            key=TicketKey("CA-103"),
            title="HSM adminisztrációs felület: gyenge jelszóházirend",
            description="A HSM adminisztrációs felületén nincs fiókzárolás.",
            labels=("Sérülékenység",),
            created=ago(20), reporter="Gábor Tóth",
            comments=(Comment("Átnéztük: a besorolás: magas.", "Gábor Tóth", ago(18)),),
        ),
        Ticket(
            key=TicketKey("CA-104"),
            title="Update log4j in the timestamping service",
            description="The TSA bundles log4j-core 2.14.1, affected by CVE-2021-44228.",
            created=ago(10), reporter="Péter Nagy",
        ),
        Ticket(
            key=TicketKey("CA-105"),
            title="CRL distribution point serves stale CRLs after failover",
            description="After a failover the secondary CDN node served a CRL 26 hours old.",
            labels=("Vulnerability", "HIGH", "MEDIUM"),
            created=ago(50), reporter="Márta Szabó",
        ),
        Ticket(
            key=TicketKey("CA-106"),
            title="Certificate transparency log submission retries without backoff",
            description="Low impact: retries can hammer the log during an outage.",
            labels=(nfd_label, "LOW"),
            created=ago(72), reporter="Anna Kovács",
        ),
        Ticket(
            key=TicketKey("CA-107"),
            title="Rotate the <script>alert('demo')</script> banner on the portal",
            description="Cosmetic change to the customer portal banner.",
            labels=("LOW",),
            created=ago(5), reporter="Péter <b>Nagy</b>",
        ),
        Ticket(
            key=TicketKey("CA-108"),
            title="Timestamping unit accepts unauthenticated requests on the admin port",
            description="Scored CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H during the review.",
            labels=("Vulnerability", "LOW"),
            created=ago(60), reporter="Gábor Tóth",
        ),
    ]
