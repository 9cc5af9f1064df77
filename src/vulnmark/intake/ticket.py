"""The text of an intake ticket: its title, body (description, original classification,
ratings, references; as plain text, or as blocks for a Jira description) and the clip that
keeps every text within the store's limits."""

from __future__ import annotations

from datetime import datetime

from vulnmark.intake.classify import Original
from vulnmark.intake.feeds import Advisory
from vulnmark.sources.jira.richtext import Block

MAX_TEXT = 20_000


def title(primary: str, a: Advisory) -> str:
    text = a.title or a.description.split(". ")[0]
    return clip(f"{primary}: {' '.join(text.split())}", 250)


def url(a: Advisory) -> str | None:
    if a.cve:
        return f"https://nvd.nist.gov/vuln/detail/{a.cve}"
    return a.references[0] if a.references else None


def _head(a: Advisory, o: Original, due: datetime | None, owner: str | None,
          now: datetime) -> list[str]:
    lines = [f"Published vulnerability {a.cve or a.id} (feed {a.feed}), opened by vulnmark "
             f"threat intake at {now:%Y-%m-%d %H:%M} UTC.",
             f"Original classification: {o.cls or 'none (unrated)'} - {o.basis}",
             f"Published: {a.published:%Y-%m-%d %H:%M} UTC" if a.published else "Published: -",
             f"Assessment due: {due:%Y-%m-%d %H:%M} UTC" if due else "Assessment due: -"]
    if len(a.ids) > 1:
        lines.append(f"Also known as: {', '.join(a.ids[1:])}")
    if a.kev is not None:
        lines.append(f"CISA KEV: added {a.kev.date_added}, due {a.kev.due_date or '-'}"
                     f"{'; ' + a.kev.required_action if a.kev.required_action else ''}")
    if owner:
        lines.append(f"Owner: {owner}")
    return lines


def _ratings(a: Advisory) -> list[str]:
    return [f"{r.source} ({r.scorer or '-'}) {r.version}: "
            f"{r.severity or '-'} {r.score if r.score is not None else ''} {r.vector or ''}"
            .rstrip() for r in a.ratings] or ["none"]


def body(a: Advisory, o: Original, due: datetime | None, owner: str | None,
          now: datetime) -> str:
    lines = _head(a, o, due, owner, now)
    lines += ["", a.description.strip() or "(no description)", "", "Ratings:"]
    lines += [f"- {r}" for r in _ratings(a)]
    lines += ["", "References:", *(f"- {u}" for u in a.references[:50])]
    return clip("\n".join(lines), MAX_TEXT)


def blocks(a: Advisory, o: Original, due: datetime | None, owner: str | None,
           now: datetime) -> list[Block]:
    """The same body as :func:`body`, structured for a Jira description (ADF / wiki)."""
    text = clip(a.description.strip(), MAX_TEXT // 2) or "(no description)"
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    out: list[Block] = [("p", tuple(_head(a, o, due, owner, now)))]
    out += [("p", tuple(p.splitlines())) for p in paragraphs]
    out += [("h", ("Ratings",)), ("ul", tuple(_ratings(a))), ("h", ("References",))]
    refs = tuple(a.references[:50])
    out.append(("links", refs) if refs else ("p", ("none",)))
    return out


def clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
