"""Would a learned ranker beat the `suspected` rules? Project-wise cross-validation on FARSEC.

Issue 14 asks for a small, explainable model on top of the rules *if it beats them*, picked by
measurement. This trains an L2-regularised logistic regression over word unigrams and bigrams
(binary features, terms in >= 3 training reports, class-weighted, plain Python, seeded) on four
FARSEC projects and tests it on the fifth, for each project; the decision threshold is the one
with the best F1 on the training projects. It prints precision, recall and F1 per held-out
project and pooled, next to vulnmark's rules (`Reading.is_suspect`) and the issue's keyword
baseline, then the model trained on all of FARSEC against the Apache Jira `security` label.

    .venv/bin/python benchmarks/suspect_ranker.py [--epochs 8]

Result (2026-12-02, 5,193 FARSEC reports): the model's pooled F1 stays below the rules' — the
words that mark a security report in one project (Chromium "crash", "heap"; Derby "GRANT",
"SecurityManager") do not carry over to another — so no model ships; see the table printed.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import random
import re
from collections import Counter
from collections.abc import Iterable

from classify_eval import BASELINE, DATA, POLICY, ticket
from vulnmark.check.infer import read

_WORD = re.compile(r"[a-z][a-z0-9_]+")


def features(text: str) -> set[str]:
    words = _WORD.findall(text.lower())
    return set(words) | {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)}


def train(docs: list[tuple[set[str], bool]], epochs: int, seed: int = 14,
          ) -> tuple[dict[str, float], float]:
    df: Counter[str] = Counter(f for fs, _ in docs for f in fs)
    vocab = {f for f, n in df.items() if n >= 3}
    pos = sum(y for _, y in docs)
    weight = {True: (len(docs) - pos) / max(1, pos), False: 1.0}
    w: dict[str, float] = {}
    b, l2, rate = 0.0, 1e-4, 0.1
    order = list(range(len(docs)))
    rng = random.Random(seed)
    for _ in range(epochs):
        rng.shuffle(order)
        for i in order:
            fs, y = docs[i]
            active = [f for f in fs if f in vocab]
            z = b + sum(w.get(f, 0.0) for f in active)
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            g = (p - y) * weight[y]
            b -= rate * g
            for f in active:
                old = w.get(f, 0.0)
                w[f] = old - rate * (g + l2 * old)
    return w, b


def score(model: tuple[dict[str, float], float], fs: set[str]) -> float:
    w, b = model
    return b + sum(w.get(f, 0.0) for f in fs)


def prf(pairs: Iterable[tuple[bool, bool]]) -> tuple[float, float, float]:
    c = Counter((y, p) for y, p in pairs)
    tp, fp, fn = c[(True, True)], c[(False, True)], c[(True, False)]
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def best_threshold(model: tuple[dict[str, float], float], docs: list[tuple[set[str], bool]]
                   ) -> float:
    scores = sorted({round(score(model, fs), 2) for fs, _ in docs})
    step = max(1, len(scores) // 200)
    return max(scores[::step], key=lambda t: prf((y, score(model, fs) >= t)
                                                 for fs, y in docs)[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    rows = [json.loads(line) for line in
            (DATA / "farsec_security_bug_reports/farsec_reports.jsonl").open(encoding="utf-8")]
    texts = [html.unescape(r["text"]) for r in rows]
    labels = [r["label"] == "security" for r in rows]
    projects = [r["project"] for r in rows]
    feats = [features(t) for t in texts]
    rules = [read(ticket("x", "", t), POLICY).is_suspect for t in texts]
    keyword = [BASELINE.search(t) is not None for t in texts]
    print(f"{'held out':10s} {'method':9s} {'prec':>6s} {'recall':>6s} {'F1':>6s}")
    pooled: dict[str, list[tuple[bool, bool]]] = {"model": [], "rules": [], "keywords": []}
    for held in sorted(set(projects)):
        train_idx = [i for i, p in enumerate(projects) if p != held]
        test_idx = [i for i, p in enumerate(projects) if p == held]
        docs = [(feats[i], labels[i]) for i in train_idx]
        model = train(docs, args.epochs)
        th = best_threshold(model, docs)
        results = {
            "model": [(labels[i], score(model, feats[i]) >= th) for i in test_idx],
            "rules": [(labels[i], rules[i]) for i in test_idx],
            "keywords": [(labels[i], keyword[i]) for i in test_idx],
        }
        for name, pairs in results.items():
            pooled[name].extend(pairs)
            p, r, f = prf(pairs)
            print(f"{held:10s} {name:9s} {p:6.3f} {r:6.3f} {f:6.3f}")
    for name, pairs in pooled.items():
        p, r, f = prf(pairs)
        print(f"{'POOLED':10s} {name:9s} {p:6.3f} {r:6.3f} {f:6.3f}")
    model = train([(feats[i], labels[i]) for i in range(len(rows))], args.epochs)
    th = best_threshold(model, list(zip(feats, labels, strict=True)))
    strongest = sorted(model[0].items(), key=lambda kv: -kv[1])[:12]
    print("\nstrongest terms of the model trained on all of FARSEC:",
          ", ".join(f"{k} {v:.2f}" for k, v in strongest))
    pairs = []
    for page in sorted((DATA / "jira_apache_issues").glob("search_page_*.json")):
        for issue in json.loads(page.read_text(encoding="utf-8"))["issues"]:
            f = issue["fields"]
            comments = [c.get("body") or "" for c in (f.get("comment") or {}).get("comments", [])]
            text = "\n".join([f.get("summary") or "", f.get("description") or "", *comments])
            truth = any(lbl.lower() == "security" for lbl in f.get("labels") or [])
            pairs.append((truth, score(model, features(text)) >= th))
    p, r, f1 = prf(pairs)
    print(f"Apache Jira, model trained on FARSEC: precision {p:.3f} recall {r:.3f} F1 {f1:.3f}")


if __name__ == "__main__":
    main()
