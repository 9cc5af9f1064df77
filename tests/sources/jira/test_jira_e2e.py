"""End to end: a separate ``vulnmark`` process syncs 2,000 issues (the 1,299 real Apache Jira
issues plus synthetic ones) from the emulator served on 127.0.0.1, with injected 429s and
latency; it is killed with SIGKILL mid-sync and run again; afterwards the store equals the
emulator's content exactly.

The process is ``python -m vulnmark --db URL --config PATH sync``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shared_data import apache_pages
from vulnmark.sources.files.jira_json import ticket_from_jira
from vulnmark.store import Store
from vulnmark.testing import JiraEmulator
from vulnmark.testing.server import serve_in_thread

PROJECTS = "VULN, AMQ, HADOOP, HDFS, HIVE, MAPREDUCE, STORM, YARN, ZOOKEEPER"
EMAIL, TOKEN = "sec@example.org", "api-token-123"


def command(db_url: str, config_path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "vulnmark", "--db", db_url, "--config", str(config_path),
            "sync", *extra]


@pytest.mark.slow
def test_sync_process_killed_mid_run_resumes_to_an_exact_copy(tmp_path: Path) -> None:
    emu = JiraEmulator(latency=0.01, auth={JiraEmulator.basic(EMAIL, TOKEN)},
                       cloud_page_cap=50)
    assert emu.load_search_pages(apache_pages()) == 1299
    emu.generate(701, many_comments_every=50)
    assert len(emu.issues) == 2000
    emu.inject(429, retry_after="0", times=2, path="/search", at=5)
    emu.inject(503, retry_after="0", path="/search", at=30)
    emu.inject(429, retry_after="0", path="/comment")
    db_url = f"sqlite:///{tmp_path / 'vulnmark.db'}"
    env = {**os.environ, "JIRA_EMAIL": EMAIL, "JIRA_TOKEN": TOKEN}
    env.pop("VULNMARK_CONFIG", None)
    with serve_in_thread(emu) as url:
        cfg = tmp_path / "vulnmark.toml"
        cfg.write_text(f'[source.jira]\nurl = "{url}"\nflavour = "cloud"\n'
                       f'jql = "project in ({PROJECTS})"\npage_size = 50\n', encoding="utf-8")
        proc = subprocess.Popen(command(db_url, cfg), env=env, cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while emu.search_requests() < 15 and time.monotonic() < deadline:
            time.sleep(0.01)
            assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        with Store.open(db_url) as store:
            partial = store.ticket_keys(source="jira")
        assert 0 < len(partial) < 2000
        searches_before = emu.search_requests()
        done = subprocess.run(command(db_url, cfg), env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "resumed" in done.stdout
        # the second run did not start over: it skipped the pages stored before the kill
        assert emu.search_requests() - searches_before < 40
    with Store.open(db_url) as store:
        assert store.ticket_keys(source="jira") == set(emu.issues)
        assert store.count_tickets() == 2000
        for key in sorted(emu.issues):
            want = ticket_from_jira(emu.full_issue(key), base_url=url, source="jira")
            assert store.get_ticket(key) == want, key
    statuses = [e.status for e in emu.exchanges]
    assert statuses.count(429) == 3 and statuses.count(503) == 1
