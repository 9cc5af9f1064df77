"""Per-language evaluation sets of explicit class statements (issue 14), for classify_eval.py.

Two kinds of sets, each scored for precision (suggestions equal to the stated class) and recall
(statements read), plus false suggestions on texts of the same sources that state no class:

* **real** sets, read in place from ../shared/data (never copied): every German CVE 5
  description (all written by VulDB in two templates, "eine kritische/problematische
  Schwachstelle" and "Sie wurde als kritisch/problematisch eingestuft"), and the English
  CVE 5 / NVD / PyPA descriptions that state a class in a fixed template (VulDB "classified /
  declared / rated as critical|problematic", Chromium "security severity: X", Android "is
  rated as X due to / because"). The stated class is taken by the *reference labeller*
  below: literal templates written apart from vulnmark's grammar, on the scales of
  ``vulnmark.check.infer._vocab.SCALES`` (VulDB problematic = MEDIUM). To check the
  labeller, 60 German and 60 English labelled sentences (``--read 60`` prints that seeded
  sample) were read by a person: all 120 agreed with their label.
* **written** sets, ``benchmarks/statements/<lang>.jsonl``: sentences written for this
  benchmark after the phrasings of public advisories and tickets (national CERT and vendor
  bulletins, Hungarian GovCERT-style notices, browser release notes; none copied, and none
  from the held-out sources named in issue 14), each labelled by hand with its stated class
  or ``null``, and the phrase family it tests. The ``null`` rows are traps (hypotheticals,
  questions, negation, false friends, templates).
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from vulnmark.check.infer import read
from vulnmark.model import Reading, Ticket

SETS = Path(__file__).resolve().parent / "statements"
_SCALE = {"critical": "CRITICAL", "kritisch": "CRITICAL", "kritische": "CRITICAL",
          "high": "HIGH", "medium": "MEDIUM", "moderate": "MEDIUM", "low": "LOW",
          "problematic": "MEDIUM", "problematisch": "MEDIUM", "problematische": "MEDIUM"}
_DE_REF = re.compile(r"[Ee]ine (?:sehr )?(kritische|problematische) Schwachstelle"
                     r"|als (?:sehr )?(kritisch|problematisch) eingestuft")
_EN_REF = re.compile(r"(?:classified|declared|rated) as (?:very )?(critical|problematic)\b"
                     r"|Chrom(?:ium|e) security severity: (Critical|High|Medium|Low)\b"
                     r"|is rated as (Critical|High|Moderate|Low) (?:due|because)")


def reference(pattern: re.Pattern[str], text: str) -> tuple[str | None, str]:
    """The most severe class the templates find, and the sentence of the first one."""
    found = [(m, next(g for g in m.groups() if g)) for m in pattern.finditer(text)]
    if not found:
        return None, ""
    order = ("CRITICAL", "HIGH", "MEDIUM", "LOW")
    cls = min((_SCALE[w.lower()] for _, w in found), key=order.index)
    m = found[0][0]
    lo = max(text.rfind(".", 0, m.start()) + 1, 0)
    hi = text.find(".", m.end())
    return cls, text[lo:hi + 1 if hi >= 0 else len(text)].strip()


@dataclass
class Score:
    stated: int = 0
    suggested: int = 0
    correct: int = 0
    none: int = 0
    false: int = 0

    def add(self, truth: str | None, reading: Reading) -> None:
        s = reading.suggested
        if truth is None:
            self.none += 1
            self.false += s is not None
            return
        self.stated += 1
        self.suggested += s is not None
        self.correct += s == truth

    def row(self, name: str) -> str:
        p = f"{self.correct / self.suggested:.4f}" if self.suggested else "  -   "
        r = f"{self.correct / self.stated:.4f}" if self.stated else "  -   "
        f = f"{self.false / self.none:.4f}" if self.none else "  -   "
        return (f"{name:34s} {self.stated:6d} {self.suggested:6d} {self.correct:6d} {p:>7s} "
                f"{r:>7s} {self.none:6d} {self.false:6d} {f:>8s}")


def _cve5(data: Path, lang: str) -> Iterator[tuple[str, str]]:
    for f in sorted((data / "cve5_vulnrichment/records").glob("*/*/CVE-*.json")):
        d = json.loads(f.read_text(encoding="utf-8"))
        for x in d.get("containers", {}).get("cna", {}).get("descriptions", []):
            if x.get("lang", "").startswith(lang):
                yield f.stem, x.get("value", "")


def _nvd(data: Path) -> Iterator[tuple[str, str]]:
    for name in ("nvdcve-2015", "nvdcve-2016", "nvdcve-modified"):
        with gzip.open(data / "nvd_api2_vulnz_cache" / f"{name}.json.gz", "rt") as fh:
            doc = json.load(fh)
        for item in doc["vulnerabilities"]:
            cve = item["cve"]
            yield cve["id"], next(
                (x["value"] for x in cve.get("descriptions", []) if x["lang"] == "en"), "")


def _pypa(data: Path) -> Iterator[tuple[str, str]]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for f in sorted((data / "pypa_osv_advisories/vulns").glob("*/PYSEC-*.yaml")):
        d = yaml.load(f.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - safe loader
        yield f.stem, f"{d.get('summary') or ''}\n{d.get('details') or ''}"


def evaluate(data: Path, make: Callable[[str, str], Ticket], policy: object,
             loose: re.Pattern[str], read_sample: int = 0, skip_nvd: bool = False) -> None:
    """Print the per-language table; ``loose`` marks texts that may state a class in a form
    the reference labeller does not know (left out of the no-statement count)."""
    scores: dict[str, Score] = {}
    samples: dict[str, list[str]] = {}
    real: list[tuple[str, re.Pattern[str], Iterator[tuple[str, str]]]] = [
        ("de  real: CVE 5 (VulDB) descriptions", _DE_REF, _cve5(data, "de")),
        ("en  real: CVE 5 descriptions", _EN_REF, _cve5(data, "en")),
        ("en  real: PyPA advisories", _EN_REF, _pypa(data)),
    ]
    if not skip_nvd:
        real.append(("en  real: NVD descriptions", _EN_REF, _nvd(data)))
    for name, pattern, records in real:
        score = scores.setdefault(name, Score())
        for rid, text in records:
            truth, sentence = reference(pattern, text)
            if truth is None and loose.search(text):
                continue  # may state a class in a form the labeller does not know
            reading = read(make(rid, text), policy)  # type: ignore[arg-type]
            score.add(truth, reading)
            if truth is not None:
                samples.setdefault(name[:2], []).append(f"{truth:8s} {sentence[:150]!r}")
                if reading.suggested != truth and len(samples.get(name + "!", [])) < 5:
                    samples.setdefault(name + "!", []).append(
                        f"{rid} truth={truth} suggested={reading.suggested}: {sentence[:120]!r}")
    for path in sorted(SETS.glob("*.jsonl")):
        score = scores.setdefault(f"{path.stem}  written: {path.name}", Score())
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            reading = read(make(path.stem, row["text"]), policy)  # type: ignore[arg-type]
            score.add(row["class"], reading)
            if reading.suggested != row["class"]:
                samples.setdefault(path.name + "!", []).append(
                    f"truth={row['class']} suggested={reading.suggested}: {row['text']!r}")
    print("\n## Statements: per-language evaluation sets (issue 14 targets: precision >= 0.99, "
          "recall >= 0.95, false suggestions <= 0.5 %)\n")
    head = (f"{'set':34s} {'stated':>6s} {'sugg':>6s} {'right':>6s} {'prec':>7s} {'recall':>7s} "
            f"{'none':>6s} {'false':>6s} {'false %':>8s}")
    print(head)
    print("-" * len(head))
    for name in sorted(scores):
        print(scores[name].row(name))
    misses = {k: v for k, v in samples.items() if k.endswith("!")}
    if misses:
        print("\nmisses and wrong classes (first per set):")
        for key, lines in sorted(misses.items()):
            for line in lines[:5]:
                print(f"  [{key[:-1].strip()}] {line}")
    if read_sample:
        rng = random.Random(14)
        for lang in ("de", "en"):
            pool = samples.get(lang, [])
            print(f"\n{lang}: {min(read_sample, len(pool))} labelled sentences to read")
            for line in rng.sample(pool, min(read_sample, len(pool))):
                print(f"  {line}")
