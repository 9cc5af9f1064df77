"""m8 of the reliability report: a URL with ``user:password@`` is refused, for every command.

The Jira URL ``https://user:TopSecretPw@…`` was accepted, then printed on stderr and stored in
``runs.error``, the evidence log and the next report. Secrets come only from the environment;
the refusal names the key and never repeats the password.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core_support import Cli
from vulnmark.report.interface import safe_url
from vulnmark.sources.jira.settings import JiraConfigError, JiraSettings

SECRET = "TopSecretPw"


@pytest.mark.parametrize("url", [f"https://user:{SECRET}@127.0.0.1:9",
                                 f"https://{SECRET}@jira.example.org",
                                 f"http://user:{SECRET}@localhost:8080/jira"])
@pytest.mark.parametrize("command", [["sync"], ["check"], ["report", "daily"]])
def test_m8_credentials_in_the_jira_url_are_refused(vm: Cli, tmp_path: Path, url: str,
                                                     command: list[str]) -> None:
    cfg = tmp_path / "u.toml"
    cfg.write_text(f'[source.jira]\nurl = "{url}"\njql = "project = SEC"\nmax_retries = 0\n'
                   'flavour = "datacenter"\n', encoding="utf-8")
    result = vm(*command, config=cfg, env={"JIRA_PAT": "x"})
    assert result.exit_code == 2, result.output
    assert "source.jira.url" in result.stderr and "credentials" in result.stderr
    assert SECRET not in result.output + result.stderr
    assert "Traceback" not in result.output


def test_m8_the_library_refuses_them_too() -> None:
    with pytest.raises(JiraConfigError, match="credentials") as info:
        JiraSettings(url=f"https://bob:{SECRET}@jira.example.org", jql="project = SEC")
    assert SECRET not in str(info.value)


def test_m8_reports_never_link_a_url_with_user_info() -> None:
    assert safe_url("https://jira.example.org/browse/SEC-1") is not None
    for url in (f"https://u:{SECRET}@jira.example.org/browse/SEC-1",
                "https://jira.example.org@evil.example/browse/SEC-1"):
        assert safe_url(url) is None


@pytest.mark.parametrize("toml", [
    f'recipients = ["mso@example.org"]\n[intake]\nurl = "https://bot:{SECRET}@chat.example"\n',
    f'[inference]\npatterns = [{{regex = "x", class = "HIGH"}}]\nnote = "ftp://u:{SECRET}@h/"\n',
])
def test_m8_any_url_in_the_file_with_credentials_is_refused(tmp_path: Path, toml: str) -> None:
    from vulnmark.config.load import load
    from vulnmark.errors import ConfigError
    path = tmp_path / "vulnmark.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match="credentials") as info:
        load(path, required=True)
    assert SECRET not in str(info.value)


def test_m8_a_regex_that_mentions_a_url_is_not_a_url(tmp_path: Path) -> None:
    from vulnmark.config.load import load
    path = tmp_path / "vulnmark.toml"
    path.write_text('[inference]\npatterns = [{regex = "https?://[a-z]+@", class = "HIGH"}]\n',
                    encoding="utf-8")
    load(path, required=True)
