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


class NotifyError(Exception):
    """Base error of every notifier; the message never contains a secret."""


class DeliveryFailed(NotifyError):
    """The message was not delivered after ``attempts`` tries.

    ``last_reply`` is the last server reply ("451 4.3.0 try later") or the connection error,
    with any secret removed; ``permanent`` is True when the server refused for good (5xx) and
    retrying later will not help without a change.
    """

    def __init__(self, message: str, *, attempts: int, last_reply: str, permanent: bool = False):
        super().__init__(message)
        self.attempts = attempts
        self.last_reply = last_reply
        self.permanent = permanent


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


class Notifier(ABC):
    """Sends one report (plain text plus HTML alternative) to the recipients."""

    @abstractmethod
    def send(self, subject: str, text: str, html: str, recipients: Sequence[str]) -> Delivery:
        """Deliver or raise :class:`NotifyError` (:class:`DeliveryFailed` for delivery)."""
