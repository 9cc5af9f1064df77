"""Vulnerability signals: advisory ids, vulnerability words, the two-concept rule."""

from __future__ import annotations

import pytest
from classify_support import make

from vulnmark.check.infer import read
from vulnmark.config.policy import Policy


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Upgrade OpenSSL for CVE-2024-5535 before the audit.", "CVE-2024-5535"),
        ("See GHSA-h5c8-rqwp-cp95 for details.", "GHSA-h5c8-rqwp-cp95"),
        ("Tracked upstream as RUSTSEC-2023-0071.", "RUSTSEC-2023-0071"),
        ("PYSEC-2021-19 affects our tooling.", "PYSEC-2021-19"),
        ("The login form is vulnerable to XSS.", "vulnerable"),
        ("Ez egy sérülékenység az RA felületen.", "sérülékenység"),
        ("Sebezhetőség a naplózásban.", "Sebezhetőség"),
        ("Eine Schwachstelle im OCSP-Dienst.", "Schwachstelle"),
        ("Une vulnérabilité dans le portail.", "vulnérabilité"),
        ("Possible remote code execution via the upload endpoint.", "remote code execution"),
        ("SQL injection in the search field.", "SQL injection"),
        ("Privilege escalation through the sudoers entry.", "Privilege escalation"),
        ("An attacker can replay the token.", "attacker"),
    ],
)
def test_strong_signal(text: str, term: str, policy: Policy) -> None:
    reading = read(make(text), policy)
    assert reading.is_suspect
    assert term in reading.signals[0].text
    assert reading.signals[0].field == "description"


@pytest.mark.parametrize(
    "text",
    [
        "Renew the TLS certificate of the OCSP responder.",
        "Encryption key ceremony scheduled; client authentication certificates to follow.",
        "Security review meeting moved to Friday.",  # one weak concept is not enough
        "The password field is too narrow.",
        "Improve the log rotation of the CRL publisher.",
    ],
)
def test_everyday_ca_text_is_not_suspected(text: str, policy: Policy) -> None:
    reading = read(make(text), policy)
    assert reading.signals == ()
    assert not reading.is_suspect


def test_two_weak_concepts_make_a_signal(policy: Policy) -> None:
    ticket = make("A security gap: the export ignores the permissions of the operator role.")
    reading = read(ticket, policy)
    assert reading.is_suspect
    assert len(reading.signals) == 2


def test_signal_in_a_comment_has_its_index(policy: Policy) -> None:
    reading = read(make("Routine upgrade.", "Never mind", "Fixes CVE-2023-0464."), policy)
    assert [(s.field, s.index) for s in reading.signals] == [("comment", 1)]


def test_quoted_signal_still_counts(policy: Policy) -> None:
    reading = read(make("> the reporter says this is an XSS\nChecking."), policy)
    assert reading.is_suspect


def test_signals_are_capped(policy: Policy) -> None:
    ids = " ".join(f"CVE-2024-{1000 + i}" for i in range(20))
    assert len(read(make(ids), policy).signals) == 5


