"""Keep only the operations vulnmark uses from an OpenAPI document, and every component they
reach ($ref closure); nothing inside a kept operation or component is changed."""
from __future__ import annotations

import json
import sys
from typing import Any


def prune(doc: dict[str, Any], keep: dict[str, list[str]]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k not in ("paths", "components", "tags")}
    out["paths"] = {}
    for path, methods in keep.items():
        item = doc["paths"][path]
        out["paths"][path] = {m: item[m] for m in methods}
        if "parameters" in item:
            out["paths"][path]["parameters"] = item["parameters"]
    comps = doc.get("components", {})
    kept: dict[str, dict[str, Any]] = {}
    todo: list[Any] = [out["paths"]]
    seen: set[str] = set()
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/") and ref not in seen:
                seen.add(ref)
                _, _, section, name = ref.split("/", 3)
                target = comps[section][name]
                kept.setdefault(section, {})[name] = target
                todo.append(target)
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    if "securitySchemes" in comps:
        kept["securitySchemes"] = comps["securitySchemes"]
    out["components"] = {s: dict(sorted(v.items())) for s, v in sorted(kept.items())}
    return out

def main() -> None:
    which, src, dst = sys.argv[1:4]
    with open(src, encoding="utf-8") as f:
        doc = json.load(f)
    keep = {
        "v2": {"/pages": ["get", "post"], "/pages/{id}": ["get", "put"], "/spaces": ["get"]},
        "v1": {"/wiki/rest/api/content": ["get", "post"],
               "/wiki/rest/api/content/{id}": ["get", "put"]},
    }[which]
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(prune(doc, keep), f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
