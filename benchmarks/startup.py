"""Start-up time of the CLI: `vulnmark --version`, `--help` and a shell-completion call, each
the median of N runs (default 20), against `python -c pass` in the same run, and against the
eager start this version replaced (every command module imported before parsing, as before
issue 13: it pulled in SQLAlchemy, Alembic and the check).

    python benchmarks/startup.py [--runs 20]

Target: ≤ 0.2 s for --version, --help and completion (the absolute time depends on the
machine; the ratios to `python -c pass` and to the eager start are measured in one run).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

EAGER = ("import sys\nfrom vulnmark.cli import MODULES, cli\n"
         "for m in MODULES: cli._load(m)\n"
         "sys.argv = ['vulnmark', '--version']\n"
         "try:\n    cli(prog_name='vulnmark')\nexcept SystemExit:\n    pass\n")
VULNMARK = [sys.executable, "-m", "vulnmark"]


def median_time(argv: list[str], runs: int, env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                       env=env)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    complete = {**os.environ, "_VULNMARK_COMPLETE": "bash_complete",
                "COMP_WORDS": "vulnmark di", "COMP_CWORD": "1"}
    floor = median_time([sys.executable, "-c", "pass"], runs)
    rows = [
        ("python -c pass", floor),
        ("eager start (before), --version", median_time([sys.executable, "-c", EAGER], runs)),
        ("vulnmark --version", median_time([*VULNMARK, "--version"], runs)),
        ("vulnmark --help", median_time([*VULNMARK, "--help"], runs)),
        ("completion (vulnmark di<TAB>)", median_time(VULNMARK, runs, complete)),
    ]
    eager = rows[1][1]
    print(f"median of {runs} runs each")
    print(f"{'':36} {'seconds':>8} {'x python':>9} {'x eager':>8}  target")
    for name, t in rows:
        target = "≤ 0.2 s " + ("met" if t <= 0.2 else "NOT met") if name.startswith(
            ("vulnmark", "completion")) else ""
        print(f"{name:36} {t:8.3f} {t / floor:9.2f} {t / eager:8.2f}  {target}")


if __name__ == "__main__":
    main()
