"""The tamper suite of issue 11: for every file of a signed pack, a one-byte change, an added, a
removed and a renamed file, and a forgery with the manifest recomputed (re-signed with another
key, or left unsigned) → named, exit 1; hostile packs (links, duplicate entries, a zip bomb, a
malformed manifest, an emptied events file) → named or refused, never a traceback."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from core_support import make_ticket
from vulnmark.cli import cli
from vulnmark.config.load import Config
from vulnmark.config.presets import preset
from vulnmark.control import daily
from vulnmark.evidence import chain, pack, signing
from vulnmark.store import Store
from vulnmark.triage import outcomes
from vulnmark.triage.reclassify import reclassify

T0 = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
SINCE, UNTIL = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)


def _keys(root: Path, name: str) -> tuple[Path, Path]:
    pair = signing.generate()
    private, public = root / f"{name}.key", root / f"{name}.pub"
    private.write_bytes(pair.private_pem)
    public.write_bytes(pair.public_pem)
    return private, public


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(a signed ZIP pack, the signing public key, another key's private key)."""
    root = tmp_path_factory.mktemp("signed")
    config = Config(preset("etsi-319-401"))
    private, public = _keys(root, "ca")
    mallory, _ = _keys(root, "mallory")
    with Store.open(f"sqlite:///{root / 'x.db'}") as store:
        store.upsert_tickets([make_ticket("VULN-1", labels=("Vulnerability", "CRITICAL"),
                                          created=T0)], at=T0, actor="ann")
        for day in (0, 1):
            daily.DailyJob(store, config).run(T0 + timedelta(days=day, hours=1))
        outcomes.record(store, "VULN-1", "mitigation_plan", text="isolate host", actor="mso",
                        at=T0 + timedelta(days=3), effective=T0 + timedelta(days=1),
                        why="entered after the outage")
        reclassify(store, config.policy, "VULN-1", "HIGH", why="rescored", by="mso",
                   at=T0 + timedelta(days=3))
        out = root / "pack.zip"
        pack.export(store, config, SINCE, UNTIL, T0 + timedelta(days=4), out,
                    signing_key=private)
    return out, public, mallory


def _files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _rezip(files: dict[str, bytes], target: Path) -> Path:
    target.unlink(missing_ok=True)
    with zipfile.ZipFile(target, "w") as z:
        for n, d in files.items():
            z.writestr(n, d)
    return target


