"""The documentation keeps up with the code: every command's help has an example, and the
README names every setting and every environment variable of the contract."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from shared_data import SHARED, shared
from vulnmark.cli import EPILOG, cli
from vulnmark.config.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DESIGN = SHARED / "DESIGN.md"


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


ALL = sorted(commands(cli))


def test_the_command_tree_is_found() -> None:
    names = {" ".join(c) for c in ALL}
    assert {"init", "import", "check", "list", "jql", "report daily", "runs",
            "evidence verify", "ticket new", "ticket label", "policy show"} <= names


@pytest.mark.parametrize("path", [(), *ALL], ids=lambda p: " ".join(p) or "vulnmark")
def test_every_command_help_has_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "Example" in result.stdout, f"vulnmark {' '.join(path)} --help has no example"


def _readme() -> str:
    if not README.exists():
        pytest.xfail("README.md not written yet")
    return README.read_text(encoding="utf-8")


def _contract_env_vars() -> list[str]:
    """The variables the --help epilog and the contract (../shared/DESIGN.md) name; without
    DESIGN.md beside the checkout, the epilog's (test_design_lists_… says so)."""
    text = EPILOG + (DESIGN.read_text(encoding="utf-8") if DESIGN.exists() else "")
    return sorted(set(re.findall(r"\b(?:VULNMARK|JIRA)_[A-Z_]*[A-Z]", text)))


def test_design_lists_the_contract_env_vars() -> None:
    shared("DESIGN.md")
    found = _contract_env_vars()
    assert {"VULNMARK_CONFIG", "VULNMARK_DB", "VULNMARK_NOW", "VULNMARK_SMTP_PASSWORD",
            "JIRA_TOKEN"} <= set(found)


@pytest.mark.parametrize("name", _contract_env_vars())
def test_readme_names_every_env_var(name: str) -> None:
    assert name in _readme(), f"README.md does not mention {name}"


@pytest.mark.parametrize("name", [s.name for s in SETTINGS])
def test_readme_names_every_setting(name: str) -> None:
    assert name in _readme(), f"README.md does not document the setting {name!r}"


def test_every_setting_has_help() -> None:
    assert all(s.help.strip() for s in SETTINGS)
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))


def test_the_library_example_runs_and_prints_what_the_readme_shows(
        capsys: pytest.CaptureFixture[str]) -> None:
    block = _readme().split("<!-- library-example -->")[1].split("<!-- /library-example -->")[0]
    code = block.split("```python\n")[1].split("```")[0]
    shown = block.split("```text\n")[1].split("```")[0]
    exec(compile(code, "README.md (library example)", "exec"), {"__name__": "__readme__"})
    assert capsys.readouterr().out == shown
