"""Every key ``vulnmark.toml`` may hold, declared once (:data:`SETTINGS`).

From this declaration come the commented file ``vulnmark init`` writes (:func:`template`) and
the settings table of the README (:func:`readme_table`; tests/config/test_settings.py keeps the
README equal to it), and the parsers' key sets are checked against it by the same tests. A new
setting is one :class:`Setting` here plus its parser (:mod:`.load`, :mod:`.sections`, …).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass

from vulnmark.config.policy import Policy
from vulnmark.config.presets import PRESETS


@dataclass(frozen=True)
class Setting:
    name: str
    """Dotted: ``table.key`` (``classes.NAME.key`` for each class)."""
    default: object
    help: str
    set: bool = False
    """Written uncommented by ``vulnmark init`` (else shown commented out)."""
    example: object = None
    """What ``vulnmark init`` shows for a key whose default is empty or a placeholder."""

    @property
    def table(self) -> str:
        return self.name.rpartition(".")[0]

    @property
    def key(self) -> str:
        return self.name.rpartition(".")[2]


SETTINGS: tuple[Setting, ...] = (
    Setting("preset", "etsi-319-401",
            "Base policy: etsi-319-401, ncssr-v1, ncssr-v2 or pci-dss; join with + to apply "
            "several (the strictest deadline wins).", set=True),
    Setting("timezone", "UTC", "IANA timezone in which reports show times.", set=True),
    Setting("due_soon_hours", 24,
            "Window before a deadline in which a ticket is due_soon.", set=True),
    Setting("recipients", [], "Who receives the daily report (--to overrides); until it is set, "
            "--send stops with an error.", example=["security-officer@example.org"]),
    Setting("labels.vulnerability", ["Sérülékenység", "Vulnerability"],
            "Accepted vulnerability labels; the first is canonical.", set=True),
    Setting("class_order", ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIVE"],
            "The classes, most severe first (may add or drop classes)."),
    Setting("classes.NAME.aliases", ["KRITIKUS"], "Other accepted labels for class NAME.",
            set=True),
    Setting("classes.NAME.deadline_hours", 48,
            "Handling time of class NAME in calendar hours from discovery; \"none\" for no "
            "fixed clock.", set=True),
    Setting("smtp.host", "localhost", "SMTP server (env VULNMARK_SMTP_HOST).", set=True),
    Setting("smtp.port", 25, "SMTP port (env VULNMARK_SMTP_PORT).", set=True),
    Setting("smtp.tls", "none", "none, starttls or ssl (env VULNMARK_SMTP_TLS).", set=True),
    Setting("smtp.user", None, "SMTP login; the password only from VULNMARK_SMTP_PASSWORD.",
            example="vulnmark"),
    Setting("smtp.allow_plaintext_auth", False,
            "Log in (smtp.user) over a connection without TLS to a host that is not loopback; "
            "off, such a login is refused and the report says so."),
    Setting("smtp.from", "vulnmark@localhost", "Sender address (env VULNMARK_REPORT_FROM).",
            set=True),
    Setting("smtp.timeout", 30, "Seconds before one SMTP network operation times out "
            "(above 0, up to 600)."),
    Setting("smtp.deadline", 300, "Most seconds one delivery attempt may take in all, however "
            "slowly the server answers (above 0, up to 3600)."),
    Setting("smtp.retries", 3, "Delivery attempts before a report counts as undelivered.",
            set=True),
    Setting("smtp.backoff", 2.0,
            "Base of the exponential backoff between attempts, seconds.", set=True),
    Setting("dates.earliest", "1990-01-01",
            "Ticket dates (created, discovered, resolved) before this day are a bad_date "
            "finding and never the base of a deadline."),
    Setting("dates.future_days", 366,
            "Ticket dates more than this many days after the evaluation are a bad_date "
            "finding (a discovery date of 9999-12-31 cannot stop the daily control)."),
    Setting("tracker.prefix", "VULN",
            "Key prefix of tickets created with `vulnmark ticket new`.", set=True),
    Setting("inference.patterns", [],
            "Your own phrasings: a list of {regex, class} tables; a match states that class "
            "(case-insensitive), e.g. {regex = \"kockázat: magas\", class = \"HIGH\"}.",
            example=[{"regex": "kockázat: magas", "class": "HIGH"}]),
    Setting("inference.scales", {},
            "How a class word is read, overriding the built-in scales (CVSS; Mozilla, Microsoft "
            "and Red Hat moderate/important; VulDB problematic = MEDIUM; the Hungarian, German "
            "and French words): a table word = class, e.g. {problematic = \"LOW\"}. A key "
            "matches the class words that start with it; the evidence then names "
            "inference.scales.",
            example={"problematic": "LOW"}),
    Setting("inference.priority_is_severity", False,
            "Read the Jira priority (High, Critical…) as a severity statement (weakest "
            "evidence). Off by default: a priority is not a classification."),
    Setting("source.jira.url", None, "Jira site, https://…atlassian.net or your Data Center URL.",
            example="https://example.atlassian.net"),
    Setting("source.jira.jql", None,
            "Scope of `vulnmark sync` (bounded, e.g. project = SEC); its ORDER BY is replaced.",
            example="project = SEC"),
    Setting("source.jira.flavour", "auto",
            "cloud (REST v3, nextPageToken), datacenter (REST v2, startAt) or auto "
            "(/rest/api/2/serverInfo)."),
    Setting("source.jira.discovery_field", None,
            "Field holding the discovery time (e.g. customfield_10050); default: created.",
            example="customfield_10050"),
    Setting("source.jira.page_size", None, "Issues per search page (default 100 Cloud, 1000 DC).",
            example=100),
    Setting("source.jira.ca_bundle", None, "PEM file of a private CA; TLS is always verified.",
            example="/etc/vulnmark/private-ca.pem"),
    Setting("source.jira.timeout", 30, "Seconds for every request in all, however slowly "
            "the server answers."),
    Setting("source.jira.max_response_mb", 64, "The largest response read from Jira, in MiB "
            "(decompressed); a larger one fails the sync instead of filling the memory."),
    Setting("source.jira.max_retries", 6,
            "Retries on 429/503/network errors (Retry-After honoured, else backoff+jitter)."),
    Setting("source.jira.overlap_minutes", 15,
            "An incremental sync re-reads this much before the last sync."),
    Setting("source.jira.concurrency", 4, "Requests in flight at once where the API allows."),
    Setting("source.jira.hydrate", False,
            "Cloud: list ids, then fetch issues 100 at a time with bulkfetch (faster on slow "
            "links)."),
    Setting("schedule.cron", "0 7 * * *",
            "When the daily run is due: minute hour day-of-month month day-of-week. Without a "
            "[schedule] table a missed run is a calendar day without a report run."),
    Setting("schedule.timezone", "(the policy timezone)", "IANA timezone of the cron times.",
            example="Europe/Budapest"),
    Setting("schedule.catch_up", True,
            "`vulnmark schedule` runs an uncovered slot at start (after downtime)."),
    Setting("schedule.retry_seconds", 60,
            "`vulnmark schedule` retries a failed delivery (the same run) after this many "
            "seconds, doubling after each failure, until it is delivered or the slot ends."),
    Setting("schedule.retry_max_seconds", 3600,
            "The longest wait between two retries of a failed delivery (at least "
            "schedule.retry_seconds)."),
    Setting("report.suspected_scope", "new",
            "Suspected tickets the daily report lists: new (open ones, and ones created or "
            "changed since the last delivered report), open, or all; the rest is counted, "
            "with the command that lists it."),
    Setting("report.mail_items", 25,
            "Findings listed per section in the email before \"and K more\"; fewer when the "
            "HTML part would pass 100 KB. The full report is attached (HTML and CSV)."),
    Setting("alert.max_deadline_hours", 48,
            "`vulnmark watch` alerts on an open ticket whose class's deadline is this short or "
            "shorter (CRITICAL under ETSI)."),
    Setting("alert.recipients", [], "Who gets alerts (default: recipients).",
            example=["soc@example.org"]),
    Setting("reminders.enabled", False,
            "Mail each reporter (or assignee) of a ticket that needs classification once a "
            "day (with the daily report), listing the labels to add."),
    Setting("reminders.to", "reporter",
            "Who is reminded: reporter, or assignee (an unassigned ticket's reporter). The "
            "address is the ticket's (Jira emailAddress), else reminders.addresses."),
    Setting("reminders.escalate_after_days", 3,
            "After this many days of reminders about a ticket, the recipients are copied."),
    Setting("reminders.addresses", {},
            "Display name or account id = email address, where the ticket shows none.",
            example={"Jane Doe": "jane.doe@example.org"}),
    Setting("outcomes.remediated", ["Fixed", "Done"],
            "Resolution names that mean the vulnerability was remediated (Jira)."),
    Setting("outcomes.mitigation_plan", [],
            "Resolution names that mean a mitigation plan was put in place.",
            example=["Mitigated"]),
    Setting("outcomes.no_remediation", ["Won't Fix", "Won't Do"],
            "Resolution names that mean no remediation is needed."),
    Setting("outcomes.no_remediation_reason", "other",
            "Reason code given to an outcome inferred from a no_remediation resolution."),
    Setting("outcomes.required", True,
            "A resolved vulnerability without any outcome is a no_outcome finding."),
    Setting("publish.url", None,
            "Confluence site of the policy page (`vulnmark policy publish`): "
            "https://…atlassian.net or your Data Center base URL. Not in the policy digest.",
            example="https://example.atlassian.net"),
    Setting("publish.flavour", "auto",
            "cloud (/wiki/api/v2/pages), datacenter (/rest/api/content) or auto (cloud for "
            "*.atlassian.net)."),
    Setting("publish.space", None, "Key of the space the page lives in (to create it or find "
            "it by title).", example="SEC"),
    Setting("publish.page_id", None, "Id of the page to update; without it the page is found "
            "by title in the space, or created.", example="123456"),
    Setting("publish.parent_id", None, "Id of the parent page of a page created.",
            example="654321"),
    Setting("publish.title", "(the page title in its language)", "Title of the page.",
            example="Marking vulnerability tickets"),
    Setting("publish.lang", "en", "Language of the published page: en, hu, de or fr."),
    Setting("publish.timeout", 30, "Seconds for every request to Confluence."),
    Setting("intake.vendors", [], "Watchlist: vendor names (CVE 5 affected, KEV, CPE vendor), "
            "case-insensitive.", example=["OpenSSL"]),
    Setting("intake.products", [], "Watchlist: product or vendor/product names, "
            "case-insensitive (_ counts as a space).", example=["nginx/nginx"]),
    Setting("intake.cpe_prefixes", [], "Watchlist: CPE 2.3 name prefixes of affected "
            "configurations.", example=["cpe:2.3:a:apache:http_server"]),
    Setting("intake.packages", [], "Watchlist: package URLs without version or "
            "Ecosystem/name (OSV).", example=["pkg:pypi/cryptography"]),
    Setting("intake.keywords", [], "Watchlist: whole words or phrases in the title or "
            "description, case-insensitive.", example=["PKCS#11"]),
    Setting("intake.watch", [], "More watchlist entries, each with the keys above plus its own "
            "name, owner (assignee) and labels ([[intake.watch]] tables).",
            example=[{"name": "hsm", "vendors": ["Thales"], "owner": "pki-team",
                      "labels": ["hsm"]}]),
    Setting("intake.precedence", ["nvd", "cna", "adp", "osv"],
            "Whose rating is a publication's original class, first found wins: nvd (the "
            "NVD's Primary score), cna, adp, osv, secondary (other scorers)."),
    Setting("intake.v2_rule", "ncssr-v1",
            "A CVSS v2-only rating: ncssr-v1 (7.0 or more is CRITICAL) or nvd (the v2 scale, "
            "7.0 or more is HIGH)."),
    Setting("intake.unrated", "unclassified",
            "A publication without a rating: unclassified (the ticket gets the vulnerability "
            "label only, and the check reports it), skip, or a class to assume."),
    Setting("intake.kev_min_class", "HIGH",
            "A CVE in the CISA KEV catalog is at least this class (\"none\": no escalation); "
            "its KEV dueDate is the assessment deadline when earlier."),
    Setting("intake.clock_from", "published",
            "The assessment clock starts at the publication (published) or when vulnmark "
            "first saw it (first_seen)."),
    Setting("intake.assessment_hours", {"CRITICAL": 24, "HIGH": 72, "MEDIUM": 168, "LOW": 720},
            "Hours per class within which an intake ticket's impact must be assessed "
            "(`vulnmark assess`); \"none\" for no clock."),
    Setting("intake.nvd_url", "https://services.nvd.nist.gov/rest/json/cves/2.0",
            "The NVD CVE API 2.0 endpoint `vulnmark intake run` reads without --from; the "
            "API key only from VULNMARK_NVD_API_KEY."),
    Setting("intake.jira_project", None,
            "Open intake tickets in this Jira project of the [source.jira] site (POST "
            "/rest/api/3/issue on Cloud, /rest/api/2/issue on Data Center) instead of the "
            "embedded tracker; a watch entry's owner becomes the assignee (Cloud: its account "
            "id; Data Center: its user name).", example="SEC"),
    Setting("intake.jira_issue_type", "Bug",
            "Issue type of the intake tickets opened in Jira (intake.jira_project)."),
    Setting("incident.fulfilment_months", 3,
            "The non-conformity fulfilment report to the conformity assessment body and the "
            "supervisory body is due this many months after the on-site audit."),
    Setting("incident.bugzilla_url", None,
            "Bugzilla site of `incident update --post` (API key only from "
            "VULNMARK_BUGZILLA_API_KEY).", example="https://bugzilla.mozilla.org"),
    Setting("incident.bugzilla_timeout", 30, "Seconds for every Bugzilla request."),
    Setting("evidence.tsa_url", None,
            "RFC 3161 Time-Stamp Authority (http:// or https://) that time-stamps the chain "
            "head of every report run; the token is an evidence record and goes into the pack "
            "(`evidence verify --tsa-cert` checks it). A TSA failure never stops the report: "
            "it is recorded and shown in the next report.",
            example="https://tsa.example.org/tsr"),
    Setting("evidence.tsa_timeout", 10, "Seconds one time-stamp request may take in all."),
)


def known_keys(table: str) -> frozenset[str]:
    """The keys SETTINGS declares for ``table`` (``""`` for the top level; ``classes.NAME``)."""
    return frozenset(s.key for s in SETTINGS if s.table == table)


# -- the README table -----------------------------------------------------------------------

def _shown(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list | dict):
        return f"`{json.dumps(value, ensure_ascii=False)}`"
    return f"`{value}`"


def readme_table() -> str:
    """The rows of the README's settings table (between its ``settings-table`` markers)."""
    return "".join(f"| `{s.name}` | {_shown(s.default)} | {_cell(s.help)} |\n"
                   for s in SETTINGS)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


