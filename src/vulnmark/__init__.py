"""vulnmark: machine-classified vulnerability tickets, visible deadlines, provable daily control."""

from vulnmark._version import __version__

__all__ = ["__version__"]
