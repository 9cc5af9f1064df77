"""ReDoS: is the cost of text inference bounded on attacker-written ticket text? (m12)

Every regular expression vulnmark applies to ticket text — the built-in inference patterns and
the ``[inference] patterns`` of vulnmark.toml — must not let a ticket stall the daily check.
For each known pathological input family this builds a ticket whose description and two
comments repeat the family's unit to ``n/4``, ``n`` and ``10 n`` characters (``n`` =
``FIELD_CHARS``, what inference reads of one field), runs the real inference
(``check.infer.read``) on each and prints the times and two ratios:

* ``t(n)/t(n/4)``: about 4 is linear in the text read, about 16 quadratic;
* ``t(10n)/t(n)``: about 1: text beyond the cap costs nothing, so no input is worse than the
  capped one.

Configured patterns of the accepted subset run on the same inputs (window by window); the
classic ``(a+)+$`` and the other shapes in ``REFUSED`` are refused when the policy is loaded
(``(a+)+$`` took more than 30 s on 35 characters before).

    .venv/bin/python benchmarks/redos.py

Targets: the worst ticket ≤ 2 s, and ``t(10n)/t(n)`` ≤ 2 for the inputs that take over 0.3 s
(smaller times swing with the load of the shared machine); exits 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime

from vulnmark.check.infer import read
from vulnmark.check.infer._linear import why_not_linear
from vulnmark.check.infer._text import FIELD_CHARS
from vulnmark.config.policy import InferenceTable
from vulnmark.config.presets import preset
from vulnmark.model import Comment, Ticket, TicketKey

#: The input families: long runs of what the built-in patterns repeat or stop at, and the
#: strings of the reliability report (#120: "a" * 34 + "b").
UNITS: list[object] = [
    "a", " ", "\t", "-", "a ", "aaaa|", "high ", "high | ", "high or ", "high\t\t\t\t",
    "severity ", "severity: ", "rated ", "from high to ", "not ", "cvss ", "cvss 9.8 ",
    "CVSS:3.1/", "AV:N/", "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:", "{quote}", "> ", "# a=",
    "kritikus ", "sorol ", "hoch oder ", "élevée ", "(high) ", "cve-2024-", "ghsa-2222-",
    "x.", "||", "é", "\u00a0",
    # issue 14's failed-control patterns (_controls): their stems, repeated
    "password ", "password is ", "no authentication ", "any user ", "should be ", "exposes the ",
    "succeeds even though ", "admin ", "leaks the ", "gain privileges ", "world-", "crafted ",
    "passwords can be ", "files are ",
]
#: A cue or class word followed by one long run (what backtracking over blanks feeds on:
#: ``"cvss" + " " * 2000`` took 40 s before the CVSS score pattern's blanks became possessive).
WORDS = ["cvss", "cvss 3.1", "severity", "besorolás", "schweregrad", "criticité", "high",
         "from high", "base score", "not", "(high", "cve-2024-"]
RUNS = [" ", "\t", "\u00a0", " \n", "*", "-", " a", " or"]
UNITS += [(word, run) for word in WORDS for run in RUNS]  # type: ignore[misc]

#: Configured patterns of the accepted subset, run on every input as well.
PATTERNS = [r"rated\s+(?:high|critical)", r"severity\s*[:=]\s*(?:p1|sev1)\b", r"a+b"]
REFUSED = [r"(a+)+$", r"(a|aa)+$", r"(\w+\s?)+$", r"\s*\s*\s*\s*x", r"(.*)\1"]


def ticket(text: str) -> Ticket:
    at = datetime(2026, 11, 20, tzinfo=UTC)
    return Ticket(key=TicketKey("R-1"), title=text[:200], description=text, created=at,
                  labels=("Vulnerability",),
                  comments=(Comment(text, "eve", at), Comment(text, "eve", at)))


def timed(t: Ticket, policy: object) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        read(t, policy)  # type: ignore[arg-type]
        best = min(best, time.perf_counter() - start)
    return best


def _text(unit: object, size: int) -> str:
    if isinstance(unit, tuple):  # a word, then one run
        word, run = unit
        return word + run * max(1, size // len(run)) + "x"
    assert isinstance(unit, str)
    return unit * max(1, size // len(unit)) + "!"


def main() -> int:
    argparse.ArgumentParser(description=__doc__.split("\n")[0]).parse_args()
    base = preset("etsi-319-401")
    table = {"patterns": [{"regex": r, "class": "HIGH"} for r in PATTERNS]}
    policy = replace(base, inference=InferenceTable.of(table))
    failed = False
    for regex in REFUSED:
        reason = why_not_linear(regex)
        print(f"refused at load: {regex!r:24} ({reason})" if reason else
              f"FAIL: {regex!r} is accepted")
        failed |= reason is None
    n = FIELD_CHARS
    print(f"\nn = {n:,} characters per field (description and two comments)\n")
    print(f"{'unit':40} {'t(n/4)':>9} {'t(n)':>9} {'t(10n)':>9} {'n/(n/4)':>8} {'10n/n':>6}")
    worst, worst_cap = 0.0, 0.0
    for unit in UNITS:
        times = [timed(ticket(_text(unit, size)), policy) for size in (n // 4, n, 10 * n)]
        grow, beyond = times[1] / max(times[0], 1e-4), times[2] / max(times[1], 1e-4)
        flag = "  FAIL" if beyond > 2 and times[2] > 0.3 else ""
        failed |= bool(flag)
        worst, worst_cap = max(worst, times[2]), max(worst_cap, beyond if times[2] > 0.3 else 0)
        print(f"{unit!r:40} {times[0] * 1000:>7.1f}ms {times[1] * 1000:>7.1f}ms "
              f"{times[2] * 1000:>7.1f}ms {grow:>8.1f} {beyond:>6.2f}{flag}")
    print(f"\nworst ticket: {worst:.2f} s (target ≤ 2 s); worst t(10n)/t(n) of the inputs over "
          f"300 ms: {worst_cap:.2f} (target ≤ 2)")
    failed |= worst > 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
