"""The daily report's control health says whether the published policy page states the
policy in force: publish -> change the policy -> "out of date" -> publish -> current, against
the Confluence emulator (both flavours), with exactly two version increments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core_support import Cli
from vulnmark.testing import confluence_spec
from vulnmark.testing.confluence_emulator import ConfluenceEmulator, Page, Version
from vulnmark.testing.server import serve_in_thread

pytestmark = pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")
SPECS = Path(__file__).resolve().parents[1] / "data" / "confluence_openapi"
SPEC = {"cloud": SPECS / "confluence-cloud-v2.pruned.json",
        "datacenter": SPECS / "confluence-cloud-v1-content.pruned.json"}
ENV = {"VULNMARK_CONFLUENCE_USER": "mso@example.org", "VULNMARK_CONFLUENCE_TOKEN": "t0ken"}


def _config(path: Path, url: str, flavour: str, high_hours: str) -> Path:
    path.write_text(f'[classes.HIGH]\ndeadline_hours = {high_hours}\n[publish]\nurl = "{url}"\n'
                    f'flavour = "{flavour}"\nspace = "SEC"\npage_id = "880001"\n',
                    encoding="utf-8")
    return path


def _health(vm: Cli, config: Path, now: str) -> str:
    out = vm.ok("report", "daily", "--format", "json", config=config, now=now).stdout
    notes = json.loads(out)["health"]["notes"]
    return next(n for n in notes if "POLICY PAGE" in n or "Policy page" in n)


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_publish_change_out_of_date_publish_current(vm: Cli, tmp_path: Path,
                                                    flavour: str) -> None:
    emu = ConfluenceEmulator(flavour=flavour, credentials={
        ConfluenceEmulator.basic(ENV["VULNMARK_CONFLUENCE_USER"],
                                 ENV["VULNMARK_CONFLUENCE_TOKEN"])})
    page = Page("880001", "SEC", None)
    page.versions += [Version(n, "<p>old rules</p>", "Marking vulnerability tickets", "",
                              emu.clock()) for n in range(1, 6)]
    emu.pages[page.id] = page
    with serve_in_thread(emu) as url:
        config = _config(tmp_path / "vulnmark.toml", url, flavour, '"none"')
        vm.ok("init", "--force", "-o", str(tmp_path / "init.toml"))
        assert _health(vm, config, "2026-11-27T07:00:00Z").startswith(
            "POLICY PAGE NEVER PUBLISHED")  # the page written by hand is not vulnmark's
        vm.ok("policy", "publish", config=config, env=ENV, now="2026-11-27T08:00:00Z")
        current = _health(vm, config, "2026-11-28T07:00:00Z")
        assert current.startswith("Policy page: published version 6 matches digest")

        _config(config, url, flavour, "72")  # the policy changes: HIGH gets a clock
        stale = _health(vm, config, "2026-11-29T07:00:00Z")
        assert stale.startswith("POLICY PAGE OUT OF DATE since 2026-11-29 07:00 UTC: "
                                "published version 6"), stale
        vm.ok("policy", "publish", config=config, env=ENV, now="2026-11-29T09:00:00Z")
        assert _health(vm, config, "2026-11-30T07:00:00Z").startswith(
            "Policy page: published version 7 matches digest")
        assert "nothing published" in vm.ok("policy", "publish", config=config, env=ENV,
                                            now="2026-11-30T08:00:00Z").stdout
    puts = [json.loads(e.body)["version"]["number"] for e in emu.exchanges if e.method == "PUT"]
    assert puts == [6, 7] and emu.page_versions("880001") == [1, 2, 3, 4, 5, 6, 7]
    assert "72 hours (3 days)" in page.current.body
    checked, problems = confluence_spec.check(confluence_spec.load(SPEC[flavour]),
                                              emu.exchanges, flavour=flavour)
    assert problems == [] and checked >= 4


def test_no_line_without_a_page_and_a_line_when_one_is_configured(
        vm: Cli, tmp_path: Path) -> None:
    vm.ok("init", "--force")
    out = json.loads(vm.ok("report", "daily", "--format", "json").stdout)
    assert not [n for n in out["health"]["notes"] if "olicy page" in n.lower()]
    config = tmp_path / "p.toml"
    config.write_text('[publish]\nurl = "https://example.atlassian.net"\nspace = "SEC"\n',
                      encoding="utf-8")
    out = json.loads(vm.ok("report", "daily", "--format", "json", config=config).stdout)
    assert "POLICY PAGE NEVER PUBLISHED: run `vulnmark policy publish` ([publish] is " \
           "configured)" in out["health"]["notes"]
