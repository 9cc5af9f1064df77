"""``vulnmark policy publish`` against the Confluence emulator served on 127.0.0.1, Cloud
(REST v2) and Data Center (REST content), every exchange checked against Atlassian's OpenAPI
documents (tests/data/confluence_openapi/)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core_support import Cli
from vulnmark.store import Store
from vulnmark.store import events as store_events
from vulnmark.testing import confluence_spec
from vulnmark.testing.confluence_emulator import ConfluenceEmulator, Page, Version
from vulnmark.testing.server import serve_in_thread

pytestmark = pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")
SPECS = Path(__file__).resolve().parents[1] / "data" / "confluence_openapi"
SPEC = {"cloud": SPECS / "confluence-cloud-v2.pruned.json",
        "datacenter": SPECS / "confluence-cloud-v1-content.pruned.json"}
USER, TOKEN = "mso@example.org", "conf-t0ken-s3cret"
ENV = {"VULNMARK_CONFLUENCE_USER": USER, "VULNMARK_CONFLUENCE_TOKEN": TOKEN}


@pytest.fixture(params=["cloud", "datacenter"])
def site(request: pytest.FixtureRequest) -> Iterator[tuple[ConfluenceEmulator, str]]:
    emu = ConfluenceEmulator(flavour=request.param,
                             credentials={ConfluenceEmulator.basic(USER, TOKEN)})
    with serve_in_thread(emu) as url:
        yield emu, url


def write_config(path: Path, url: str, flavour: str, *, extra: str = "",
                 publish: str = "") -> Path:
    path.write_text(f'recipients = ["mso@example.org"]\n{extra}\n[publish]\nurl = "{url}"\n'
                    f'flavour = "{flavour}"\nspace = "SEC"\n{publish}', encoding="utf-8")
    return path


def spec_problems(emu: ConfluenceEmulator) -> tuple[int, list[str]]:
    return confluence_spec.check(confluence_spec.load(SPEC[emu.flavour]), emu.exchanges,
                                 flavour=emu.flavour)


def published_records(db_url: str) -> list[dict[str, Any]]:
    with Store.open(db_url) as store, store.reading() as conn:
        return [r.payload for r in store_events.of_kind(conn, "policy_page")]


def test_publish_creates_then_finds_the_page_and_records_each_version(
        vm: Cli, tmp_path: Path, site: tuple[ConfluenceEmulator, str]) -> None:
    emu, url = site
    config = write_config(tmp_path / "vulnmark.toml", url, emu.flavour)
    vm.ok("init", "--force", "-o", str(tmp_path / "other.toml"))
    first = vm.ok("policy", "publish", config=config, env=ENV)
    assert "created page" in first.stdout and "version 1" in first.stdout
    (page,) = emu.pages.values()
    assert page.current.title == "Marking vulnerability tickets"
    assert "<code>Sérülékenység</code>" in page.current.body
    again = vm.ok("policy", "publish", config=config, env=ENV)
    assert "nothing published" in again.stdout  # same content: no new version
    forced = vm.ok("policy", "publish", "--force", config=config, env=ENV)
    assert f"updated page {page.id} version 2" in forced.stdout
    assert emu.page_versions(page.id) == [1, 2]
    records = published_records(vm.db_url)
    assert [(r["page_id"], r["version"], r["flavour"]) for r in records] == [
        (page.id, 1, emu.flavour), (page.id, 2, emu.flavour)]
    assert records[0]["digest"] == records[1]["digest"] and records[0]["space"] == "SEC"
    checked, problems = spec_problems(emu)
    assert problems == [] and checked >= 5


def test_an_update_increments_the_version_of_an_existing_page(
        vm: Cli, tmp_path: Path, site: tuple[ConfluenceEmulator, str]) -> None:
    emu, url = site
    page = Page("770001", "SEC", None)
    page.versions += [Version(n, f"<p>by hand {n}</p>", "Marking rules", "", emu.clock())
                      for n in range(1, 6)]
    emu.pages[page.id] = page
    config = write_config(tmp_path / "vulnmark.toml", url, emu.flavour,
                          publish='page_id = "770001"\ntitle = "Marking rules"\nlang = "hu"\n')
    vm.ok("init", "--force", "-o", str(tmp_path / "other.toml"))
    out = vm.ok("policy", "publish", config=config, env=ENV).stdout
    assert "updated page 770001 version 6" in out
    assert emu.page_versions("770001") == [1, 2, 3, 4, 5, 6]
    assert page.current.body.startswith("<p>Ezt az oldalt a vulnmark")
    puts = [e for e in emu.exchanges if e.method == "PUT"]
    assert [json.loads(e.body)["version"]["number"] for e in puts] == [6]
    assert spec_problems(emu)[1] == []


def test_a_page_edited_meanwhile_is_a_conflict_and_nothing_is_recorded(
        vm: Cli, tmp_path: Path, site: tuple[ConfluenceEmulator, str]) -> None:
    emu, url = site
    config = write_config(tmp_path / "vulnmark.toml", url, emu.flavour)
    vm.ok("init", "--force", "-o", str(tmp_path / "other.toml"))
    vm.ok("policy", "publish", config=config, env=ENV)
    (page,) = emu.pages.values()
    real_get = emu._page

    def edited_meanwhile(page_id: str) -> Page:  # someone saves a version between our
        found = real_get(page_id)                # GET and our PUT
        if not emu.exchanges or emu.exchanges[-1].method == "GET":
            found.versions.append(Version(found.current.number + 1, "<p>x</p>",
                                          found.current.title, "", emu.clock()))
        return found

    emu._page = edited_meanwhile  # type: ignore[method-assign]
    result = vm("policy", "publish", "--force", config=config, env=ENV)
    assert result.exit_code == 3, result.output
    assert "409" in result.stderr and "run the command again" in result.stderr
    assert len(published_records(vm.db_url)) == 1
    assert spec_problems(emu)[1] == []


def test_credentials_come_from_the_environment_and_never_show(
        vm: Cli, tmp_path: Path, site: tuple[ConfluenceEmulator, str]) -> None:
    emu, url = site
    config = write_config(tmp_path / "vulnmark.toml", url, emu.flavour)
    vm.ok("init", "--force", "-o", str(tmp_path / "other.toml"))
    missing = vm("policy", "publish", config=config)
    assert missing.exit_code == 2 and "VULNMARK_CONFLUENCE_TOKEN is not set" in missing.stderr
    wrong = vm("policy", "publish", config=config,
               env={**ENV, "VULNMARK_CONFLUENCE_TOKEN": "wrong-s3cret"})
    assert wrong.exit_code == 3 and "401" in wrong.stderr
    assert "check VULNMARK_CONFLUENCE_USER" in wrong.stderr
    assert "wrong-s3cret" not in wrong.output and not emu.pages
    vm.ok("policy", "publish", config=config, env=ENV)
    with Store.open(vm.db_url) as store, store.reading() as conn:
        log = json.dumps([r.payload for r in store_events.iter_events(conn)])
    assert TOKEN not in log and USER not in log


def test_dry_run_sends_nothing(vm: Cli, tmp_path: Path,
                               site: tuple[ConfluenceEmulator, str]) -> None:
    emu, url = site
    config = write_config(tmp_path / "vulnmark.toml", url, emu.flavour)
    vm.ok("init", "--force", "-o", str(tmp_path / "other.toml"))
    out = vm.ok("policy", "publish", "--dry-run", config=config, env=ENV).stdout
    assert "would publish a new page in space SEC as version 1" in out
    assert not emu.pages and not [e for e in emu.exchanges if e.method in ("POST", "PUT")]
    assert published_records(vm.db_url) == []


def test_without_a_publish_table_publish_says_what_to_set(vm: Cli) -> None:
    vm.ok("init", "--force")
    result = vm("policy", "publish", env=ENV)
    assert result.exit_code == 2 and "no [publish] table" in result.stderr


def test_publish_refuses_now_without_the_clock_override(
        tmp_path: Path, site: tuple[ConfluenceEmulator, str]) -> None:
    emu, url = site
    config = write_config(tmp_path / "vulnmark.toml", url, emu.flavour)
    vm = Cli(f"sqlite:///{tmp_path / 'c.db'}", tmp_path, override=False)
    vm.ok("init", "--force", "-o", str(tmp_path / "other.toml"), now="")
    refused = vm("policy", "publish", config=config, env=ENV)
    assert refused.exit_code == 2 and "--now" in refused.stderr and not emu.pages
    assert vm.ok("policy", "publish", "--dry-run", config=config, env=ENV)  # a preview may
    assert "created page" in vm.ok("policy", "publish", config=config, env=ENV, now="").stdout


def test_a_data_center_personal_access_token_alone_is_sent_as_bearer(
        vm: Cli, tmp_path: Path) -> None:
    emu = ConfluenceEmulator(flavour="datacenter", credentials={"Bearer pat-0123456789"})
    with serve_in_thread(emu) as url:
        config = write_config(tmp_path / "vulnmark.toml", url, "datacenter")
        vm.ok("init", "--force", "-o", str(tmp_path / "other.toml"))
        out = vm.ok("policy", "publish", config=config,
                    env={"VULNMARK_CONFLUENCE_TOKEN": "pat-0123456789"}).stdout
    assert "created page" in out and len(emu.pages) == 1


def test_an_unknown_space_is_named(vm: Cli, tmp_path: Path,
                                   site: tuple[ConfluenceEmulator, str]) -> None:
    emu, url = site
    config = tmp_path / "vulnmark.toml"
    config.write_text(f'[publish]\nurl = "{url}"\nflavour = "{emu.flavour}"\nspace = "NOPE"\n',
                      encoding="utf-8")
    vm.ok("init", "--force", "-o", str(tmp_path / "other.toml"))
    result = vm("policy", "publish", config=config, env=ENV)
    if emu.flavour == "cloud":  # the key is turned into an id first
        assert result.exit_code == 2 and "publish.space: no space with key 'NOPE'" in \
            result.stderr
    else:  # Data Center names the space in the create request, and refuses it
        assert result.exit_code == 3 and "400" in result.stderr and \
            "Space does not exist" in result.stderr
    assert "Traceback" not in result.output and not emu.pages