def _reseal(files: dict[str, bytes], key: Path | None) -> dict[str, bytes]:
    """A careful forger: every SHA-256 and the manifest digest recomputed, re-signed with the
    forger's own key (or the signature dropped)."""
    manifest = json.loads(files["manifest.json"])
    manifest["files"] = [{"path": n, "sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)}
                         for n, d in sorted(files.items())
                         if n not in ("manifest.json", "manifest.sig")]
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    manifest["manifest_sha256"] = hashlib.sha256(chain.canonical(body).encode()).hexdigest()
    files["manifest.json"] = json.dumps(manifest).encode()
    files.pop("manifest.sig", None)
    if key is not None:
        files["manifest.sig"] = signing.sign(files["manifest.json"], key)[0]
    return files


def _verify(path: Path, public: Path | None, *heads: str) -> tuple[int, str, str]:
    args = ["evidence", "verify", "--pack", str(path)]
    if public is not None:
        args += ["--public-key", str(public)]
    for h in heads:
        args += ["--head", h]
    r = CliRunner().invoke(cli, args, catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def test_a_signed_pack_verifies_with_its_key_and_only_with_it(signed: tuple[Path, Path, Path],
                                                            tmp_path: Path) -> None:
    path, public, mallory = signed
    code, out, _ = _verify(path, public)
    assert code == 0 and "pack OK, signed by key" in out
    # the backdated outcome of the pack is shown, with its gap and reason
    assert "BACKDATED: 1 change(s) entered after they took effect" in out
    assert "(outcome VULN-1): claims 2026-11-03T07:00:00Z" in out
    assert "entered after the outage" in out
    code, out, _ = _verify(path, None)
    assert code == 4 and "unsigned: integrity not proven" in out and "BACKDATED: 1" in out
    forged = _rezip(_reseal(_files(path), mallory), tmp_path / "m.zip")
    code, _, err = _verify(forged, public)
    assert code == 1 and "manifest.sig: signed with another key" in err


def test_every_file_changed_added_removed_renamed_or_forged_is_named(
        signed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    path, public, mallory = signed
    original = _files(path)
    assert len(original) > 15
    target = tmp_path / "t.zip"
    for name in sorted(original):
        files = dict(original)
        data = bytearray(files[name])
        data[len(data) // 2] ^= 0x01  # one byte
        files[name] = bytes(data)
        code, _, err = _verify(_rezip(files, target), public)
        assert code == 1 and name in err, (name, err)
        files = dict(original)
        del files[name]
        code, _, err = _verify(_rezip(files, target), public)
        assert code == 1 and name in err, ("removed", name, err)
        files = dict(original)
        files[name + ".renamed"] = files.pop(name)
        code, _, err = _verify(_rezip(files, target), public)
        assert code == 1 and name in err, ("renamed", name, err)
    files = dict(original)
    files["reports/extra.txt"] = b"added"
    code, _, err = _verify(_rezip(files, target), public)
    assert code == 1 and "reports/extra.txt: not listed in the manifest (added)" in err


@pytest.mark.parametrize("name", ["outcomes.csv", "runs.csv", "deliveries.csv",
                                  "reclassifications.csv", "reports/run-000001.txt",
                                  "reports/run-000001.html", "reports/run-000002.json"])
def test_a_forgery_with_the_manifest_recomputed_is_named_even_unsigned(
        signed: tuple[Path, Path, Path], tmp_path: Path, name: str) -> None:
    path, public, mallory = signed
    files = _files(path)
    text = files[name].decode()
    # the newcomer's forgery: a backdated plan, [late] made [met], a failed run delivered
    forged = text.replace("2026-11-03", "2026-11-02").replace("late", "met ")
    forged = forged.replace("not_sent", "delivered") if forged == text else forged
    files[name] = (forged if forged != text else text + " ").encode()
    for key in (None, mallory):
        resealed = _rezip(_reseal(dict(files), key), tmp_path / "f.zip")
        code, _, err = _verify(resealed, None)
        assert code == 1 and name in err, (name, key, err)


@pytest.mark.parametrize(("name", "old", "new"), [
    ("control_days.csv", "not_sent,2,", "not_sent,3,"),
    ("control_days.csv", ",missed,,", ",delivered,,"),
    ("metrics.csv", "1,1,72.0", "1,1,12.0"),
    ("metrics.json", '"classify_hours_mean": 72.0', '"classify_hours_mean": 12.0'),
    ("index.html", "<td>72.0</td>", "<td>12.0</td>"),
    ("index.html", "2 of 4 due runs were missed", "0 of 4 due runs were missed"),
    ("charts/time_to_classify.svg", ">72", ">12"),
    ("charts/control_days.svg", "2026-11-04: missed", "2026-11-04: delivered"),
    ("charts/within_deadline.svg", ">100%", ">90%"),
    ("label_changes.csv", "2026-11-05T07", "2026-10-05T07"),
    ("metrics_basis.jsonl", '"outcome_at": "2026-11-03', '"outcome_at": "2026-11-04'),
    ("metrics_basis.jsonl", '"backdated_why": "entered after the outage"',
     '"backdated_why": null'),
])
def test_one_number_changed_in_a_summary_file_is_named_even_resealed_unsigned(
        signed: tuple[Path, Path, Path], tmp_path: Path, name: str, old: str, new: str) -> None:
    """Control days, metrics, charts and the index page are recomputed by verify from the
    records, the metrics basis and the manifest: one number changed and the manifest
    recomputed (no signature to catch it) → exit 1 naming the file."""
    path, _, _ = signed
    files = _files(path)
    assert files[name].decode().count(old) >= 1, (name, old)
    files[name] = files[name].decode().replace(old, new, 1).encode()
    code, _, err = _verify(_rezip(_reseal(files, None), tmp_path / "n.zip"), None)
    assert code == 1 and f"{name}: " in err, (name, err)


def test_a_head_from_a_delivered_report_anchors_the_pack(signed: tuple[Path, Path, Path],
                                                        tmp_path: Path) -> None:
    path, public, _ = signed
    files = _files(path)
    records = [json.loads(line) for line in files["evidence/events.jsonl"].splitlines()]
    code, _, _ = _verify(path, public, records[1]["hash"][:16], records[-1]["hash"])
    assert code == 0
    code, _, err = _verify(path, public, "ab" * 8)
    assert code == 1 and "--head abababababababab: not the hash of any record" in err
    # the tail cut and the pack resealed by the forger: the emailed head is gone
    files["evidence/events.jsonl"] = b"".join(
        line + b"\n" for line in files["evidence/events.jsonl"].splitlines()[:-2])
    manifest = json.loads(files["manifest.json"])
    manifest["chain"]["head"] = records[-3]["hash"]
    manifest["chain"]["last_seq"] = records[-3]["seq"]
    files["manifest.json"] = json.dumps(manifest).encode()
    cut = _rezip(_reseal(files, None), tmp_path / "cut.zip")
    code, _, err = _verify(cut, None, records[-1]["hash"][:16])
    assert code == 1 and "--head" in err
    code, _, err = _verify(_rezip({}, tmp_path / "z.zip"), None, "ab" * 8)
    assert code == 1


def test_an_emptied_events_file_is_named(signed: tuple[Path, Path, Path],
                                         tmp_path: Path) -> None:
    path, public, _ = signed
    files = _files(path)
    files["evidence/events.jsonl"] = b""
    code, _, err = _verify(_rezip(_reseal(files, None), tmp_path / "e.zip"), None)
    assert code == 1 and "evidence/events.jsonl" in err


def test_a_symlink_in_a_directory_pack_is_named_and_not_followed(
        signed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    path, public, _ = signed
    root = tmp_path / "dir"
    for name, data in _files(path).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    assert _verify(root, public)[0] == 0
    secret = tmp_path / "secret.txt"
    secret.write_text("root:$6$hash")
    os.symlink(secret, root / "shadow")
    code, out, err = _verify(root, public)
    assert code == 1 and "shadow: a symbolic link (not followed" in err
    assert "$6$" not in out + err
    (root / "shadow").unlink()
    (root / "runs.csv").unlink()
    os.symlink(secret, root / "runs.csv")
    code, _, err = _verify(root, public)
    assert code == 1 and "runs.csv: a symbolic link" in err


def test_a_duplicate_zip_entry_is_named(signed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    path, public, _ = signed
    target = tmp_path / "d.zip"
    with zipfile.ZipFile(target, "w") as z:
        for name, data in _files(path).items():
            z.writestr(name, data)
        with pytest.warns(UserWarning):
            z.writestr("outcomes.csv", b"forged")
    code, _, err = _verify(target, public)
    assert code == 1 and "outcomes.csv: appears twice in the ZIP" in err


@pytest.mark.parametrize("name", ["../evil", "/etc/passwd", "a\\b", "ok/../../x"])
def test_unsafe_names_are_named(tmp_path: Path, name: str) -> None:
    target = _rezip({name: b"x", "manifest.json": b"{}"}, tmp_path / "u.zip")
    code, _, err = _verify(target, None)
    assert code == 1 and "unsafe name" in err


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    target = tmp_path / "bomb.zip"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("manifest.json", "w", force_zip64=True) as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(300):  # 300 MiB of zeros: about 0.3 MB compressed
                f.write(chunk)
    assert target.stat().st_size < 1_000_000
    code, _, err = _verify(target, None)
    assert code == 2 and "zip bomb" in err


@pytest.mark.parametrize("manifest", [
    b"[]", b"{\"files\": 3}", b"{\"files\": [1]}", b"{\"files\": [{\"path\": 1}]}",
    b"{\"files\": [], \"chain\": []}", b"{\"files\": [], \"chain\": {\"head\": 5}}", b"\xff\xfe",
    b"{\"files\": [{\"path\": \"a\", \"sha256\": \"x\"}, {\"path\": \"a\", \"sha256\": \"x\"}]}",
])
def test_a_malformed_manifest_is_named_without_a_traceback(tmp_path: Path,
                                                           manifest: bytes) -> None:
    code, out, err = _verify(_rezip({"manifest.json": manifest}, tmp_path / "m.zip"), None)
    assert code == 1 and "manifest.json:" in err and "Traceback" not in out + err


def test_keygen_writes_a_private_pair_and_never_overwrites(tmp_path: Path) -> None:
    prefix = tmp_path / "k"
    r = CliRunner().invoke(cli, ["evidence", "keygen", "--output", str(prefix)])
    assert r.exit_code == 0 and "key id" in r.stdout
    for ext in ("key", "pub"):
        assert (tmp_path / f"k.{ext}").stat().st_mode & 0o777 == 0o600
    r = CliRunner().invoke(cli, ["evidence", "keygen", "--output", str(prefix)])
    assert r.exit_code == 2 and "exists" in r.stderr


def test_a_bad_signing_key_stops_the_export(tmp_path: Path) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text("not a key")
    with Store.open(f"sqlite:///{tmp_path / 'x.db'}") as store:
        with pytest.raises(Exception, match="not an unencrypted PEM private key"):
            pack.export(store, Config(preset("etsi-319-401")), SINCE, UNTIL, T0,
                        tmp_path / "p.zip", signing_key=bad)
    assert not (tmp_path / "p.zip").exists()


def test_label_changes_csv_of_a_pack_exported_before_recorded_at_still_verifies() -> None:
    """Packs exported before the ``recorded_at`` column (five columns, dated by ``at``) keep
    verifying; a row outside the period is still named in either shape."""
    from vulnmark.evidence.pack.derived import label_change_problems

    since, until = "2026-11-01T00:00:00.000000Z", "2026-12-01T00:00:00.000000Z"
    old = (b"ticket,at,by,added,removed\r\n"
           b"AMQ-1,2026-11-05T07:00:00.000000Z,import,[],['HIGH']\r\n")
    new = (b"ticket,recorded_at,at,by,added,removed\r\n"
           b"AMQ-1,2026-11-05T07:00:00.000000Z,2010-02-24T03:53:21.000000Z,import,[],"
           b"['HIGH']\r\n")
    assert label_change_problems(old, since, until) == (1, [])
    assert label_change_problems(new, since, until) == (1, [])
    moved = new.replace(b"2026-11-05", b"2026-10-05")
    assert "outside the period" in label_change_problems(moved, since, until)[1][0]
