"""Delivery of the daily report behind one interface (SMTP first)."""

from vulnmark.deliver.interface import Attachment, Delivery, Notifier
from vulnmark.deliver.smtp import SmtpNotifier, smtp_settings_from_env
from vulnmark.errors import DeliveryFailed, NotifyError

__all__ = [
    "Attachment",
    "Delivery",
    "DeliveryFailed",
    "Notifier",
    "NotifyError",
    "SmtpNotifier",
    "smtp_settings_from_env",
]