@pytest.mark.parametrize(
    "text",
    [
        # code and config blocks, headers, logs, stack traces (false positives on a web
        # project's tracker, issue 14)
        "The page sets these headers:\n```\nX-XSS-Protection: 1; mode=block\n"
        "Content-Security-Policy: default-src 'self'\n```\nCaching is broken.",
        "{code}\n[security]\nphp_handling = SMARTY_PHP_REMOVE\n{code}\nTemplates render blank.",
        "Config dump:\n{noformat}\nGRANT ALL ON db.* TO 'u'@'%' IDENTIFIED BY 'password';\n"
        "security_level = 2\n{noformat}\nImport is slow.",
        "2024-05-01 10:22:13 ERROR Form security key is invalid, password reset skipped\n"
        "The cron job stops after that.",
        "X-XSS-Protection: 0\nRenders fine otherwise.",
        "\tat org.apache.derby.security.SecurityUtil.checkPermission(SecurityUtil.java:42)\n"
        "\tat org.apache.derby.impl.jdbc.EmbedConnection.<init>(EmbedConnection.java:10)",
        # names, not words
        "Install mod_security and the SecurityInfo plugin, see SECURITY.md and security.md.",
        # negation
        "This isn't a security issue, the permission check works as documented.",
        "Not a vulnerability: the password is only shown to the admin who typed it.",
        # ordinary senses: a leak of memory, security as a switch or a component
        "The export leaks memory after a long session.",
        "Job credentials are not transmitted if security is turned off.",
        "Triage queue non-security: layout glitches only.",
        "With Kerberos security enabled the password prompt hangs.",
        "See the License for the specific language governing permissions and\n"
        "limitations under the License. The credentials file is read twice.",
        # Jira's editor indents pasted XML and licence headers with no-break spaces
        # (AMQ-2122 of the Apache issues)
        "The broker ignores the option. activemq.xml:\n\xa0 \xa0See the License for the "
        "specific language governing permissions and\n\xa0 \xa0 \xa0 \xa0<sslContext "
        'keyStore="broker.ks" keyStorePassword="password"/>\nIt binds to every interface.',
    ],
)
def test_signal_words_outside_prose_do_not_count(text: str, policy: Policy) -> None:
    reading = read(make(text), policy)
    assert reading.signals == (), reading.signals


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("The login page has an open redirect through the next= parameter.", "open redirect"),
        ("Error pages show a full path disclosure of the install directory.", "path disclosure"),
        ("The updater is open to a man-in-the-middle on plain HTTP.", "man-in-the-middle"),
        ("The reset form allows user enumeration by timing.", "user enumeration"),
        ("Session fixation after login: the id is not rotated.", "Session fixation"),
        ("The XML import is vulnerable to XXE.", "XXE"),
        ("Passwords are sent in the clear to the mail relay.", "sent in the clear"),
        ("Security: heap overflow in the PNG decoder", "Security:"),
        # the tracker's title dash, then a run of blanks (Chromium reports in FARSEC)
        ("Issue 29323 - chromium -    Security: CSS min-height causes a renderer crash",
         "Security:"),
        ("Webhook URL lets anyone reach internal hosts (SSRF).", "SSRF"),
        ("Object.getOwnPropertyDescriptor() allows cross-frame access.", "cross-frame"),
        ("An integer overflow in the length field of the OCSP parser.", "integer overflow"),
    ],
)
def test_more_vulnerability_classes(text: str, term: str, policy: Policy) -> None:
    reading = read(make(text), policy)
    assert reading.is_suspect
    assert any(term in s.text for s in reading.signals)


@pytest.mark.parametrize(
    ("text", "term"),
    [
        # access-control failures and exposures, as reporters describe them without naming a
        # class (the misses of FARSEC and of the Apache issues, issue 14), in our own words
        ("Any user can read arbitrary files through the log viewer.", "read arbitrary files"),
        ("The servlet does not protect itself against '..' attacks.", "attacks"),
        ("A crafted font leads to code execution in the renderer.", "code execution"),
        ("Out of bounds array read in the FTP listing parser.", "Out of bounds array read"),
        ("OOB write when decoding the icon.", "OOB write"),
        ("The drag handler exposes local file paths to the page.", "exposes local file paths"),
        ("The metadata API leaks the session id in the redirect.", "leaks the session id"),
        ("Any readable file exposed via the UI log viewer.", "file exposed"),
        ('The "trustStorePassword" is logged with the connection URL.', "is logged"),
        ("The password is not checked for STOMP clients.", "password is not checked"),
        ("Incorrect authorization on wildcard destinations.", "Incorrect authorization"),
        ("The Netty transport does no authentication at all.", "no authentication"),
        ("Extensions can circumvent access restrictions by overwriting the dispatcher.",
         "circumvent access restrictions"),
        ("Dumping the scheduler logs should be for admins only.", "for admins only"),
        ("A page loaded after the NTP can gain DOM bindings privileges.",
         "gain DOM bindings privileges"),
        ("New directories are created with wider permissions than intended.",
         "wider permissions"),
        ("Local pages with frames break the domain-origin policy.", "domain-origin"),
        ("WebCore::Node::parent ReadAV@NULL on a crafted page.", "ReadAV@"),
        ("Upgrade commons-compress due to security issues in 1.9.", "security issues"),
        ("Any user can kill other users' applications from the UI.", "Any user can kill other"),
        ("Unprivileged users can receive messages from a protected topic.",
         "Unprivileged users can"),
        # a person's tag in the title, like "Security:" (STORM's security branch)
        ("(Security) UI actions should have nimbus-like authorization", "(Security)"),
        ("[Security] tokens never expire", "[Security]"),
        # the misses of a person's reading of FARSEC (benchmarks/farsec_read.jsonl)
        ("The SNMP password is shown in plain text in the log.", "shown in plain text"),
        ("Under Options all saved passwords can be seen by anyone.", "passwords can be seen"),
        ("Chrome 4.0 BOF when opening this file.", "BOF"),
        ("Nested protocols cause a stack exhaustion in URL parsing.", "stack exhaustion"),
        ("Extra dots at the end of the name bypass the unsafe file types dialog.",
         "bypass the unsafe file types dialog"),
        ("INSERT succeeds even though the privilege was revoked.",
         "succeeds even though the privilege"),
        ("An unauthorized shutdown request dumps the threads.", "unauthorized shutdown"),
        ("A page can retrieve the fully qualified path of a dragged file.",
         "retrieve the fully qualified path"),
        ("A specially crafted SVG file crashes the renderer.", "specially crafted"),
        ("Keys are stored in plain text on the build server.", "stored in plain text"),
        ("Operators gain root privileges via the backup script.", "gain root privileges"),
        ("The RA operator's private key was exposed on a shared drive.", "key was exposed"),
        ("A malformed font could allow code execution in the viewer.", "allow code execution"),
        # web application weaknesses as trackers name them
        ("HTML injection in the widget title.", "HTML injection"),
        ("IDOR: the report endpoint returns other sites' data.", "IDOR"),
        ("Attackers can brute-force the login form, no lockout.", "brute-force the login"),
        ("Session cookie is set without the HttpOnly flag.", "without the HttpOnly flag"),
        ("The goal name is rendered as unescaped user input.", "unescaped user input"),
        ("Missing access check on the segment editor API.", "Missing access check"),
        ("The password reset lets you bypass the 2FA step.", "bypass the 2FA"),
    ],
)
def test_access_failures_and_exposures(text: str, term: str, policy: Policy) -> None:
    reading = read(make(text), policy)
    assert reading.is_suspect, text
    assert any(term in s.text for s in reading.signals), reading.signals


