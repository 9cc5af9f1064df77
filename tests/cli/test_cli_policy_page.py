"""``vulnmark policy page`` through the CLI: formats, languages, the private file it writes,
the date the policy took effect (from the evidence log) and the [publish] table's errors."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from core_support import Cli


def test_page_defaults_to_english_markdown_without_a_store(tmp_path: Path) -> None:
    vm = Cli(f"sqlite:///{tmp_path / 'none.db'}", tmp_path)
    out = vm.ok("policy", "page").stdout
    assert out.startswith("# Marking vulnerability tickets\n")
    assert "not recorded yet" in out
    assert not (tmp_path / "none.db").exists()  # a read command creates no store


def test_page_to_a_private_file_in_each_format(vm: Cli, tmp_path: Path) -> None:
    for fmt, start in (("md", "# "), ("html", "<!DOCTYPE html>"), ("confluence", "<p>")):
        target = tmp_path / f"page.{fmt}"
        result = vm.ok("policy", "page", "--format", fmt, "-o", str(target))
        assert target.read_text(encoding="utf-8").startswith(start)
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert str(target) in result.stderr and result.stdout == ""


def test_the_page_says_since_when_the_policy_is_in_force(vm: Cli) -> None:
    vm.ok("init", "--force")
    vm.ok("check")  # records the policy (policy_change) at --now
    out = vm.ok("policy", "page", "--lang", "fr").stdout
    assert "| En vigueur depuis | 2026-11-27 07:00 (UTC) |" in out
    assert out.startswith("# Marquage des tickets de vulnérabilité\n")


def test_the_language_defaults_to_publish_lang(vm: Cli, tmp_path: Path) -> None:
    config = tmp_path / "vulnmark.toml"
    config.write_text('[publish]\nurl = "https://example.atlassian.net"\nspace = "SEC"\n'
                      'lang = "hu"\n', encoding="utf-8")
    assert vm.ok("policy", "page", config=config).stdout.startswith(
        "# Sérülékenységi jegyek jelölése")
    assert vm.ok("policy", "page", "--lang", "de", config=config).stdout.startswith(
        "# Kennzeichnung von Schwachstellentickets")


@pytest.mark.parametrize(("table", "message"), [
    ('url = "https://x.atlassian.net"\nspace = "SEC"\ntoken = "s3cret"',
     "publish.token: credentials come only from the environment"),
    ('space = "SEC"', "publish.url: the Confluence site is needed"),
    ('url = "http://wiki.example.org"\nspace = "SEC"', "publish.url: use https://"),
    ('url = "https://u:p@wiki.example.org"\nspace = "SEC"', "publish.url: credentials"),
    ('url = "https://x.atlassian.net"', "publish.space: a space key is needed"),
    ('url = "https://x.atlassian.net"\npage_id = "12ab"', "publish.page_id: expected the"),
    ('url = "https://x.atlassian.net"\nspace = "SEC"\nlang = "es"', "publish.lang: 'es'"),
    ('url = "https://x.atlassian.net"\nspace = "SEC"\nflavour = "server"',
     "publish.flavour: 'server'"),
    ('url = "https://x.atlassian.net"\nspace = "SEC"\nspaces = "SEC"',
     "unknown key 'publish.spaces'"),
    ('url = "https://x.atlassian.net"\nspace = "SEC"\ntimeout = 0', "publish.timeout"),
])
def test_a_bad_publish_table_is_an_error_naming_the_key(vm: Cli, tmp_path: Path, table: str,
                                                        message: str) -> None:
    config = tmp_path / "vulnmark.toml"
    config.write_text(f"[publish]\n{table}\n", encoding="utf-8")
    result = vm("policy", "page", config=config)
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert "s3cret" not in result.output
    assert str(config) in result.stderr


def test_policy_show_json_includes_the_publish_table(vm: Cli, tmp_path: Path) -> None:
    import json

    config = tmp_path / "with-publish.toml"
    config.write_text('[publish]\nurl = "https://example.atlassian.net"\nspace = "SEC"\n',
                      encoding="utf-8")
    shown = json.loads(vm.ok("policy", "show", "--format", "json", config=config).stdout)
    assert shown["publish"]["url"] == "https://example.atlassian.net"
    assert shown["publish"]["flavour"] == "cloud" and shown["publish"]["lang"] == "en"
    bare = json.loads(vm.ok("policy", "show", "--format", "json").stdout)
    assert bare["publish"] is None and bare["digest"] == shown["digest"]
