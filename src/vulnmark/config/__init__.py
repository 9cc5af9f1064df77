"""Configuration: ``vulnmark.toml`` parsed and validated once, at load.

* :mod:`.load`: :func:`.load.load` -> :class:`.load.Config` (every table, checked);
* :mod:`.policy`: the :class:`.policy.Policy`, only what changes findings, and its digest;
* :mod:`.presets`: the frameworks' handling times;
* :mod:`.settings`: every key, declared once (the init template and the README table);
* :mod:`.sections`, :mod:`.schedule`, :mod:`.outcomes`: the other tables.
"""