@pytest.mark.parametrize(
    "text",
    [
        # the ordinary senses the new terms met on FARSEC and the Apache issues
        "Custom command execution takes too long on large clusters.",
        "When script execution is paused, completion stops working.",
        "The 'more' button is drawn out of bounds when there are several masters.",
        "The installer asks for elevated privileges.",
        "The key file is readable only by the hadoop group, for security concerns.",
        "The REST API exposes metrics for every queue.",
        "AccessControlException on overwrite: the permission check fails. Security is also "
        "disabled on this cluster.",
        "The sandbox environment is reset every night.",
        "Please allow an arbitrary number of listeners.",
        "The demo uses a hand-crafted request to show the API.",
        "Any user can download the CRL from the repository.",
        "Other users may want to run a query on that database.",
        "Loading a 45 MB file ends in memory exhaustion.",
        "Test fails: missing privileged block around the property read under the security "
        "manager; the permission is granted in the test policy.",
    ],
)
def test_ordinary_senses_of_the_new_terms(text: str, policy: Policy) -> None:
    reading = read(make(text), policy)
    assert not reading.is_suspect, reading.signals


def test_untrusted_and_sandbox_are_weak_concepts(policy: Policy) -> None:
    reading = read(make("The plugin sandbox loads untrusted fonts from the page."), policy)
    assert reading.is_suspect
    assert len(reading.signals) == 2


@pytest.mark.parametrize(
    "text",
    [
        # What a CA writes every day: requirements, operations and risk assessment. The
        # failed-control patterns were narrowed until none of these is suspected ("should be
        # restricted to administrators" and "security risk" are how CAs talk about controls
        # that hold; "only the DBO should be allowed", "privilege should be checked", "mixed
        # content" and a bare "hijack" found one more FARSEC report each and were dropped).
        "Only the owner should approve the key ceremony script.",
        "Only administrators should be allowed to revoke certificates.",
        "Only the CA administrators should have access to the HSM partition.",
        "Any user can download the CRL from the repository.",
        "Anonymous users can browse the public repository, as designed.",
        "Missing authentication certificate for the new RA operator.",
        "No authentication method configured for the staging LDAP yet.",
        "Please grant full access to the new auditor account for the review.",
        "Permissions should be checked during the quarterly access review.",
        "Authorization should be verified before the certificate is issued.",
        "Access to the admin console should be restricted to administrators.",
        "The export contains the full file path of each archived key.",
        "Add a crafted request example to the API docs.",
        "We see resource exhaustion on the OCSP responder during peak hours.",
        "The script reads the local path from the config file.",
        "The HSM firmware update is a security risk if done during business hours.",
        "The CA certificate expires next month; plan the attack on the backlog.",
        "The CRL distribution point has a mixed content warning in the browser.",
        "Code execution of the signing script takes 40 minutes.",
        "The origin policy of the portal blocks the OCSP fetch.",
        "Memory leak in the OCSP responder after the upgrade.",
        "The new API exposes the revocation status of every certificate.",
    ],
)
def test_what_a_ca_writes_every_day_is_not_suspected(text: str, policy: Policy) -> None:
    reading = read(make(text), policy)
    assert not reading.is_suspect, reading.signals
