"""The auditor's evidence pack: everything about the control in a period, verifiable offline.

* :mod:`.export`: writes a pack (ZIP or directory) for a period;
* :mod:`.verify`: checks a pack on its own and names every problem;
* :mod:`.html`: the summary page an auditor reads; :mod:`.charts`: its SVG charts.
"""

from vulnmark.evidence.pack.export import PackResult, control_days, export
from vulnmark.evidence.pack.verify import PackVerification, verify

__all__ = ["PackResult", "PackVerification", "control_days", "export", "verify"]
