"""The delivery interface: send the daily report to its recipients.

Errors::

    NotifyError            configuration or input problem, or any delivery failure
    └── DeliveryFailed     the server could not be reached or refused the message
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """A message the server accepted."""

    message_id: str
    """The Message-ID header, angle brackets included."""
    recipients: tuple[str, ...]
    server_reply: str
    """The server's reply to the message data, code and text ("250 2.0.0 OK queued as X")."""
    attempts: int
    """1 when the first try succeeded."""
    sent_at: datetime
    """When the server accepted the message (UTC)."""


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (the full report, its CSV)."""

    filename: str
    content: bytes
    mime: str
    """``maintype/subtype``."""


class Notifier(ABC):
    """Sends one message (plain text plus HTML alternative, optional attachments)."""

    @abstractmethod
    def send(self, subject: str, text: str, html: str, recipients: Sequence[str], *,
             attachments: Sequence[Attachment] = (), cc: Sequence[str] = ()) -> Delivery:
        """Deliver or raise :class:`NotifyError` (:class:`DeliveryFailed` for delivery)."""
