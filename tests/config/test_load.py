"""vulnmark.toml: overrides of the preset, and every invalid configuration exiting 2 with a
message that names the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core_support import Cli
from vulnmark.config.load import Config, load
from vulnmark.config.presets import preset
from vulnmark.config.settings import template
from vulnmark.errors import ConfigError


def write(tmp_path: Path, text: str, name: str = "vulnmark.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_the_etsi_preset(tmp_path: Path) -> None:
    assert load(tmp_path / "absent.toml") == Config(preset("etsi-319-401"))
    assert load(None).policy == preset("etsi-319-401")


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load(tmp_path / "absent.toml", required=True)


def test_overrides(tmp_path: Path) -> None:
    cfg = load(write(tmp_path, """
preset = "ncssr-v1"
timezone = "Europe/Budapest"
due_soon_hours = 12
recipients = ["mso@example.org", "ciso@example.org"]
class_order = ["CRITICAL", "HIGH", "MEDIUM", "LOW"]
[labels]
vulnerability = ["Security-Vuln", "Sérülékenység"]
[classes.HIGH]
aliases = ["MAGAS", "SEV-2"]
deadline_hours = 72
[classes.MEDIUM]
deadline_hours = 240.5
[classes.CRITICAL]
deadline_hours = "none"
[smtp]
host = "mail.example.org"
port = 587
tls = "starttls"
user = "vulnmark"
from = "vulnmark@example.org"
retries = 5
backoff = 0.5
[tracker]
prefix = "CA"
"""))
    p = cfg.policy
    assert p.preset == "ncssr-v1"
    assert p.timezone == "Europe/Budapest" and p.due_soon_hours == 12
    assert cfg.recipients == ("mso@example.org", "ciso@example.org")
    assert p.class_names == ("CRITICAL", "HIGH", "MEDIUM", "LOW")
    assert p.vulnerability_labels == ("Security-Vuln", "Sérülékenység")
    assert p.vulnerability_label == "Security-Vuln"
    assert p.class_def("HIGH").accepted == ("HIGH", "MAGAS", "SEV-2")
    assert p.class_def("HIGH").deadline_hours == 72
    assert p.class_def("MEDIUM").deadline_hours == 240.5
    assert p.class_def("CRITICAL").deadline_hours is None
    assert p.class_def("LOW").aliases == ("ALACSONY",)  # untouched classes keep the preset's
    assert (cfg.smtp.host, cfg.smtp.port, cfg.smtp.tls, cfg.smtp.user) == (
        "mail.example.org", 587, "starttls", "vulnmark")
    assert (cfg.smtp.sender, cfg.smtp.retries, cfg.smtp.backoff) == (
        "vulnmark@example.org", 5, 0.5)
    assert cfg.tracker.prefix == "CA"
    m = p.match_label("SEV-2")
    assert m is not None and m.canonical == "HIGH" and m.exact
    assert p.digest() != preset("ncssr-v1").digest()


def test_a_new_class_can_be_added(tmp_path: Path) -> None:
    p = load(write(tmp_path, """
