"""Text inference: classification statements, CVSS vectors and vulnerability signals.

``read(ticket, policy)`` returns a :class:`vulnmark.model.Reading`: the class the text
states (or None: inference abstains rather than guesses), a confidence, the evidence
snippets, and the vulnerability signals that make an unmarked ticket ``suspected``.
``validate_section(section)`` checks the ``[inference]`` table of vulnmark.toml;
``cvss_range(class_name)`` is the CVSS scale the inference rates scores on;
``vector_class`` and ``severity_from_score`` are the CVSS scales (threat intake uses them).
"""

from __future__ import annotations

from vulnmark.check.infer._cvss import vector_class
from vulnmark.check.infer._options import validate_section
from vulnmark.check.infer._read import read
from vulnmark.check.infer._vocab import cvss_range, severity_from_score

__all__ = ["cvss_range", "read", "severity_from_score", "validate_section", "vector_class"]
