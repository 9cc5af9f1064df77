"""vulnmark: machine-classified vulnerability tickets, visible deadlines, provable daily control."""

__version__ = "0.1.0"
