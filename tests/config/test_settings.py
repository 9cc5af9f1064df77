"""One declaration of every setting (config.settings.SETTINGS): the README's table and the
file `vulnmark init` writes are generated from it, and every parser knows exactly its keys."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from vulnmark.check.infer import _options as inference_options
from vulnmark.config import evidence as evidence_config
from vulnmark.config import incident as incident_config
from vulnmark.config import intake, publish, reach, sections
from vulnmark.config.load import _TOP, from_mapping, load
from vulnmark.config.outcomes import RULE_KEYS
from vulnmark.config.presets import PRESETS, preset
from vulnmark.config.schedule import SCHEDULE_KEYS
from vulnmark.config.settings import SETTINGS, known_keys, readme_table, template
from vulnmark.errors import ConfigError

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_table_is_generated_from_settings() -> None:
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- settings-table -->\n")[1].split("<!-- /settings-table -->")[0]
    assert block == readme_table(), "regenerate the README table: config.settings.readme_table()"


@pytest.mark.parametrize("table", ["smtp", "source.jira", "schedule", "outcomes", "tracker",
                                   "dates", "labels", "classes.NAME", "inference", "report",
                                   "reminders", "alert", "publish", "intake", "incident",
                                   "evidence", ""])
def test_every_parser_knows_exactly_the_declared_keys(table: str) -> None:
    parsed = {
        "smtp": set(sections.SMTP_KEYS), "source.jira": set(sections.JIRA_KEYS),
        "schedule": set(SCHEDULE_KEYS), "outcomes": set(RULE_KEYS), "tracker": {"prefix"},
        "dates": {"earliest", "future_days"}, "labels": {"vulnerability"},
        "classes.NAME": {"aliases", "deadline_hours"},
        "inference": set(inference_options._KEYS),
        "report": set(reach.REPORT_KEYS),
        "reminders": set(reach.REMINDER_KEYS),
        "alert": set(reach.ALERT_KEYS),
        "publish": set(publish.KEYS), "intake": set(intake.INTAKE_KEYS),
        "incident": set(incident_config.INCIDENT_KEYS),
        "evidence": set(evidence_config.EVIDENCE_KEYS),
        "": {k for k in _TOP if k not in ("labels", "classes", "smtp", "source", "dates",
                                          "tracker", "inference", "schedule", "outcomes",
                                          "report", "reminders", "alert", "publish", "intake",
                                          "incident", "evidence")},
    }[table]
    assert parsed == set(known_keys(table))


def _uncommented(text: str) -> str:
    """The template with every commented-out key and table switched on."""
    return re.sub(r"^# (\[[\w.]+\]|\w+ = .+)$", r"\1", text, flags=re.M)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_the_init_template_names_every_setting_and_every_example_is_valid(
        tmp_path: Path, name: str) -> None:
    text = template(preset(name))
    for s in SETTINGS:
        table = s.table.replace("NAME", preset(name).class_names[0])
        assert (f"[{table}]" in text or not table) and f"{s.key} = " in text, s.name
    loaded = load(_write(tmp_path, text)).policy
    assert loaded == preset(name)
    everything = tomllib.loads(_uncommented(text))
    assert set(everything) >= {"preset", "recipients", "schedule", "source", "inference"}
    config = from_mapping(everything)  # every example and default, switched on, is valid
    assert config.jira is not None and config.schedule is not None


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "vulnmark.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_unknown_key_of_any_table_names_the_key() -> None:
    for table in ("smtp", "tracker", "schedule", "outcomes", "dates", "labels", "inference",
                  "intake", "evidence"):
        with pytest.raises(ConfigError, match=f"{table}.zz_typo"):
            from_mapping({table: {"zz_typo": 1}})
    with pytest.raises(ConfigError, match="source.jira.zz_typo"):
        from_mapping({"source": {"jira": {"zz_typo": 1}}})


@pytest.mark.parametrize(("table", "message"), [
    ({"tsa_url": "ftp://tsa.example"}, "evidence.tsa_url: expected an http"),
    ({"tsa_url": 7}, "evidence.tsa_url"),
    ({"tsa_timeout": 0}, "evidence.tsa_timeout: expected 0 to 600"),
    ({"tsa_timeout": True}, "evidence.tsa_timeout"),
])
def test_a_bad_evidence_setting_names_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_mapping({"evidence": table})


def test_the_tsa_is_read_from_the_evidence_table() -> None:
    config = from_mapping({"evidence": {"tsa_url": "http://127.0.0.1:3180/tsr",
                                        "tsa_timeout": 4}})
    assert config.evidence.tsa_url == "http://127.0.0.1:3180/tsr"
    assert config.evidence.tsa_timeout == 4.0
    assert from_mapping({}).evidence.tsa_url is None
