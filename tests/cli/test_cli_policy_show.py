"""``policy show`` is the effective configuration (newcomer report m3): the SMTP settings a
send would use, environment included, each with its origin; never the password."""

from __future__ import annotations

import json
from pathlib import Path

from core_support import Cli

ENV = {"VULNMARK_SMTP_HOST": "mail.ca.example", "VULNMARK_SMTP_PORT": "587",
       "VULNMARK_SMTP_USER": "alice", "VULNMARK_SMTP_PASSWORD": "S3cr3t-pw!"}


def test_policy_show_has_the_smtp_values_of_the_environment_and_their_origin(
        vm: Cli, tmp_path: Path) -> None:
    cfg = tmp_path / "vulnmark.toml"
    cfg.write_text('[smtp]\ntls = "starttls"\nhost = "file.example"\n', encoding="utf-8")
    out = vm.ok("policy", "show", config=cfg, env=ENV).stdout
    assert "smtp:                 mail.ca.example:587 tls=starttls" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert lines["host"].endswith("env VULNMARK_SMTP_HOST")
    assert lines["port"].endswith("env VULNMARK_SMTP_PORT")
    assert lines["tls"].endswith("vulnmark.toml") and "starttls" in lines["tls"]
    assert lines["user"].endswith("env VULNMARK_SMTP_USER") and "alice" in lines["user"]
    assert lines["from"].endswith("default")
    assert "(set, not shown)" in lines["password"]
    assert "S3cr3t" not in out

    data = json.loads(vm.ok("policy", "show", "--format", "json", config=cfg, env=ENV).stdout)
    assert data["smtp"]["host"] == "mail.ca.example" and data["smtp"]["port"] == 587
    assert data["smtp_origin"]["host"] == "env VULNMARK_SMTP_HOST"
    assert data["smtp_origin"]["password"] == "env VULNMARK_SMTP_PASSWORD"
    assert "S3cr3t" not in json.dumps(data)


def test_policy_show_without_environment_says_default(vm: Cli) -> None:
    out = vm.ok("policy", "show", env={"VULNMARK_SMTP_HOST": None}).stdout  # type: ignore[dict-item]
    assert "smtp:                 localhost:25 tls=none" in out
    assert "login without TLS: no" in out
    assert any(line.split()[:1] == ["password"] and line.endswith("not set")
               for line in out.splitlines())


def test_a_bad_smtp_variable_is_a_clear_error(vm: Cli) -> None:
    result = vm("policy", "show", env={"VULNMARK_SMTP_PORT": "99999"})
    assert result.exit_code == 2 and "VULNMARK_SMTP_PORT" in result.stderr
