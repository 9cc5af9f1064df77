"""The presets: the handling times of the frameworks a TSP answers to
(``../shared/reference/standards.md`` at the time of writing). A new preset is one entry in
:data:`PRESETS`; ``vulnmark init --preset``, the ``preset`` setting and the README's preset list
take it from here.
"""

from __future__ import annotations

from vulnmark.config.policy import ClassDef, Policy
from vulnmark.errors import ConfigError

HU = {"CRITICAL": "KRITIKUS", "HIGH": "MAGAS", "MEDIUM": "KÖZEPES", "LOW": "ALACSONY",
      "INFORMATIVE": "INFORMATÍV"}
CLASS_ORDER = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIVE")


def _classes(deadlines: dict[str, float | None]) -> tuple[ClassDef, ...]:
    return tuple(ClassDef(n, (HU[n],), deadlines.get(n)) for n in CLASS_ORDER)


#: Presets: handling time in calendar hours per class, from ../shared/reference/standards.md.
PRESETS: dict[str, tuple[str, dict[str, float | None]]] = {
    "etsi-319-401": (
        "ETSI EN 319 401 V3.2.1 REQ-7.9.2-09: a critical vulnerability is addressed within 48 h "
        "of discovery; other classes have no fixed clock (REQ-7.9.2-10: plan or documented basis).",
        {"CRITICAL": 48},
    ),
    "ncssr-v1": (
        "CA/B Forum NCSSR v1.7 4.f: 96 h for a Critical Vulnerability (CVSS v2.0 >= 7.0, i.e. "
        "this policy's CRITICAL and HIGH).",
        {"CRITICAL": 96, "HIGH": 96},
    ),
    "ncssr-v2": (
        "CA/B Forum NCSSR v2.0.5 4.2: the CA's own CP/CPS 6.7 timeframes. Defaults follow a "
        "published CP/CPS (critical 96 h, high 1 month, medium 3 months, low 6 months); set yours.",
        {"CRITICAL": 96, "HIGH": 720, "MEDIUM": 2160, "LOW": 4320},
    ),
    "pci-dss": (
        "PCI DSS v4.0.1 6.3.3: critical vulnerabilities patched within one month (720 h); "
        "other classes in a time frame the entity sets.",
        {"CRITICAL": 720},
    ),
}


def preset(name: str) -> Policy:
    """The policy of a preset; several presets joined by ``+`` take the strictest deadline."""
    names = [n.strip() for n in name.split("+")]
    deadlines: dict[str, float | None] = {}
    for n in names:
        if n not in PRESETS:
            raise ConfigError(
                f"unknown preset {n!r}; choose one of: {', '.join(sorted(PRESETS))}"
            )
        for cls, hours in PRESETS[n][1].items():
            if hours is not None:
                current = deadlines.get(cls)
                deadlines[cls] = hours if current is None else min(current, hours)
    return Policy(preset="+".join(names), classes=_classes(deadlines))
