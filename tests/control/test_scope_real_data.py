"""The daily report's scope on 1,299 real Apache Jira issues: the suspected section lists the
open tickets (none changed in the last day), the resolved backlog is counted with its command."""

from __future__ import annotations

import json

from core_support import Cli
from shared_data import data

NOW = "2026-12-02T07:00:00Z"


def test_apache_report_lists_open_suspected_only(vm: Cli) -> None:
    pages = sorted(data("jira_apache_issues").glob("search_page_*.json"))
    assert len(pages) == 3
    vm.ok("import", *map(str, pages))
    check = json.loads(vm.ok("check", "--kind", "suspected", "--format", "json", now=NOW).output)
    every = {f["ticket"] for f in check["findings"]}
    open_ = {f["ticket"] for f in json.loads(vm.ok(
        "check", "--kind", "suspected", "--state", "open", "--format", "json",
        now=NOW).output)["findings"]}
    report = json.loads(vm.ok("report", "daily", "--format", "json", now=NOW).output)
    listed = {f["ticket"] for f in report["findings"] if f["kind"] == "suspected"}
    assert listed == open_
    assert len(every) > 3 * len(listed) > 0  # most of the noise was history
    backlog = len(every) - len(open_)
    assert report["summary"]["left_out"] == [
        f"{backlog} older suspected tickets (resolved, unchanged since 2026-12-01 07:00): run "
        "`vulnmark check --kind suspected --state resolved`"]
    assert report["summary"]["by_kind"]["suspected"] == len(every)
