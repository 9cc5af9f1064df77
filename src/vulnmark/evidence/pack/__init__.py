"""The auditor's evidence pack: everything about the control in a period, verifiable offline.

* :mod:`.export`: writes a pack (ZIP or directory) for a period;
* :mod:`.verify`: checks a pack on its own and names every problem;
* :mod:`.derived` and :mod:`.summary`: the files computed from the pack's records (and its
  metrics basis), the same on both sides;
* :mod:`.html`: the summary page an auditor reads; :mod:`.charts`: its SVG charts.
"""

from vulnmark.evidence.pack.export import PackResult, export
from vulnmark.evidence.pack.summary import control_days
from vulnmark.evidence.pack.verify import PackVerification, verify

__all__ = ["PackResult", "PackVerification", "control_days", "export", "verify"]
