"""Time you can prove (issue 11): each report run's chain head is time-stamped by an RFC 3161
TSA (a real one on 127.0.0.1, tests/tsa_support.py), the token is an evidence record, and
``evidence verify --tsa-cert`` proves every token and names every record whose claimed time
lies outside its time-stamped window — also against a forger who recomputes the whole chain
and the head file. A TSA failure never loses the report."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from core_support import make_ticket, smtp_sink
from tsa_support import LocalTsa, serve, stamp_records, write_two_runs
from vulnmark.cli import cli
from vulnmark.config.evidence import EvidenceSettings
from vulnmark.config.load import Config
from vulnmark.config.presets import preset
from vulnmark.control import daily
from vulnmark.evidence import stamps, timestamp
from vulnmark.evidence.chain import HEAD, canonical, chain_hash
from vulnmark.evidence.events import HeadTimestamped, TicketsImported, TimestampFailed, read
from vulnmark.store import Store
from vulnmark.store import events as store_events


@pytest.fixture
def cert(tsa: tuple[LocalTsa, str], tmp_path: Path) -> Path:
    return tsa[0].write_cert(tmp_path / "tsa.pem")


def _config(url: str) -> Config:
    return Config(preset("etsi-319-401"), evidence=EvidenceSettings(tsa_url=url))


def _db(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture
def stamped(tmp_path: Path, tsa: tuple[LocalTsa, str]) -> Path:
    """A store with two report runs, each head time-stamped, and an import between them:
    1 import, 2 policy, 3 run, 4 timestamp, 5 import, 6 run, 7 timestamp."""
    write_two_runs(_db(tmp_path), tsa[1])
    return _db(tmp_path)


def verify(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", "evidence", "verify", *args],
                              catch_exceptions=False)


def forge(db: Path, seq: int, *, payload: Callable[[dict[str, object]], None] | None = None,
          recorded_at: str | None = None) -> None:
    """What a forger with the database and the head file can do: edit record ``seq`` and
    recompute every hash after it, the head kept in the database and the head file."""
    with sqlite3.connect(db) as conn:
        rows = list(conn.execute("SELECT seq, at, kind, payload, prev_hash, recorded_at, "
                                 "recorded_by FROM events ORDER BY seq"))
        prev: str | None = None
        heads = []
        for s, at, kind, body, prev_hash, rec_at, rec_by in rows:
            if s >= seq:
                if s == seq:
                    data = json.loads(body)
                    if payload is not None:
                        payload(data)
                    body = canonical(data)
                    rec_at = recorded_at or rec_at
                prev_hash = prev_hash if prev is None else prev
                digest = chain_hash(prev_hash, s, at, kind, body, rec_at, rec_by)
                conn.execute("UPDATE events SET payload = ?, prev_hash = ?, hash = ?, "
                             "recorded_at = ? WHERE seq = ?",
                             (body, prev_hash, digest, rec_at, s))
            else:
                digest = conn.execute("SELECT hash FROM events WHERE seq = ?", (s,)).fetchone()[0]
            heads.append(f"{s} {digest} {rec_at}\n")
            prev = digest
        conn.execute("UPDATE state SET value = ? WHERE name = ?",
                     (canonical([rows[-1][0], prev]), HEAD))
    Path(f"{db}.heads").write_text("".join(heads))


# -- a token per run, proven ----------------------------------------------------------------

def test_each_run_stores_a_token_that_verify_proves(stamped: Path, cert: Path,
                                                    tsa: tuple[LocalTsa, str]) -> None:
    with Store.open(f"sqlite:///{stamped}") as store, store.reading() as conn:
        records = list(store_events.iter_events(conn))
    tokens = [(r, read(r)) for r in records if r.kind == "timestamp"]
    assert len(tokens) == 2
    hashes = {r.seq: r.hash for r in records}
    for _, event in tokens:
        assert isinstance(event, HeadTimestamped) and event.tsa == tsa[1]
        proven = timestamp.check(base64.b64decode(event.token),
                                 timestamp.load_certificate(cert))
        assert proven.imprint == event.head == hashes[event.seq]
        assert records[event.seq - 1].kind == "run"  # the run's own record is stamped
        assert proven.gen_time <= datetime.now(UTC)
    result = verify(stamped, "--tsa-cert", str(cert))
    assert result.exit_code == 0, result.output
    assert "2 token(s) verified against CN=vulnmark test TSA" in result.stdout
    assert "within its time-stamped window" in result.stdout


def test_without_the_tsa_certificate_tokens_are_said_to_be_unchecked(stamped: Path) -> None:
    result = verify(stamped)
    assert result.exit_code == 0
    assert "2 token(s) present but NOT checked (give --tsa-cert FILE" in result.stdout


def test_a_token_from_another_tsa_is_refused(stamped: Path, tmp_path: Path) -> None:
    other = LocalTsa("another TSA", key="rsa").write_cert(tmp_path / "other.pem")
    result = verify(stamped, "--tsa-cert", str(other))
    assert result.exit_code == 1
    first, second = stamp_records(stamped)
    for seq in (first, second):
        assert f"record {seq} (time-stamp of record {seq - 1} by http://127.0.0.1:" in \
            result.stderr
    assert "signed by another TSA certificate, not CN=another TSA" in result.stderr


def test_a_token_signed_with_another_key_in_the_tsa_s_name_is_refused(
        stamped: Path, cert: Path, tsa: tuple[LocalTsa, str]) -> None:
    impostor = LocalTsa()
    impostor.cert, impostor.cert_der = tsa[0].cert, tsa[0].cert_der  # names the real TSA
    first, _ = stamp_records(stamped)
    head = kinds_hash(stamped, first - 1)
    fake = impostor.token(bytes.fromhex(head))
    forge(stamped, first, payload=lambda p: p.update(token=base64.b64encode(fake).decode()))
    result = verify(stamped, "--tsa-cert", str(cert))
    assert result.exit_code == 1
    assert f"record {first} (time-stamp of record {first - 1}" in result.stderr
    assert "the signature does not verify with CN=vulnmark test TSA" in result.stderr


def kinds_hash(db: Path, seq: int) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("SELECT hash FROM events WHERE seq = ?", (seq,)).fetchone()[0])


# -- a token moved to another head --------------------------------------------------------

def test_a_token_moved_to_another_head_is_named(stamped: Path, cert: Path) -> None:
    first, second = stamp_records(stamped)
    with sqlite3.connect(stamped) as conn:
        token = json.loads(conn.execute("SELECT payload FROM events WHERE seq = ?",
                                        (first,)).fetchone()[0])["token"]
    forge(stamped, second, payload=lambda p: p.update(token=token))  # the first run's token
    assert verify(stamped).exit_code == 0  # the chain, recomputed, is consistent
    result = verify(stamped, "--tsa-cert", str(cert))
    assert result.exit_code == 1
    assert f"record {second} (time-stamp of record {second - 1}" in result.stderr
    assert "not the head it claims" in result.stderr and "moved to another head" in \
        result.stderr


def test_a_token_whose_record_claims_another_head_is_named(stamped: Path, cert: Path) -> None:
    first, second = stamp_records(stamped)
    with sqlite3.connect(stamped) as conn:
        token, head = conn.execute("SELECT json_extract(payload, '$.token'), "
                                   "json_extract(payload, '$.head') FROM events "
                                   "WHERE seq = ?", (first,)).fetchone()
    # the second record now claims the first head as the head of record second - 1
    forge(stamped, second, payload=lambda p: p.update(token=token, head=head))
    result = verify(stamped, "--tsa-cert", str(cert))
    assert result.exit_code == 1
    assert f"record {second - 1}'s hash is" in result.stderr
    assert "the token was moved, or the log rewritten" in result.stderr


def test_a_record_rewritten_before_a_time_stamped_head_is_named(stamped: Path,
                                                                cert: Path) -> None:
    """A forger backdates record 5 and recomputes the chain, the head row and the head file:
    everything agrees again, except the token over the old head of record 6."""
    _, second = stamp_records(stamped)
    forge(stamped, second - 2, recorded_at="2026-01-01T00:00:00.000000Z")
    assert verify(stamped).exit_code == 0
    result = verify(stamped, "--tsa-cert", str(cert))
    assert result.exit_code == 1
    assert f"record {second} (time-stamp of record {second - 1}" in result.stderr
    assert f"record {second - 1}'s hash is" in result.stderr


# -- claimed times outside their time-stamped window (the "done") -----------------

@pytest.mark.parametrize(("shift", "said"), [
    (timedelta(hours=1), "later than"), (timedelta(hours=-1), "earlier than")])
def test_a_record_whose_clock_lies_outside_its_window_is_named(
        tmp_path: Path, tsa: tuple[LocalTsa, str], cert: Path, monkeypatch: pytest.MonkeyPatch,
        shift: timedelta, said: str) -> None:
    """The host's clock is off by an hour while record 5 is written, between two stamped
    runs: the chain is intact, and only the time-stamps show that its time is false."""
    real = store_events.wall_clock

    def off_clock(store: Store) -> None:
        monkeypatch.setattr(store_events, "wall_clock", lambda: real() + shift)
        store.record(TicketsImported("b.json"))
        monkeypatch.setattr(store_events, "wall_clock", real)

    db = _db(tmp_path)
    write_two_runs(db, tsa[1], off_clock)
    first, second = stamp_records(db)
    assert verify(db).exit_code == 0
    result = verify(db, "--tsa-cert", str(cert))
    assert result.exit_code == 1
    forged = first + 1
    assert f"record {forged} (import): claims it was recorded at" in result.stderr
    assert said in result.stderr
    assert (f"head of record {second - 1}" if shift > timedelta(0)
            else f"time-stamp in record {first}") in result.stderr
    assert result.stderr.count("claims it was recorded") == 1  # only that record


def test_a_record_backdated_after_the_last_time_stamp_is_named(stamped: Path,
                                                               cert: Path) -> None:
    """A forger writes a record later and dates it a day earlier, recomputing everything:
    it follows a time-stamp whose token did not exist a day earlier."""
    with Store.open(f"sqlite:///{stamped}") as store:
        late = store.record(TicketsImported("c.json"))
    earlier = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    forge(stamped, late.seq, recorded_at=earlier)
    assert verify(stamped).exit_code == 0
    result = verify(stamped, "--tsa-cert", str(cert))
    assert result.exit_code == 1
    assert f"record {late.seq} (import): claims it was recorded at {earlier}, earlier than" \
        in result.stderr


def test_records_written_while_the_tsa_answers_are_not_misjudged() -> None:
    """A record another process writes after the stamped head but before the token arrives
    is neither before the head nor after the token: no bound applies to it."""
    gen = datetime(2026, 12, 1, 7, 0, 10, tzinfo=UTC)
    proven = [stamps.Proven(record=5, seq=3, head="h", gen_time=gen, accuracy=0)]

    def rec(seq: int, at: datetime) -> object:
        from vulnmark.evidence.chain import Record
        return Record(seq, "x", "import", {}, "", "", at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))

    records = [rec(3, gen - timedelta(seconds=1)), rec(4, gen - timedelta(minutes=5)),
               rec(5, gen + timedelta(seconds=1))]
    assert stamps._windows(records, proven) == []  # type: ignore[arg-type]


# -- a TSA that fails never loses the report ------------------------------------------------

@pytest.mark.parametrize("mode", ["down", "garbage", "reject", "unreachable"])
def test_a_tsa_failure_keeps_the_report_records_the_failure_and_shows_it(
        tmp_path: Path, mode: str) -> None:
    authority = LocalTsa()
    authority.mode = "ok" if mode == "unreachable" else mode
    with serve(authority) as url, smtp_sink() as (port, received):
        if mode == "unreachable":
            url = url.replace(url.split(":")[2].split("/")[0], "9")  # nothing listens
        config = tmp_path / "vulnmark.toml"
        config.write_text(f'recipients = ["mso@example.org"]\n[evidence]\ntsa_url = "{url}"\n'
                          "tsa_timeout = 5\n")
        db = _db(tmp_path)
        with Store.open(f"sqlite:///{db}") as store:
            store.upsert_tickets([make_ticket("VULN-1", labels=("Vulnerability", "HIGH"))],
                                 actor="ann", at=datetime.now(UTC))
        env = {"VULNMARK_SMTP_HOST": "127.0.0.1", "VULNMARK_SMTP_PORT": str(port)}
        base = ["--db", f"sqlite:///{db}", "--config", str(config)]
        sent = CliRunner().invoke(cli, [*base, "report", "daily", "--send"], env=env,
                                  catch_exceptions=False)
        assert sent.exit_code == 0, sent.output
        assert len(received) == 1  # the report was delivered
        assert "TIME-STAMP FAILED for head" in sent.stderr
        failures = [read(r) for r in records_of(db, "timestamp_failure")]
        assert len(failures) == 1 and isinstance(failures[0], TimestampFailed)
        assert failures[0].tsa == url and failures[0].error
        nxt = CliRunner().invoke(cli, [*base, "report", "daily"], env=env,
                                 catch_exceptions=False)
    assert "TIME-STAMP FAILED at" in nxt.stdout and f"not time-stamped by {url}" in nxt.stdout
    result = verify(db)
    assert result.exit_code == 0  # a failure is not tampering; it is shown
    assert "head(s) could not be time-stamped" in result.stdout


def records_of(db: Path, kind: str) -> list[object]:
    with Store.open(f"sqlite:///{db}") as store, store.reading() as conn:
        return [r for r in store_events.iter_events(conn) if r.kind == kind]


def test_the_report_shows_the_last_time_stamp(stamped: Path, tsa: tuple[LocalTsa, str]) -> None:
    with Store.open(f"sqlite:///{stamped}") as store:
        text = daily.DailyJob(store, _config(tsa[1])).run(datetime.now(UTC)).bodies["text"]
    assert "Time-stamped: head" in text and f"by {tsa[1]}" in text


# -- unreadable tokens and certificates ------------------------------------------------------

@pytest.mark.parametrize(("token", "said"), [
    ("bm90IGEgdG9rZW4=", "not a DER RFC 3161 TimeStampToken"),
    ("%%% not base64 %%%", "the token is not base64")])
def test_a_malformed_token_is_named_without_a_traceback(stamped: Path, cert: Path, token: str,
                                                        said: str) -> None:
    first, _ = stamp_records(stamped)
    forge(stamped, first, payload=lambda p: p.update(token=token))
    result = verify(stamped, "--tsa-cert", str(cert))
    assert result.exit_code == 1
    assert f"record {first} (time-stamp of record {first - 1}" in result.stderr
    assert said in result.stderr and "Traceback" not in result.output


def test_a_bad_tsa_certificate_is_a_clear_error(stamped: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
    no_eku = LocalTsa("no EKU", eku=False).write_cert(tmp_path / "no-eku.pem")
    for path, said in ((junk, "not a PEM or DER X.509 certificate"),
                       (no_eku, "not a time-stamping certificate"),
                       (tmp_path / "missing.pem", "No such file")):
        result = verify(stamped, "--tsa-cert", str(path))
        assert result.exit_code == 2, result.output
        assert f"--tsa-cert {path}" in result.stderr and said in result.stderr
        assert "Traceback" not in result.output


def test_the_scheduler_time_stamps_its_run_and_says_so(tmp_path: Path,
                                                       tsa: tuple[LocalTsa, str]) -> None:
    config = tmp_path / "vulnmark.toml"
    config.write_text(f'recipients = ["mso@example.org"]\n[schedule]\ncron = "0 * * * *"\n'
                      f'[evidence]\ntsa_url = "{tsa[1]}"\n')
    db = _db(tmp_path)
    with Store.open(f"sqlite:///{db}") as store:
        store.upsert_tickets([make_ticket("VULN-1", labels=("Vulnerability", "HIGH"))],
                             actor="ann", at=datetime.now(UTC))
    with smtp_sink() as (port, received):
        result = CliRunner().invoke(
            cli, ["--db", f"sqlite:///{db}", "--config", str(config), "schedule", "--once"],
            env={"VULNMARK_SMTP_HOST": "127.0.0.1", "VULNMARK_SMTP_PORT": str(port)},
            catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert len(received) == 1
    assert "time-stamped head" in result.stderr and f"by {tsa[1]}" in result.stderr
    assert len(records_of(db, "timestamp")) == 1


def test_time_stamps_on_either_store(store_url: str, tsa: tuple[LocalTsa, str],
                                     cert: Path) -> None:
    config = _config(tsa[1])
    with Store.open(store_url) as store:
        store.upsert_tickets([make_ticket("VULN-1", labels=("Vulnerability", "HIGH"))],
                             actor="ann", at=datetime.now(UTC))
        for _ in range(2):
            assert isinstance(daily.DailyJob(store, config).run(datetime.now(UTC)).stamp,
                              HeadTimestamped)
    result = CliRunner().invoke(cli, ["--db", store_url, "evidence", "verify", "--tsa-cert",
                                      str(cert)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "2 token(s) verified" in result.stdout


def test_a_resend_time_stamps_the_head_after_its_delivery(tmp_path: Path,
                                                           tsa: tuple[LocalTsa, str]) -> None:
    config = tmp_path / "vulnmark.toml"
    config.write_text(f'recipients = ["mso@example.org"]\n[evidence]\ntsa_url = "{tsa[1]}"\n')
    db = _db(tmp_path)
    with Store.open(f"sqlite:///{db}") as store:
        store.upsert_tickets([make_ticket("VULN-1", labels=("Vulnerability", "HIGH"))],
                             actor="ann", at=datetime.now(UTC))
        run_id = daily.DailyJob(store, _config(tsa[1])).run(datetime.now(UTC)).run_id
    with smtp_sink() as (port, received):
        result = CliRunner().invoke(
            cli, ["--db", f"sqlite:///{db}", "--config", str(config), "report", "resend",
                  str(run_id)],
            env={"VULNMARK_SMTP_HOST": "127.0.0.1", "VULNMARK_SMTP_PORT": str(port)},
            catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert len(received) == 1 and "time-stamped head" in result.stderr
    stamped = [read(r) for r in records_of(db, "timestamp")]
    assert len(stamped) == 2 and stamped[-1].run == run_id  # type: ignore[union-attr]
    assert kinds_of(db)[stamped[-1].seq - 1] == "delivery"  # type: ignore[union-attr]


def kinds_of(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [k for (k,) in conn.execute("SELECT kind FROM events ORDER BY seq")]
