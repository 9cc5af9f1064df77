"""A real RFC 3161 Time-Stamp Authority on 127.0.0.1 for the tests (and the benchmark).

Built with ``cryptography`` (keys, a self-signed certificate with the critical timeStamping
extended key usage, the signature) and ``asn1crypto`` (TimeStampReq, TSTInfo, CMS SignedData,
TimeStampResp), served by ``http.server`` in a thread: the client speaks HTTP to it exactly as
to a public TSA. ``mode`` makes it misbehave: ``down`` (HTTP 503), ``garbage`` (a reply that
is no TimeStampResp), ``reject`` (status rejection). ``gen_time`` overrides its clock.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from core_support import make_ticket
from vulnmark.config.evidence import EvidenceSettings
from vulnmark.config.load import Config
from vulnmark.config.presets import preset
from vulnmark.control import daily
from vulnmark.evidence.events import HeadTimestamped, TicketsImported
from vulnmark.store import Store


class LocalTsa:
    """A TSA: its key and certificate, and how it answers a request."""

    def __init__(self, name: str = "vulnmark test TSA", *, key: str = "ec",
                 eku: bool = True) -> None:
        self.key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = (
            ec.generate_private_key(ec.SECP256R1()) if key == "ec"
            else rsa.generate_private_key(public_exponent=65537, key_size=2048))
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.now(UTC)
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(days=400))
                   .not_valid_after(now + timedelta(days=400)))
        if eku:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        self.cert = builder.sign(self.key, hashes.SHA256())
        self.cert_der = self.cert.public_bytes(serialization.Encoding.DER)
        self.mode = "ok"
        self.gen_time: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.requests = 0
        self.seconds = 0.0
        """Time spent making replies (the TSA's own work, not the client's)."""
        self._serial = 0

    def write_cert(self, path: Path) -> Path:
        path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        return path

    def token(self, imprint: bytes, *, nonce: int | None = None, with_cert: bool = True,
              algorithm: str = "sha256") -> bytes:
        """A DER TimeStampToken over ``imprint`` (the hashed message) at ``gen_time()``."""
        self._serial += 1
        info = tsp.TSTInfo({
            "version": "v1", "policy": "1.3.6.1.4.1.99999.1",
            "message_imprint": {"hash_algorithm": {"algorithm": algorithm},
                                "hashed_message": imprint},
            "serial_number": self._serial,
            "gen_time": self.gen_time().replace(microsecond=0),
            "nonce": nonce,
        })
        attrs = cms.CMSAttributes([
            {"type": "content_type", "values": ["tst_info"]},
            {"type": "message_digest", "values": [hashlib.sha256(info.dump()).digest()]},
            {"type": "signing_certificate_v2",
             "values": [{"certs": [{"cert_hash": hashlib.sha256(self.cert_der).digest()}]}]},
        ])
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            signature = self.key.sign(attrs.dump(), ec.ECDSA(hashes.SHA256()))
            sig_algo = "sha256_ecdsa"
        else:
            signature = self.key.sign(attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
            sig_algo = "sha256_rsa"
        mine = asn1_x509.Certificate.load(self.cert_der)
        signer = cms.SignerInfo({
            "version": "v1",
            "sid": cms.SignerIdentifier({"issuer_and_serial_number": {
                "issuer": mine.issuer, "serial_number": mine.serial_number}}),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": attrs,
            "signature_algorithm": {"algorithm": sig_algo},
            "signature": signature,
        })
        signed = cms.SignedData({
            "version": "v3", "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {"content_type": "tst_info", "content": info},
            "certificates": [mine] if with_cert else [],
            "signer_infos": [signer],
        })
        return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump())

    def reply(self, body: bytes) -> tuple[int, bytes]:
        """(HTTP status, body) for a request ``body``."""
        started = time.perf_counter()
        try:
            return self._reply(body)
        finally:
            self.seconds += time.perf_counter() - started

    def _reply(self, body: bytes) -> tuple[int, bytes]:
        self.requests += 1
        if self.mode == "down":
            return 503, b"service unavailable"
        if self.mode == "garbage":
            return 200, b"\x30\x03\x02\x01"
        if self.mode == "reject":
            return 200, bytes(tsp.TimeStampResp({"status": {
                "status": "rejection", "status_string": ["policy not supported"]}}).dump())
        req = tsp.TimeStampReq.load(body)
        imprint = req["message_imprint"]
        token = self.token(bytes(imprint["hashed_message"].native),
                           nonce=req["nonce"].native, with_cert=bool(req["cert_req"].native),
                           algorithm=imprint["hash_algorithm"]["algorithm"].native)
        resp = tsp.TimeStampResp({"status": {"status": "granted"},
                                  "time_stamp_token": cms.ContentInfo.load(token)})
        return 200, bytes(resp.dump())


@contextmanager
def serve(tsa: LocalTsa) -> Iterator[str]:
    """Serve ``tsa`` on 127.0.0.1 over HTTP; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if self.headers.get("Content-Type") != "application/timestamp-query":
                status, out, kind = 415, b"expected application/timestamp-query", "text/plain"
            else:
                status, out = tsa.reply(body)
                kind = "application/timestamp-reply" if status == 200 else "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    finally:
        server.shutdown()
        server.server_close()


# -- stores with time-stamped runs -------------------------------------------------------------

def write_two_runs(db: Path, url: str, between: Callable[[Store], None] | None = None) -> None:
    """Two report runs on a new SQLite store, each head time-stamped by the TSA at ``url``, and
    ``between`` them another record (by default an import): 1 import, 2 policy, 3 run,
    4 timestamp, 5 (between), 6 run, 7 timestamp."""
    config = Config(preset("etsi-319-401"), evidence=EvidenceSettings(tsa_url=url))
    with Store.open(f"sqlite:///{db}") as store:
        now = datetime.now(UTC)
        store.upsert_tickets([make_ticket("VULN-1", labels=("Vulnerability", "CRITICAL"),
                                          created=now - timedelta(days=1))],
                             at=now, actor="ann", event=TicketsImported("a.json"))
        first = daily.DailyJob(store, config).run(now)
        assert isinstance(first.stamp, HeadTimestamped), first.stamp
        (between or (lambda s: s.record(TicketsImported("b.json"))))(store)
        second = daily.DailyJob(store, config).run(datetime.now(UTC))
        assert isinstance(second.stamp, HeadTimestamped), second.stamp


def kinds(db: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute("SELECT seq, kind FROM events ORDER BY seq"))


def stamp_records(db: Path) -> list[int]:
    """The seq of each ``timestamp`` record."""
    return [s for s, k in kinds(db) if k == "timestamp"]
