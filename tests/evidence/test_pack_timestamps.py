"""Time-stamp tokens in the auditor's pack: listed in the (signed) manifest as DER files,
derived from the records, proven offline by ``evidence verify --pack P --tsa-cert C``; and the
tokens interoperate with OpenSSL both ways (``openssl ts``), a second implementation of RFC
3161."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tsa_support import LocalTsa, stamp_records, write_two_runs
from vulnmark.cli import cli
from vulnmark.errors import TimestampError
from vulnmark.evidence import timestamp
from vulnmark.evidence.pack.verify import manifest_digest

OPENSSL = shutil.which("openssl")


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def exported(tmp_path: Path, tsa: tuple[LocalTsa, str]) -> tuple[Path, Path, Path, Path]:
    """(db, signed ZIP pack, public key, TSA certificate) of a store with two stamped runs."""
    db = tmp_path / "store.db"
    write_two_runs(db, tsa[1])
    keys = run("evidence", "keygen", "--output", str(tmp_path / "k"))
    assert keys.exit_code == 0, keys.output
    today = datetime.now(UTC).date()
    out = tmp_path / "pack.zip"
    result = run("--db", f"sqlite:///{db}", "evidence", "export", "--from",
                 str(today - timedelta(days=1)), "--to", str(today + timedelta(days=1)),
                 "--output", str(out), env={"VULNMARK_SIGNING_KEY": str(tmp_path / "k.key")})
    assert result.exit_code == 0, result.output
    return db, out, tmp_path / "k.pub", tsa[0].write_cert(tmp_path / "tsa.pem")


def token_files(pack: Path) -> list[str]:
    with zipfile.ZipFile(pack) as z:
        return sorted(n for n in z.namelist() if n.startswith("evidence/timestamps/"))


def test_the_pack_carries_each_token_in_its_signed_manifest(
        exported: tuple[Path, Path, Path, Path]) -> None:
    db, pack, pub, cert = exported
    names = token_files(pack)
    assert names == [f"evidence/timestamps/record-{s:06d}.tsr" for s in stamp_records(db)]
    with zipfile.ZipFile(pack) as z:
        listed = {f["path"] for f in json.loads(z.read("manifest.json"))["files"]}
        tokens = [z.read(n) for n in names]
    assert set(names) <= listed
    for der in tokens:
        timestamp.check(der, timestamp.load_certificate(cert))
    result = run("evidence", "verify", "--pack", str(pack), "--public-key", str(pub),
                 "--tsa-cert", str(cert))
    assert result.exit_code == 0, result.output
    assert "pack OK, signed by key" in result.stdout
    assert "2 token(s) verified against CN=vulnmark test TSA" in result.stdout


def test_without_the_tsa_certificate_the_pack_s_tokens_are_unchecked(
        exported: tuple[Path, Path, Path, Path]) -> None:
    _, pack, pub, _ = exported
    result = run("evidence", "verify", "--pack", str(pack), "--public-key", str(pub))
    assert result.exit_code == 0
    assert "2 token(s) present but NOT checked" in result.stdout


def test_another_tsa_s_certificate_refuses_the_pack_s_tokens(
        exported: tuple[Path, Path, Path, Path], tmp_path: Path) -> None:
    db, pack, pub, _ = exported
    other = LocalTsa("another TSA").write_cert(tmp_path / "other.pem")
    result = run("evidence", "verify", "--pack", str(pack), "--public-key", str(pub),
                 "--tsa-cert", str(other))
    assert result.exit_code == 1
    for seq in stamp_records(db):
        assert f"pack BROKEN: record {seq} (time-stamp of record {seq - 1}" in result.stderr
    assert "signed by another TSA certificate" in result.stderr


def _reseal(folder: Path) -> None:
    """A forger's pack: the manifest recomputed over the files as they now are (unsigned)."""
    import hashlib

    (folder / "manifest.sig").unlink(missing_ok=True)
    manifest = json.loads((folder / "manifest.json").read_text())
    files = sorted(p for p in folder.rglob("*") if p.is_file()
                   and p.name not in ("manifest.json", "manifest.sig"))
    manifest["files"] = [{"path": p.relative_to(folder).as_posix(),
                          "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
                          "bytes": p.stat().st_size} for p in files]
    manifest["manifest_sha256"] = manifest_digest(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("change", ["swapped", "garbage", "removed", "added"])
def test_a_token_file_changed_even_with_a_recomputed_manifest_is_named(
        exported: tuple[Path, Path, Path, Path], tmp_path: Path, change: str) -> None:
    db, pack, _, cert = exported
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(pack) as z:
        z.extractall(folder)
    first, second = (folder / n for n in token_files(pack))
    if change == "swapped":
        first.write_bytes(second.read_bytes())
    elif change == "garbage":
        first.write_bytes(b"\x30\x03\x02\x01\x00")
    elif change == "removed":
        first.unlink()
    else:
        (folder / "evidence/timestamps/record-000999.tsr").write_bytes(second.read_bytes())
    _reseal(folder)
    result = run("evidence", "verify", "--pack", str(folder), "--tsa-cert", str(cert))
    assert result.exit_code == 1, result.output
    named = "record-000999.tsr" if change == "added" else first.name
    assert f"evidence/timestamps/{named}" in result.stderr
    assert {"swapped": "differs from what the evidence records give",
            "garbage": "differs from what the evidence records give",
            "removed": "missing (its evidence record carries a time-stamp token)",
            "added": "no evidence record carries this time-stamp token"}[change] in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command")
def test_openssl_verifies_the_pack_s_tokens(exported: tuple[Path, Path, Path, Path],
                                            tmp_path: Path) -> None:
    db, pack, _, cert = exported
    with zipfile.ZipFile(pack) as z:
        events = [json.loads(line) for line in z.read("evidence/events.jsonl").splitlines()]
        z.extractall(tmp_path / "x")
    for e in events:
        if e["kind"] != "timestamp":
            continue
        token = tmp_path / "x" / f"evidence/timestamps/record-{e['seq']:06d}.tsr"
        ok = subprocess.run([str(OPENSSL), "ts", "-verify", "-digest", e["payload"]["head"],
                             "-in", str(token), "-token_in", "-CAfile", str(cert)],
                            capture_output=True, text=True, check=False)
        assert ok.returncode == 0 and "Verification: OK" in ok.stdout, ok.stderr


@pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command")
def test_a_token_openssl_made_is_proven_and_another_certificate_refused(tmp_path: Path) -> None:
    """OpenSSL's own TSA (RSA, accuracy, TSA name, ESS signing certificate v2) as the other
    implementation: vulnmark's check accepts its token and refuses it against another TSA."""
    conf = tmp_path / "tsa.cnf"
    conf.write_text(f"""[ tsa ]
default_tsa = t
[ t ]
serial = {tmp_path}/serial
crypto_device = builtin
signer_cert = {tmp_path}/tsa.crt
certs = {tmp_path}/tsa.crt
signer_key = {tmp_path}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
[ req ]
distinguished_name = dn
[ dn ]
[ v3 ]
extendedKeyUsage = critical,timeStamping
basicConstraints = CA:FALSE
subjectKeyIdentifier = hash
""")
    (tmp_path / "serial").write_text("01\n")
    head = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
    steps = [
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{tmp_path}/tsa.key",
         "-out", f"{tmp_path}/tsa.crt", "-subj", "/CN=OpenSSL TSA", "-days", "30",
         "-config", str(conf), "-extensions", "v3"],
        ["ts", "-query", "-digest", head, "-sha256", "-cert", "-out", f"{tmp_path}/q.tsq"],
        ["ts", "-reply", "-config", str(conf), "-queryfile", f"{tmp_path}/q.tsq",
         "-token_out", "-out", f"{tmp_path}/tok.der"],
    ]
    for step in steps:
        done = subprocess.run([str(OPENSSL), *step], capture_output=True, text=True,
                              check=False)
        assert done.returncode == 0, done.stderr
    token = (tmp_path / "tok.der").read_bytes()
    proven = timestamp.check(token, timestamp.load_certificate(tmp_path / "tsa.crt"))
    assert proven.imprint == head and proven.accuracy == 1.0
    with pytest.raises(TimestampError, match="signed by another TSA certificate"):
        timestamp.check(token, timestamp.load_certificate(
            LocalTsa().write_cert(tmp_path / "other.pem")))
