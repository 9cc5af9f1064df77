"""The README's incident walk-through, run as written: every ``$ vulnmark …`` line of the
``incident-story`` block on a new store (writes on the wall clock, as a user runs them), and
its output compared with what the README shows."""

from __future__ import annotations

import shlex
from pathlib import Path

from click.testing import CliRunner

from vulnmark.cli import cli

README = Path(__file__).resolve().parents[2] / "README.md"


def steps() -> list[tuple[list[str], str]]:
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- incident-story -->\n")[1].split("<!-- /incident-story -->")[0]
    out: list[tuple[list[str], str]] = []
    inside = False
    for line in block.splitlines():
        if line.startswith("```"):
            inside = not inside
            continue
        if not inside:
            continue
        if line.startswith("$ vulnmark "):
            out.append((shlex.split(line[len("$ vulnmark "):]), ""))
        elif out:
            argv, shown = out[-1]
            out[-1] = (argv, shown + line + "\n")
    return out


def test_the_readme_story_runs_as_shown(tmp_path: Path) -> None:
    found = steps()
    assert len(found) >= 20
    db = f"sqlite:///{tmp_path / 'story.db'}"
    for argv, shown in found:
        result = CliRunner().invoke(cli, ["--db", db, *argv], catch_exceptions=False)
        assert result.exit_code == 0, (argv, result.output, result.stderr)
        assert result.stdout == shown, argv
