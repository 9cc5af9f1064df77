"""The ``[outcomes]`` table: resolution names that imply an outcome, and whether a resolved
vulnerability needs one. Part of the policy: it changes findings (``late``, ``no_outcome``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, cast

from vulnmark.errors import ConfigError
from vulnmark.model import NO_REMEDIATION_REASONS, Outcome, Ticket


@dataclass(frozen=True)
class OutcomeRules:
    """The ``[outcomes]`` configuration: resolution names that imply an outcome."""

    remediated: tuple[str, ...] = ("Fixed", "Done")
    mitigation_plan: tuple[str, ...] = ()
    no_remediation: tuple[str, ...] = ("Won't Fix", "Won't Do")
    no_remediation_reason: str = "other"
    required: bool = True
    """Whether a resolved vulnerability without any outcome is a ``no_outcome`` finding."""

    def infer(self, resolution: str | None) -> str | None:
        """The outcome kind a resolution name implies (case-insensitive), or None."""
        if not resolution:
            return None
        folded = resolution.strip().casefold()
        for kind in ("remediated", "mitigation_plan", "no_remediation"):
            names: tuple[str, ...] = getattr(self, kind)
            if any(folded == n.strip().casefold() for n in names):
                return kind
        return None

    def inferred(self, t: Ticket) -> Outcome | None:
        kind = self.infer(t.resolution) if t.resolved is not None else None
        if kind is None or t.resolved is None:
            return None
        return Outcome(
            ticket=t.key, kind=cast(Any, kind), recorded_at=t.resolved,
            text=f"inferred from resolution {t.resolution!r}",
            reason=self.no_remediation_reason if kind == "no_remediation" else None,
            actor=None)


RULE_KEYS = ("remediated", "mitigation_plan", "no_remediation", "no_remediation_reason",
             "required")


def parse_rules(raw: Mapping[str, Any]) -> OutcomeRules:
    """Validate the ``[outcomes]`` table; errors name the key."""
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in RULE_KEYS:
            raise ConfigError(f"unknown key 'outcomes.{key}' (expected one of "
                              f"{', '.join(RULE_KEYS)})")
        if key == "required":
            if not isinstance(value, bool):
                raise ConfigError("outcomes.required: expected true or false")
            values[key] = value
        elif key == "no_remediation_reason":
            if value not in NO_REMEDIATION_REASONS:
                raise ConfigError(f"outcomes.no_remediation_reason: expected one of "
                                  f"{', '.join(NO_REMEDIATION_REASONS)}, got {value!r}")
            values[key] = value
        else:
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip()
                                                      for v in value):
                raise ConfigError(f"outcomes.{key}: expected a list of resolution names")
            values[key] = tuple(value)
    rules = replace(OutcomeRules(), **values)
    seen: dict[str, str] = {}
    for kind in ("remediated", "mitigation_plan", "no_remediation"):
        for name in getattr(rules, kind):
            other = seen.setdefault(name.strip().casefold(), kind)
            if other != kind:
                raise ConfigError(f"outcomes: resolution {name!r} is listed under both "
                                  f"{other} and {kind}")
    return rules
