"""What signing and RFC 3161 time-stamping add to a daily run and to an evidence export.

On an N-ticket embedded SQLite store (default 100,000, generated as in ``metrics_scale.py``)
with a real TSA on 127.0.0.1 (``tests/tsa_support.py``: HTTP, ECDSA P-256 tokens), measured in
one process:

* daily run (``DailyJob.run``: check, report in three formats, stored, recorded) without a TSA
  and with ``evidence.tsa_url`` set, alternately, ``--runs`` times each; the time-stamp step
  alone (request, token check, record) ``--stamps`` times; the bytes a token adds to the store;
* evidence export of the period (ZIP) from the store with time-stamped runs and from an
  identical one without: unsigned and signed (Ed25519), time and size; the time-stamped pack
  is then verified with ``--tsa-cert`` (and the signature) as an auditor would.

Each timing is the best of its repeats; the costs are the differences and ratios of numbers
measured in this one run.

    .venv/bin/python benchmarks/evidence_cost.py --tickets 100000
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "tests")]

from metrics_scale import START, generate  # noqa: E402
from tsa_support import LocalTsa, serve  # noqa: E402
from vulnmark._time import stored  # noqa: E402
from vulnmark.config.evidence import EvidenceSettings  # noqa: E402
from vulnmark.config.load import Config  # noqa: E402
from vulnmark.config.presets import preset  # noqa: E402
from vulnmark.control import daily  # noqa: E402
from vulnmark.evidence import pack, signing, timestamp  # noqa: E402
from vulnmark.evidence import tsa as tsa_client  # noqa: E402
from vulnmark.evidence.events import HeadTimestamped  # noqa: E402
from vulnmark.store import Store  # noqa: E402
from vulnmark.store import events as store_events  # noqa: E402


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3, help="daily runs of each kind")
    ap.add_argument("--stamps", type=int, default=50,
                    help="time-stamp steps alone (their tokens go into the packs too)")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="vulnmark-evidence-cost-"))
    plain_db, stamped_db = work / "plain.db", work / "stamped.db"
    t0 = time.perf_counter()
    generate(plain_db, args.tickets)
    print(f"generated {args.tickets:,} tickets in {time.perf_counter() - t0:.1f} s")
    plain = Config(preset("etsi-319-401"))
    with Store.open(f"sqlite:///{plain_db}") as store:  # evaluations brought up to date once
        warm = timed(lambda: daily.DailyJob(store, plain).run(datetime.now(UTC)))
    print(f"first daily run (evaluates every ticket): {warm:.2f} s")
    shutil.copyfile(plain_db, stamped_db)
    os.chmod(stamped_db, 0o600)
    authority = LocalTsa()
    with serve(authority) as url:
        tsa = Config(preset("etsi-319-401"), evidence=EvidenceSettings(tsa_url=url))
        without: list[float] = []
        with_tsa: list[float] = []
        with Store.open(f"sqlite:///{plain_db}") as a, \
                Store.open(f"sqlite:///{stamped_db}") as b:
            for _ in range(args.runs):
                without.append(timed(lambda: daily.DailyJob(a, plain).run(datetime.now(UTC))))
                with_tsa.append(timed(lambda: daily.DailyJob(b, tsa).run(datetime.now(UTC))))
            busy_before = authority.seconds
            asks: list[float] = []
            writes: list[float] = []
            for _ in range(args.stamps):  # stamping.stamp_head, its two halves timed apart
                with b.reading() as conn:
                    head = store_events.last(conn)
                assert head is not None
                t0 = time.perf_counter()
                der = tsa_client.stamp(url, head[1])
                read = timestamp.read(der)
                t1 = time.perf_counter()
                b.record(HeadTimestamped(head[0], head[1], url, base64.b64encode(der).decode(),
                                         stored(read.gen_time) or ""))
                asks.append(t1 - t0)
                writes.append(time.perf_counter() - t1)
            tsa_share = (authority.seconds - busy_before) / args.stamps
            with b.reading() as conn:
                last = list(store_events.of_kind(conn, "timestamp"))[-1]
            token = len(base64.b64decode(last.payload["token"]))
            payload = len(json.dumps(last.payload))
        print()
        print(f"daily run, {args.tickets:,} tickets, best of {args.runs}:")
        lo, hi = min(without), min(with_tsa)
        median = statistics.median
        print(f"  without TSA:           {lo:.3f} s (median {median(without):.3f})")
        print(f"  with evidence.tsa_url: {hi:.3f} s (median {median(with_tsa):.3f})")
        print(f"  added: {hi - lo:+.3f} s = {hi / lo:.3f}x")
        ask, write = statistics.median(asks), statistics.median(writes)
        print(f"  the time-stamp step alone, median of {args.stamps}: asking the TSA "
              f"{ask * 1000:.1f} ms (of which the local TSA's own work, in this process, "
              f"{tsa_share * 1000:.1f} ms), recording the token {write * 1000:.1f} ms")
        print(f"  against the first run of the day (every ticket evaluated, {warm:.2f} s): "
              f"+{(hi - lo) / warm * 100:.2f} %")
        print(f"  per run the store grows by one record: token {token:,} bytes DER, payload "
              f"{payload:,} bytes of JSON (base64 token, head, URL, time)")
        keys = signing.generate()
        key = work / "signing.key"
        key.write_bytes(keys.private_pem)
        pub = work / "signing.pub"
        pub.write_bytes(keys.public_pem)
        cert = authority.write_cert(work / "tsa.pem")
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        since, until = START - timedelta(days=1), today + timedelta(days=2)  # every ticket
        results: dict[tuple[str, bool], tuple[float, int, int]] = {}
        for name, db in (("no time-stamps", plain_db), ("time-stamped", stamped_db)):
            for signed in (False, True):
                out = work / f"{name.replace(' ', '-')}-{'signed' if signed else 'unsigned'}.zip"
                with Store.open(f"sqlite:///{db}") as store:
                    t0 = time.perf_counter()
                    pack.export(store, plain, since, until, datetime.now(UTC), out,
                                signing_key=key if signed else None)
                    took = time.perf_counter() - t0
                with zipfile.ZipFile(out) as z:
                    files = len(z.namelist())
                results[(name, signed)] = (took, out.stat().st_size, files)
        print()
        tokens = args.runs + args.stamps
        print(f"evidence export of the period of all {args.tickets:,} tickets (ZIP; the "
              f"time-stamped store holds {tokens} tokens):")
        base_t, base_s, _ = results[("no time-stamps", False)]
        for (name, signed), (took, size, files) in results.items():
            print(f"  {name:15} {'signed  ' if signed else 'unsigned'}: {took:.3f} s "
                  f"({took / base_t:.3f}x), {size:,} bytes ({size - base_s:+,}), {files} files")
        stamped_size = results[("time-stamped", False)][1]
        per_token = (stamped_size - base_s) / tokens
        print(f"  per token in the pack: {per_token:,.0f} bytes compressed (DER file + its "
              f"record in events.jsonl); a year of daily runs: ~{per_token * 365 / 1024:,.0f} KiB"
              " (extrapolated)")
        out = work / "time-stamped-signed.zip"
        public = signing.load_public(pub)
        tsa_cert = timestamp.load_certificate(cert)
        check_t = timed(lambda: pack.verify(out, public_key=public, tsa=tsa_cert))
        plain_t = timed(lambda: pack.verify(out, public_key=public))
        checked = pack.verify(out, public_key=public, tsa=tsa_cert)
        assert checked.ok and checked.time_stamps is not None, checked.problems
        print(f"  verify --pack --public-key: {plain_t:.3f} s; with --tsa-cert "
              f"({len(checked.time_stamps.proven)} tokens proven): {check_t:.3f} s "
              f"({(check_t - plain_t) * 1000 / max(len(checked.time_stamps.proven), 1):.1f} "
              "ms a token)")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
