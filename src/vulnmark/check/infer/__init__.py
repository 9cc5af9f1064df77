"""Text inference: classification statements, CVSS vectors and vulnerability signals.

``read(ticket, policy)`` returns a :class:`vulnmark.model.Reading`: the class the text
states (or None: inference abstains rather than guesses), a confidence, the evidence
snippets, and the vulnerability signals that make an unmarked ticket ``suspected``.
``validate_section(section)`` checks the ``[inference]`` table of vulnmark.toml.
"""

from __future__ import annotations

from vulnmark.check.infer._options import validate_section
from vulnmark.check.infer._read import read

__all__ = ["read", "validate_section"]
