"""Delivery of the daily report behind one interface (SMTP first)."""

from vulnmark.notify.interface import Delivery, DeliveryFailed, Notifier, NotifyError
from vulnmark.notify.smtp import SmtpNotifier, smtp_settings_from_env

__all__ = [
    "Delivery",
    "DeliveryFailed",
    "Notifier",
    "NotifyError",
    "SmtpNotifier",
    "smtp_settings_from_env",
]
