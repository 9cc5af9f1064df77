"""vulnmark's errors: one tree under :class:`VulnmarkError`. Messages name the file, line or
key at fault and never contain a secret. Only the CLI turns them into exit codes
(``vulnmark.cli.app``): an :class:`ExternalError` exits 3, every other error 2.

::

    VulnmarkError
    ├── ConfigError              vulnmark.toml or a setting is invalid (names the key)
    │   └── ScheduleError        a cron expression or [schedule] setting
    ├── StoreError               a usage or input problem with the store
    │   ├── TicketNotFound       no ticket with that key
    │   └── StoreUnavailable     the database could not be reached or failed   (external)
    ├── SourceError              a ticket source failed
    │   ├── InputError           bad input; names the file, line and field
    │   │   └── JiraConfigError  (sources.jira.errors) [source.jira] or JIRA_* invalid
    │   ├── JiraError            (sources.jira.errors) Jira failed               (external)
    │   └── WebhookError         (sources.jira.webhook) a request to refuse
    ├── NotifyError              a report cannot be delivered as configured
    │   └── DeliveryFailed       the mail server refused or could not be reached (external)
    ├── ReportError              a report cannot be built or rendered
    ├── OutcomeError             an outcome or reclassification cannot be recorded
    ├── IntakeError              threat intake cannot run as asked (a record, an assessment)
    │   ├── FeedError            a feed record is invalid; names the file, record and field
    │   ├── FeedUnavailable      the NVD API failed or refused                    (external)
    │   └── IntakeJiraFailed     Jira refused or failed an intake ticket          (external)
    ├── IncidentError            an incident, action item or update is invalid or unknown
    │   └── BugzillaError        Bugzilla refused or could not be reached          (external)
    ├── DismissError             a dismissal cannot be recorded or ended
    ├── PackError                an evidence pack cannot be written or read
    ├── TimestampError           a time-stamp cannot be obtained, or a token or TSA certificate read
    └── PublishError             the policy page cannot be built or published as configured
        └── PublishFailed        Confluence refused or could not be reached     (external)
    ExternalError                an external system failed (a second base of those marked external)
"""

from __future__ import annotations

__all__ = [
    "BugzillaError",
    "ConfigError",
    "DeliveryFailed",
    "DismissError",
    "ExternalError",
    "FeedError",
    "FeedUnavailable",
    "IncidentError",
    "InputError",
    "IntakeError",
    "IntakeJiraFailed",
    "NotifyError",
    "OutcomeError",
    "PackError",
    "PublishError",
    "PublishFailed",
    "ReportError",
    "ScheduleError",
    "SourceError",
    "StoreError",
    "StoreUnavailable",
    "TicketNotFound",
    "TimestampError",
    "VulnmarkError",
]


class VulnmarkError(Exception):
    """Base of every error vulnmark raises on purpose."""


class ExternalError(VulnmarkError):
    """An external system (the database server, the mail server, Jira) failed."""


class ConfigError(VulnmarkError):
    """The configuration is invalid; the message names the key."""


class ScheduleError(ConfigError):
    """A cron expression or ``[schedule]`` setting is invalid; the message names it."""


class StoreError(VulnmarkError):
    """Base error of the store."""


class TicketNotFound(StoreError):
    def __init__(self, key: str) -> None:
        super().__init__(f"no ticket {key!r} in the store")
        self.key = key


class StoreUnavailable(StoreError, ExternalError):
    """The database server or file failed."""


class SourceError(VulnmarkError):
    """Base error of the ticket sources."""


class InputError(SourceError):
    """Bad input; ``str(e)`` reads ``FILE: line N: field F: message`` (unknown parts left out)."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            parts.append(self.file)
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.field is not None:
            parts.append(f"field {self.field}")
        parts.append(self.message)
        return ": ".join(parts)

    def located(self, *, file: str | None = None, line: int | None = None) -> InputError:
        """A copy with the file (and line) filled in where this error did not know them."""
        return InputError(
            self.message,
            file=self.file if self.file is not None else file,
            line=self.line if self.line is not None else line,
            field=self.field,
        )


class NotifyError(VulnmarkError):
    """Base error of every notifier; the message never contains a secret."""


class DeliveryFailed(NotifyError, ExternalError):
    """The message was not delivered after ``attempts`` tries.

    ``last_reply`` is the last server reply ("451 4.3.0 try later") or the connection error,
    with any secret removed; ``permanent`` is True when the server refused for good (5xx) and
    retrying later will not help without a change.
    """

    def __init__(self, message: str, *, attempts: int, last_reply: str,
                 permanent: bool = False) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last_reply = last_reply
        self.permanent = permanent


class ReportError(VulnmarkError):
    """A report cannot be built or rendered (bad timezone, naive timestamp, unknown format)."""


class OutcomeError(VulnmarkError):
    """An outcome or reclassification cannot be recorded; the message says why."""


class IncidentError(VulnmarkError):
    """An incident, action item, finding or update is invalid or unknown; the message says
    which (and the option or field at fault)."""


class BugzillaError(IncidentError, ExternalError):
    """Bugzilla refused a request or could not be reached; never contains the API key."""


class PackError(VulnmarkError):
    """An evidence pack cannot be written or read (bad path, not a pack)."""


class TimestampError(VulnmarkError):
    """An RFC 3161 time-stamp cannot be obtained (the TSA refused or failed), or a token or a
    TSA certificate cannot be read or does not verify; the message says which."""


class IntakeError(VulnmarkError):
    """Threat intake cannot do what was asked (an unknown record, an invalid assessment)."""


class FeedError(IntakeError):
    """A feed record is invalid; ``str(e)`` reads ``FILE: record ID: field F: message``
    (unknown parts left out)."""

    def __init__(self, message: str, *, file: str | None = None, record: str | None = None,
                 field: str | None = None) -> None:
        self.message = message
        self.file = file
        self.record = record
        self.field = field
        parts = [p for p in (file, f"record {record}" if record else None,
                             f"field {field}" if field else None) if p]
        super().__init__(": ".join([*parts, message]))

    def located(self, file: str) -> FeedError:
        """A copy naming ``file`` where this error did not know it."""
        return FeedError(self.message, file=self.file or file, record=self.record,
                         field=self.field)


class FeedUnavailable(IntakeError, ExternalError):
    """A live feed (the NVD API) failed, refused the key or kept rate-limiting."""
class IntakeJiraFailed(IntakeError, ExternalError):
    """Jira refused or failed an intake ticket or comment; names the record and the field."""


class DismissError(VulnmarkError):
    """A dismissal cannot be recorded or ended; the message says why."""


class PublishError(VulnmarkError):
    """The policy page cannot be built or published as configured (names the setting)."""


class PublishFailed(PublishError, ExternalError):
    """Confluence refused the page or could not be reached; the message never holds a secret.

    ``status`` is the HTTP status (None when no answer came)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
