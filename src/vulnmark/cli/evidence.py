"""``vulnmark evidence verify|export|keygen``: the evidence log and the auditor's pack."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

import click

from vulnmark.cli.app import CLOCK_OVERRIDE_ENV, EXIT_USAGE, App, echo, fatal, pass_app
from vulnmark.control.metrics import period
from vulnmark.evidence import backdating, pack, signing, stamps, timestamp
from vulnmark.evidence.pack.verify import UNSIGNED
from vulnmark.report.interface import one_line
from vulnmark.store import events as store_events

EXIT_TAMPERED = 1
EXIT_UNPROVEN = 4
"""``evidence verify --pack``: consistent but unsigned (or no key given): not proven."""


def register(cli: click.Group) -> None:
    cli.add_command(evidence_group)


@click.group("evidence")
def evidence_group() -> None:
    """Verify and export the hash-chained evidence log.

    \b
    Example:
      vulnmark evidence verify
      vulnmark evidence export --from 2026-01-01 --to 2026-12-31 --output evidence-2026.zip
    """


def _heads(values: tuple[str, ...]) -> tuple[str, ...]:
    for v in values:
        if not re.fullmatch(r"[0-9a-fA-F]{16,64}", v):
            fatal(f"--head {v!r}: give at least 16 hex digits of a chain head (as printed in "
                  "the daily report)", EXIT_USAGE)
    return tuple(v.lower() for v in values)


@evidence_group.command("verify")
@click.option("--pack", "pack_path", type=click.Path(exists=True, path_type=Path), default=None,
              help="Check an exported pack (ZIP file or directory) on its own instead.")
@click.option("--public-key", "public_key", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="The Ed25519 public key (PEM) the pack must be signed with.")
@click.option("--head", "heads", multiple=True, metavar="HEX",
              help="A chain head obtained elsewhere (a delivered daily report prints one): it "
                   "must be on the chain (repeatable; 16 to 64 hex digits).")
@click.option("--tsa-cert", "tsa_cert", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="The Time-Stamp Authority's certificate (PEM or DER): prove "
                                 "every RFC 3161 token and every record's time against them.")
@pass_app
def evidence_verify(app: App, pack_path: Path | None, public_key: Path | None,
                    heads: tuple[str, ...], tsa_cert: Path | None) -> None:
    """Recompute the hash chain and everything bound to it; name every problem.

    The store: the chain, the head kept apart and the head file beside an SQLite store, each
    run record and stored report against the records. With --pack, a pack on its own: files
    against the manifest, the chain, reports and derived CSVs against the records, and with
    --public-key the manifest's Ed25519 signature. With --tsa-cert, each RFC 3161 time-stamp
    token (signature, message imprint = the head it stamps, time) and every record whose
    claimed time lies outside its time-stamped window. Backdated records (entered after the
    time they claim) are listed. Exit 0 verified, 1 tampering (each problem named), 2
    unreadable, 4 a pack that is consistent but unsigned (integrity not proven).

    \b
    Example:
      vulnmark evidence verify --head 7090f690e1a4e960 --tsa-cert tsa.pem
      vulnmark evidence verify --pack evidence-2026.zip --public-key vulnmark-signing.pub
    """
    wanted = _heads(heads)
    cert = timestamp.load_certificate(tsa_cert) if tsa_cert is not None else None
    if pack_path is not None:
        key = signing.load_public(public_key) if public_key is not None else None
        checked = pack.verify(pack_path, public_key=key, heads=wanted, tsa=cert)
        for problem in checked.problems:
            echo(f"pack BROKEN: {one_line(problem, 400)}", err=True)
        if not checked.ok:
            raise SystemExit(EXIT_TAMPERED)
        summary = (f"{checked.files} files, {checked.events} evidence records, "
                   f"head {checked.head or '(none)'}")
        if checked.status == UNSIGNED:
            echo(f"pack consistent but {checked.note}: {summary}")
        else:
            echo(f"pack OK, signed by key {checked.signed_by}: {summary}")
        if checked.time_stamps is not None:
            _show_stamps(checked.time_stamps, cert)
        _show_backdated(list(checked.backdated))
        if checked.status == UNSIGNED:
            raise SystemExit(EXIT_UNPROVEN)
        return
    if public_key is not None:
        fatal("--public-key checks a pack's signature: give --pack too", EXIT_USAGE)
    result = app.store.verify_evidence()
    with app.store.reading() as conn:
        records = list(store_events.iter_events(conn))
    missing = [h for h in wanted if not any(r.hash.startswith(h) for r in records)]
    found = stamps.check(records, cert)
    if result.ok and not missing and not found.problems:
        echo(f"evidence log OK: {result.records} records, head {result.head}")
        _show_stamps(found, cert)
        _show_backdated(backdating.scan(records))
        return
    if result.first_bad is not None:
        echo(f"evidence log BROKEN at record {result.first_bad}: {result.problem}",
             err=True)
    for problem in result.problems[1 if result.first_bad is not None else 0:]:
        echo(f"evidence BROKEN: {one_line(problem, 400)}", err=True)
    for h in missing:
        echo(f"evidence BROKEN: --head {h}: not the hash of any record in the log "
             "(records deleted from the end, or the log replaced)", err=True)
    for problem in found.problems:
        echo(f"evidence BROKEN: {one_line(problem, 400)}", err=True)
    raise SystemExit(EXIT_TAMPERED)


def _show_stamps(found: stamps.StampCheck, cert: timestamp.TsaCertificate | None,
                 shown: int = 10) -> None:
    """What the time-stamps prove, or that they were not checked; every recorded failure."""
    if found.tokens and not found.checked:
        echo(f"time-stamps: {found.tokens} token(s) present but NOT checked (give --tsa-cert "
             "FILE, the Time-Stamp Authority's certificate)")
    elif found.checked and found.proven and cert is not None:
        last = max(found.proven, key=lambda p: p.seq)
        echo(f"time-stamps: {len(found.proven)} token(s) verified against "
             f"{one_line(cert.subject, 200)}; records up to {last.seq} existed at "
             f"{last.gen_time:%Y-%m-%dT%H:%M:%SZ} (TSA time), and every record's time lies "
             "within its time-stamped window")
    elif found.checked:
        echo("time-stamps: none in the log (set evidence.tsa_url to time-stamp each run)")
    if found.failures:
        echo(f"time-stamps: {len(found.failures)} head(s) could not be time-stamped "
             "(the TSA failed; the runs went on):")
        for seq, failure in found.failures[:shown]:
            echo(f"  record {seq}: head of record {failure.seq} by {failure.tsa}: "
                 f"{one_line(failure.error, 300)}")
        if len(found.failures) > shown:
            echo(f"  … and {len(found.failures) - shown} more")


def _show_backdated(found: list[backdating.Backdated], shown_overrides: int = 10) -> None:
    """Every declared backdated change, and the first clock-overridden records."""
    declared = [b for b in found if b.declared]
    overridden = [b for b in found if not b.declared]
    if declared:
        echo(f"BACKDATED: {len(declared)} change(s) entered after they took effect:")
        for b in declared:
            echo(f"  {one_line(backdating.describe(b), 400)}")
    if overridden:
        echo(f"BACKDATED: {len(overridden)} record(s) dated before they were written "
             f"(a clock override, {CLOCK_OVERRIDE_ENV}=1):")
        for b in overridden[:shown_overrides]:
            echo(f"  {one_line(backdating.describe(b), 400)}")
        if len(overridden) > shown_overrides:
            echo(f"  … and {len(overridden) - shown_overrides} more")


@evidence_group.command("export")
@click.option("--from", "since", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="First day of the period (policy timezone).")
@click.option("--to", "until", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="Last day of the period, inclusive.")
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True,
              help="FILE.zip, or a new (or empty) directory.")
@pass_app
def evidence_export(app: App, since: datetime, until: datetime, output: Path) -> None:
    """Write the auditor's evidence pack for a period (ZIP or directory).

    It holds every run and its stored reports, deliveries with Message-IDs, label changes,
    reclassifications, outcomes, policy changes, the period's hash-chained evidence records,
    metrics with SVG charts, a summary page (index.html) and manifest.json with the SHA-256 of
    every file and the chain head. With VULNMARK_SIGNING_KEY (an Ed25519 PEM file, see
    `evidence keygen`) the manifest is signed (manifest.sig). The export itself is recorded
    in the evidence log.

    \b
    Example:
      VULNMARK_SIGNING_KEY=/etc/vulnmark/signing.key \\
        vulnmark evidence export --from 2026-01-01 --to 2026-12-31 --output evidence-2026.zip
      vulnmark evidence verify --pack evidence-2026.zip --public-key signing.pub
    """
    now = app.write_now  # the export is recorded in the evidence log
    key = os.environ.get(signing.KEY_ENV)
    start, end = period(app.policy, since.date(), until.date(), now)
    result = pack.export(app.store, app.config, start, end, now, output,
                         signing_key=Path(key) if key else None)
    echo(f"wrote {result.path}: {result.files} files, {result.runs} runs, "
         f"{result.events} evidence records, head {result.head or '(none)'}"
         + ("" if key else f" (unsigned: set {signing.KEY_ENV} to sign)"))


@evidence_group.command("keygen")
@click.option("--output", "-o", "prefix", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("vulnmark-signing"), show_default=True,
              help="Writes PREFIX.key (private) and PREFIX.pub (public), both 0600.")
def evidence_keygen(prefix: Path) -> None:
    """Make an Ed25519 key pair for signing evidence packs.

    Keep PREFIX.key secret and point VULNMARK_SIGNING_KEY at it on the host that exports
    packs; hand PREFIX.pub to the auditor by another channel (and publish its key id).

    \b
    Example:
      vulnmark evidence keygen --output /etc/vulnmark/signing
    """
    private, public = prefix.with_name(prefix.name + ".key"), prefix.with_name(prefix.name + ".pub")
    for path in (private, public):
        if path.exists():
            fatal(f"{path} exists; choose another --output (a key is never overwritten)")
    pair = signing.generate()
    for path, data in ((private, pair.private_pem), (public, pair.public_pem)):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as e:
            fatal(f"{path}: {e.strerror or e}")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    echo(f"wrote {private} (secret: set {signing.KEY_ENV}={private}) and {public} "
         f"(for the auditor); key id {pair.key_id}")
