"""Helpers for the text-inference tests: tickets built directly, policies with options."""

from __future__ import annotations

from datetime import UTC, datetime

from vulnmark.config.policy import InferenceTable, Policy
from vulnmark.config.presets import preset
from vulnmark.model import Comment, Ticket, TicketKey


def make(
    description: str = "",
    *comments: str,
    title: str = "Ticket",
    priority: str | None = None,
) -> Ticket:
    return Ticket(
        key=TicketKey("TSP-1"),
        title=title,
        created=datetime(2025, 3, 1, tzinfo=UTC),
        description=description,
        comments=tuple(Comment(body) for body in comments),
        priority=priority,
    )


def with_inference(section: dict[str, object]) -> Policy:
    """The default preset with an ``[inference]`` table."""
    base = preset("etsi-319-401")
    return Policy(preset=base.preset, classes=base.classes,
                  inference=InferenceTable.of(section))