# -- the file `vulnmark init` writes ----------------------------------------------------------

def _toml(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(str(k))} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return json.dumps(value, ensure_ascii=False)


def _key(name: str) -> str:
    """A TOML key: bare where it can be, else quoted."""
    bare = name and all(c.isascii() and (c.isalnum() or c in "_-") for c in name)
    return name if bare else json.dumps(name, ensure_ascii=False)


def _value(s: Setting, policy: Policy, cls: str | None) -> object:
    """What the template shows for ``s``: the preset's value where the preset decides it."""
    if s.name == "preset":
        return policy.preset
    if s.name == "due_soon_hours":
        return policy.due_soon_hours
    if s.name == "labels.vulnerability":
        return list(policy.vulnerability_labels)
    if s.name == "class_order":
        return list(policy.class_names)
    if cls is not None:
        c = policy.class_def(cls)
        if s.key == "aliases":
            return list(c.aliases)
        return "none" if c.deadline_hours is None else c.deadline_hours
    if s.example is not None:
        return s.example
    return s.default


def _tables(policy: Policy) -> Iterator[tuple[str, list[tuple[Setting, str | None]]]]:
    """(table name, [(setting, class)]) in SETTINGS order; ``classes.NAME`` once per class."""
    order: dict[str, list[tuple[Setting, str | None]]] = {}
    for s in SETTINGS:
        if s.table == "classes.NAME":
            for c in policy.class_names:
                order.setdefault(f"classes.{c}", []).append((s, c))
        else:
            order.setdefault(s.table, []).append((s, None))
    yield from order.items()


def template(policy: Policy) -> str:
    """A commented vulnmark.toml for ``policy``'s preset: every setting, with its help; the
    usual ones set, the others commented out with their default or an example."""
    about = " / ".join(PRESETS[p][0] for p in policy.preset.split("+"))
    lines = ["# vulnmark policy. Every key is optional; unknown keys are errors.",
             "# Secrets (SMTP password, Jira tokens) come only from the environment.",
             *textwrap.wrap(f"Preset {policy.preset}: {about}", 96, initial_indent="# ",
                            subsequent_indent="# ")]
    for table, entries in _tables(policy):
        live = any(s.set for s, _ in entries)
        if table:
            lines += ["", f"[{table}]" if live else f"# [{table}]"]
        for s, cls in entries:
            about = s.help.replace("class NAME", f"class {cls}") if cls else s.help
            lines += textwrap.wrap(about, 96, initial_indent="# ", subsequent_indent="# ")
            line = f"{s.key} = {_toml(_value(s, policy, cls))}"
            lines.append(line if s.set else "# " + line)
    return "\n".join(lines) + "\n"
