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
