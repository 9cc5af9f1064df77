"""Delivery of the daily report behind one interface (SMTP first)."""

from vulnmark.errors import DeliveryFailed, NotifyError
from vulnmark.notify.interface import Delivery, Notifier
from vulnmark.notify.smtp import SmtpNotifier, smtp_settings_from_env

__all__ = [
    "Delivery",
    "DeliveryFailed",
    "Notifier",
    "NotifyError",
    "SmtpNotifier",
    "smtp_settings_from_env",
]
