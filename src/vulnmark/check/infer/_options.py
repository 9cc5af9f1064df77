"""The ``[inference]`` table of vulnmark.toml: validation and compiled, cached options.

```toml
[inference]
priority_is_severity = false          # a Jira priority "High" is a severity only if true
scales = { problematic = "LOW" }       # read VulDB's "problematic" as LOW instead of MEDIUM
patterns = [                          # a TSP's own phrasings, compiled case-insensitively
  { regex = 'P1 security', class = "CRITICAL" },
]
```
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from vulnmark.check.infer._vocab import CANONICAL
from vulnmark.config.policy import Policy
from vulnmark.errors import ConfigError as PolicyError

logger = logging.getLogger(__name__)

_KEYS = frozenset({"patterns", "priority_is_severity", "scales"})
_PATTERN_KEYS = frozenset({"regex", "class"})


@dataclass(frozen=True)
class Options:
    """Compiled inference options of one policy."""

    patterns: tuple[tuple[re.Pattern[str], str], ...] = ()
    priority_is_severity: bool = False
    class_names: tuple[str, ...] = CANONICAL
    scales: tuple[tuple[str, str], ...] = ()
    """(lower-case word prefix, class): the policy's reading of class words, longest first."""

    def rescaled(self, word: str) -> str | None:
        """The class the policy's ``scales`` give ``word`` (None: the built-in scales)."""
        w = word.strip().casefold()
        return next((cls for prefix, cls in self.scales if w.startswith(prefix)), None)


def _resolve_class(value: object, where: str, class_names: Sequence[str]) -> str:
    if not isinstance(value, str):
        raise PolicyError(f"{where}: expected a class name string, got {type(value).__name__}")
    folded = {c.casefold(): c for c in class_names}
    found = folded.get(value.strip().casefold())
    if found is None:
        raise PolicyError(
            f"{where}: unknown class {value!r}; choose one of: {', '.join(class_names)}"
        )
    return found


def parse_section(
    section: Mapping[str, object], class_names: Sequence[str] | None = None
) -> Options:
    """Options from an ``[inference]`` table; PolicyError names the offending key."""
    names = tuple(class_names) if class_names else CANONICAL
    if not isinstance(section, Mapping):
        raise PolicyError(f"inference: expected a table, got {type(section).__name__}")
    for key in section:
        if key not in _KEYS:
            raise PolicyError(
                f"inference.{key}: unknown key; known keys: {', '.join(sorted(_KEYS))}"
            )
    flag = section.get("priority_is_severity", False)
    if not isinstance(flag, bool):
        raise PolicyError(
            f"inference.priority_is_severity: expected true or false, got {flag!r}"
        )
    raw = section.get("patterns", [])
    if not isinstance(raw, list):
        raise PolicyError(f"inference.patterns: expected a list of tables, got {raw!r}")
    compiled: list[tuple[re.Pattern[str], str]] = []
    for i, item in enumerate(raw):
        where = f"inference.patterns[{i}]"
        if not isinstance(item, Mapping):
            raise PolicyError(f"{where}: expected a table with 'regex' and 'class'")
        for key in item:
            if key not in _PATTERN_KEYS:
                raise PolicyError(f"{where}.{key}: unknown key; known keys: class, regex")
        for key in ("regex", "class"):
            if key not in item:
                raise PolicyError(f"{where}.{key}: missing")
        regex = item["regex"]
        if not isinstance(regex, str) or not regex:
            raise PolicyError(f"{where}.regex: expected a non-empty string")
        try:
            pattern = re.compile(regex, re.IGNORECASE)
        except re.error as e:
            raise PolicyError(f"{where}.regex: invalid regular expression: {e}") from e
        if pattern.match(""):
            raise PolicyError(f"{where}.regex: matches the empty string")
        compiled.append((pattern, _resolve_class(item["class"], f"{where}.class", names)))
    return Options(tuple(compiled), flag, names, _scales(section.get("scales", {}), names))


def _scales(raw: object, names: Sequence[str]) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"inference.scales: expected a table of word = class, got {raw!r}")
    out = []
    for word, cls in raw.items():
        where = f"inference.scales.{word}"
        if not isinstance(word, str) or not word.strip():
            raise PolicyError(f"{where}: expected a non-empty word")
        out.append((word.strip().casefold(), _resolve_class(cls, where, names)))
    return tuple(sorted(out, key=lambda e: -len(e[0])))


def validate_section(
    section: Mapping[str, object], class_names: Sequence[str] | None = None
) -> None:
    """Validate the ``[inference]`` table; raise PolicyError naming the key.

    Example message: ``inference.patterns[2].class: unknown class 'HUGE'; choose one of: …``.
    ``class_names`` defaults to the canonical severities; pass ``policy.class_names`` when
    the policy defines its own classes.
    """
    parse_section(section, class_names)


def options_for(policy: Policy) -> Options:
    """The compiled options of ``policy``'s ``[inference]`` table (validated at load),
    compiled once per table and class list."""
    return _compiled(policy.inference.text, policy.class_names)


@lru_cache(maxsize=64)
def _compiled(table: str, class_names: tuple[str, ...]) -> Options:
    return parse_section(json.loads(table), class_names or None)