class_order = ["EMERGENCY", "CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIVE"]
[classes.EMERGENCY]
aliases = ["VESZ"]
deadline_hours = 4
""")).policy
    assert p.class_names[0] == "EMERGENCY" and p.class_def("EMERGENCY").deadline_hours == 4


def test_combination_preset_in_the_file(tmp_path: Path) -> None:
    p = load(write(tmp_path, 'preset = "etsi-319-401+ncssr-v1"\n')).policy
    assert p.class_def("CRITICAL").deadline_hours == 48
    assert p.class_def("HIGH").deadline_hours == 96


@pytest.mark.parametrize("name", ["etsi-319-401", "ncssr-v1", "ncssr-v2", "pci-dss"])
def test_init_template_loads_back_to_the_preset_deadlines(tmp_path: Path, name: str) -> None:
    p = load(write(tmp_path, template(preset(name)))).policy
    assert [c.deadline_hours for c in p.classes] == [
        c.deadline_hours for c in preset(name).classes]
    assert p.preset == name


INVALID = [
    ("unknown key", 'colour = "red"\n', "'colour'"),
    ("unknown nested key", '[smtp]\nhots = "x"\n', "smtp.hots"),
    ("unknown class key", '[classes.HIGH]\ndeadline = 3\n', "classes.HIGH.deadline"),
    ("unknown labels key", '[labels]\nvuln = ["X"]\n', "labels.vuln"),
    ("unknown source", '[source.github]\nurl = "x"\n', "source.github"),
    ("wrong type port", '[smtp]\nport = "25"\n', "smtp.port"),
    ("wrong type preset", "preset = 3\n", "preset"),
    ("wrong type recipients", 'recipients = "mso@example.org"\n', "recipients"),
    ("wrong type due soon", 'due_soon_hours = "x"\n', "due_soon_hours"),
    ("negative due soon", "due_soon_hours = -1\n", "due_soon_hours"),
    ("boolean deadline", "[classes.HIGH]\ndeadline_hours = true\n", "classes.HIGH.deadline_hours"),
    ("zero deadline", "[classes.HIGH]\ndeadline_hours = 0\n", "classes.HIGH.deadline_hours"),
    ("bad timezone", 'timezone = "Mars/Olympus_Mons"\n', "timezone"),
    ("smtp password", '[smtp]\npassword = "hunter2"\n', "smtp.password"),
    ("bad tls", '[smtp]\ntls = "yes"\n', "smtp.tls"),
    ("label with a space", '[labels]\nvulnerability = ["Security Vuln"]\n',
     "labels.vulnerability[0]"),
    ("alias with a space", '[classes.HIGH]\naliases = ["MAGAS", "very high"]\n',
     "classes.HIGH.aliases[1]"),
    ("empty class order", "class_order = []\n", "class_order"),
    ("unknown preset", 'preset = "nope"\n', "nope"),
    ("not TOML", "preset = \n", "line 1"),
    ("class listed twice", 'class_order = ["HIGH", "LOW", "HIGH"]\n', "class_order[2]"),
    ("class not in the order", 'class_order = ["HIGH", "LOW"]\n[classes.URGENT]\n'
     "deadline_hours = 4\n", "classes.URGENT"),
    ("alias of two classes", '[classes.CRITICAL]\naliases = ["MAGAS"]\n',
     "classes.CRITICAL.aliases[0]"),
    ("alias folding into another class", '[classes.LOW]\naliases = ["ALACSONY", "high"]\n',
     "classes.LOW.aliases[1]"),
    ("class label used as vulnerability label", '[labels]\nvulnerability = ["HIGH"]\n',
     "labels.vulnerability[0]"),
]


@pytest.mark.parametrize(("case", "text", "named"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_config_names_the_key(tmp_path: Path, case: str, text: str, named: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, text))
    assert named in str(err.value)
    assert "vulnmark.toml" in str(err.value)


def test_password_value_never_appears_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, '[smtp]\npassword = "hunter2"\n'))
    assert "hunter2" not in str(err.value)


@pytest.mark.parametrize(("case", "text", "named"), INVALID, ids=[c[0] for c in INVALID])
def test_cli_exits_2_naming_the_key(vm: Cli, tmp_path: Path, case: str, text: str,
                                    named: str) -> None:
    path = write(tmp_path, text, "bad.toml")
    result = vm("check", config=path)
    assert result.exit_code == 2, result.output
    assert named in result.stderr and "bad.toml" in result.stderr
    assert "Traceback" not in result.output


def test_default_config_in_the_working_directory_is_read(vm: Cli, tmp_path: Path) -> None:
    write(tmp_path, 'preset = "pci-dss"\n')  # the working directory is tmp_path
    data = json.loads(vm.ok("policy", "show", "--format", "json").stdout)
    assert data["preset"] == "pci-dss"
    write(tmp_path, 'colour = "red"\n')
    assert vm("check").exit_code == 2


def test_not_utf8_config_is_named(vm: Cli, tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'preset = "etsi-319-401" # \xe1rv\xedzt\xfbr\xf5\n')
    result = vm("check", config=path)
    assert result.exit_code == 2
    assert "latin1.toml" in result.stderr and "UTF-8" in result.stderr


def test_explicit_missing_config_exits_2(vm: Cli, tmp_path: Path) -> None:
    result = vm("check", config=tmp_path / "nope.toml")
    assert result.exit_code == 2 and "nope.toml" in result.stderr


def test_policy_show_json_reflects_the_file(vm: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, 'preset = "ncssr-v2"\n[classes.HIGH]\ndeadline_hours = 100\n')
    data = json.loads(vm.ok("policy", "show", "--format", "json", config=path).stdout)
    assert data["preset"] == "ncssr-v2"
    hours = {c["name"]: c["deadline_hours"] for c in data["classes"]}
    assert hours == {"CRITICAL": 96, "HIGH": 100, "MEDIUM": 2160, "LOW": 4320,
                     "INFORMATIVE": None}
    assert data["digest"] == load(path).policy.digest()
    assert "password" not in json.dumps(data["smtp"])


D5 = [
    ("jira typo", '[source.jira]\nurl = "https://x.atlassian.net"\njq = "project = X"\n',
     "source.jira.jq"),
    ("jira wrong type", '[source.jira]\nconcurrency = "4"\n', "source.jira.concurrency"),
    ("jira plain http", '[source.jira]\nurl = "http://jira.example.org"\n', "source.jira.url"),
    ("tracker typo", '[tracker]\nprefx = "CA"\n', "tracker.prefx"),
    ("tracker prefix with a space", '[tracker]\nprefix = "C A"\n', "tracker.prefix"),
]


@pytest.mark.parametrize("command", [["check"], ["list"], ["runs"], ["policy", "show"],
                                     ["ticket", "show", "VULN-1"]])
@pytest.mark.parametrize(("case", "text", "named"), D5, ids=[c[0] for c in D5])
def test_d5_jira_and_tracker_tables_are_checked_at_load_by_every_command(
        vm: Cli, tmp_path: Path, command: list[str], case: str, text: str, named: str) -> None:
    result = vm(*command, config=write(tmp_path, text, "bad.toml"))
    assert result.exit_code == 2, (case, result.output)
    assert named in result.stderr and "bad.toml" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("key", ["token", "pat", "password"])
def test_d5_a_jira_secret_in_the_file_is_refused(vm: Cli, tmp_path: Path, key: str) -> None:
    path = write(tmp_path, f'[source.jira]\nurl = "https://x.atlassian.net"\n{key} = "s3cr3t"\n')
    result = vm("check", config=path)
    assert result.exit_code == 2
    assert f"source.jira.{key}" in result.stderr and "environment" in result.stderr
    assert "s3cr3t" not in result.output


@pytest.mark.parametrize("text, key", [
    ("[smtp]\ntimeout = 0\n", "smtp.timeout"), ("[smtp]\ntimeout = -1\n", "smtp.timeout"),
    ("[smtp]\ntimeout = nan\n", "smtp.timeout"), ("[smtp]\nbackoff = -1.0\n", "smtp.backoff"),
    ("[smtp]\nbackoff = nan\n", "smtp.backoff"), ("[smtp]\nbackoff = inf\n", "smtp.backoff"),
    ("[smtp]\nport = 99999\n", "smtp.port"), ("[smtp]\nport = 0\n", "smtp.port"),
    ("[smtp]\ndeadline = 0\n", "smtp.deadline"), ("[smtp]\nretries = 0\n", "smtp.retries"),
])
def test_m7_smtp_numbers_that_crashed_the_send_are_refused_at_load(
        vm: Cli, tmp_path: Path, text: str, key: str) -> None:
    result = vm("check", config=write(tmp_path, text))  # any command, not only a send
    assert result.exit_code == 2, result.output
    assert key in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("text, named", [
    ('[source.jira]\nurl = "https://x.atlassian.net"\njql = "project = A"\ntoken = "hunter2"\n',
     "source.jira.token: credentials come only from the environment"),
    ('[source.jira]\nurl = "https://x.atlassian.net"\njql = "project = A"\ntypo = 1\n',
     "unknown key 'source.jira.typo'"),
    ("[classes.CRITICAL]\ndeadline_hours = nan\n", "classes.CRITICAL.deadline_hours"),
    ("due_soon_hours = inf\n", "due_soon_hours"),
])
@pytest.mark.parametrize("command", [("check",), ("list",), ("report", "daily"), ("runs",)])
def test_m12_the_whole_file_is_checked_at_load_for_every_command(
        vm: Cli, tmp_path: Path, text: str, named: str, command: tuple[str, ...]) -> None:
    result = vm(*command, config=write(tmp_path, text))
    assert result.exit_code == 2, result.output
    assert named in result.stderr and "hunter2" not in result.output
    assert "Traceback" not in result.output
