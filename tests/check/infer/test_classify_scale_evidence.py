"""The evidence of a suggestion names the scale a class word was read on (issue 14, "Vendor
scales as data"), through ``vulnmark check --format json`` on a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core_support import Cli

EVIDENCE_KEYS = {"field", "index", "text"}
TICKETS = [
    ("S-MS", "Spoofing in the RA portal", "Microsoft rated important this advisory."),
    ("S-RH", "Kernel flaw on the OCSP hosts", "Red Hat: this issue is rated Important."),
    ("S-VULDB", "Acme 1.0 overflow",
     "A vulnerability was found in Acme 1.0. It has been rated as problematic."),
    ("S-HU", "HSM admin lockout", "A besorolás: magas."),
    ("S-HIGH", "CRL parser overflow", "The security team rated high this issue."),
    ("S-NONE", "Log noise", "CVSS severity: none."),
]


def _suggestions(vm: Cli, tmp_path: Path, config: Path | None = None) -> dict[str, Any]:
    rows = [{"key": key, "title": title, "description": text, "labels": ["Sérülékenység"],
             "created": "2026-11-26T00:00:00Z"} for key, title, text in TICKETS]
    path = tmp_path / "scales.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    vm.ok("import", str(path))
    result = vm("check", "--format", "json", "--kind", "unclassified", config=config)
    assert result.exit_code == 0, result.stderr
    out = {}
    for f in json.loads(result.stdout)["findings"]:
        for e in f["evidence"]:
            assert set(e) == EVIDENCE_KEYS  # the DESIGN.md contract: no new key
        out[f["ticket"]] = f
    return out


def test_the_evidence_names_the_vendor_scale(vm: Cli, tmp_path: Path) -> None:
    found = _suggestions(vm, tmp_path)
    ms, rh, vuldb = found["S-MS"], found["S-RH"], found["S-VULDB"]
    assert ms["suggested"] == rh["suggested"] == "HIGH"
    assert ms["evidence"][0] == {
        "field": "description", "index": None,
        "text": "Microsoft rated important this advisory."
                " [scale: Microsoft/Red Hat, important = HIGH]"}
    assert rh["evidence"][0]["text"].endswith(" [scale: Microsoft/Red Hat, important = HIGH]")
    assert vuldb["suggested"] == "MEDIUM"
    assert vuldb["evidence"][0]["text"] == (
        "It has been rated as problematic. [scale: VulDB, problematic = MEDIUM]")
    assert found["S-HU"]["suggested"] == "HIGH"
    assert found["S-HU"]["evidence"][0]["text"].endswith(" [scale: Hungarian, magas = HIGH]")
    # a CVSS word that is not a class name says so; a class's own name needs no note
    assert found["S-NONE"]["suggested"] == "INFORMATIVE"
    assert found["S-NONE"]["evidence"][0]["text"].endswith(
        " [scale: CVSS qualitative, none = INFORMATIVE]")
    high = found["S-HIGH"]
    assert high["suggested"] == "HIGH"
    assert high["evidence"][0]["text"] == "The security team rated high this issue."


def test_a_policy_override_is_named_as_such(vm: Cli, tmp_path: Path) -> None:
    cfg = tmp_path / "vulnmark.toml"
    cfg.write_text('[inference]\nscales = { problematic = "LOW", high = "CRITICAL" }\n',
                   encoding="utf-8")
    found = _suggestions(vm, tmp_path, cfg)
    assert found["S-VULDB"]["suggested"] == "LOW"
    assert found["S-VULDB"]["evidence"][0]["text"] == (
        "It has been rated as problematic. [scale: inference.scales, problematic = LOW]")
    # the policy reads even a class's own name otherwise: that is said too
    assert found["S-HIGH"]["suggested"] == "CRITICAL"
    assert found["S-HIGH"]["evidence"][0]["text"].endswith(
        " [scale: inference.scales, high = CRITICAL]")
    # the words the policy leaves alone keep the built-in scale
    assert found["S-MS"]["evidence"][0]["text"].endswith(
        " [scale: Microsoft/Red Hat, important = HIGH]")
