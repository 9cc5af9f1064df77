"""Fast start: ``vulnmark --version``, ``--help`` and shell completion import no command module
and none of the heavy libraries (SQLAlchemy, Alembic, Jinja2, httpx, cryptography, asn1crypto);
the command index they use is the one the modules register. (The time itself is measured by
benchmarks/startup.py.)"""

from __future__ import annotations

import os
import subprocess
import sys

import click
import pytest

from vulnmark.cli import MODULES, _index, cli

HEAVY = ("sqlalchemy", "alembic", "jinja2", "httpx", "cryptography", "asn1crypto",
         "vulnmark.store", "vulnmark.check")
PROBE = """
import sys
from vulnmark.cli import main
sys.argv = ["vulnmark", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print("LOADED", sorted({m.split(".")[0] if not m.startswith("vulnmark") else
                        ".".join(m.split(".")[:2]) for m in sys.modules}))
"""


def test_the_index_is_current() -> None:
    assert _index.INDEX == _index.build(), (
        'regenerate: python -c "from vulnmark.cli import _index; _index.write()"')


def test_every_indexed_command_is_registered_by_its_module() -> None:
    ctx = click.Context(cli)
    for name, (module, _help) in _index.INDEX.items():
        assert module in MODULES
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["complete"]])
def test_no_heavy_import_to_start(argv: list[str]) -> None:
    env = dict(os.environ)
    if argv == ["complete"]:
        env.update(_VULNMARK_COMPLETE="bash_complete", COMP_WORDS="vulnmark di", COMP_CWORD="1")
        argv = []
    out = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True,
                         env=env, timeout=120, check=True).stdout
    loaded = out.split("LOADED", 1)[1]
    assert not [m for m in HEAVY if f"'{m}'" in loaded], loaded
    if env.get("_VULNMARK_COMPLETE"):
        assert "dismiss" in out
    elif argv == ["--help"]:
        assert "dismiss" in out and "watch" in out
