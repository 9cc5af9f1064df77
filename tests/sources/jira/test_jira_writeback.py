"""Label write-back: validation before any request, dry run by default, idempotence, PUT and
Cloud bulk edit, evidence for every applied change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from vulnmark.sources.jira.settings import JiraAuthError, JiraSettings, LabelError
from vulnmark.sources.jira.writeback import LabelEdit, apply_labels
from vulnmark.store import Store
from vulnmark.store import events as store_events
from vulnmark.testing import JiraEmulator

SITE = "https://example.atlassian.net"


def settings(flavour: str = "cloud") -> JiraSettings:
    return JiraSettings(url=SITE, jql="project = VULN", flavour=flavour,  # type: ignore[arg-type]
                        email="sec@example.org", token="t")


async def _no_sleep(_s: float) -> None:
    return None


def apply(store: Store, emu: JiraEmulator, edits: list[LabelEdit], **kw: Any) -> Any:
    kw.setdefault("flavour", "cloud")
    flavour = kw.pop("flavour")
    return apply_labels(store, settings(flavour), edits, transport=httpx.ASGITransport(app=emu),
                        sleep=_no_sleep, **kw)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with Store.open(f"sqlite:///{tmp_path / 'v.db'}") as st:
        yield st


def label_events(store: Store) -> list[dict[str, Any]]:
    with store.reading() as conn:
        return [json.loads(e.payload) if isinstance(e.payload, str) else e.payload
                for e in store_events.iter_events(conn) if e.kind == "label_change"]


def test_invalid_labels_stop_everything_before_any_request(store: Store) -> None:
    emu = JiraEmulator()
    emu.generate(2)
    for bad in ("has space", "x" * 256, ""):
        with pytest.raises(LabelError) as e:
            apply(store, emu, [LabelEdit("VULN-1", add=("HIGH",)),
                               LabelEdit("VULN-2", add=(bad,))], dry_run=False)
        assert "VULN-2" in str(e.value) and e.value.field == "add[0]"
    assert emu.request_count == 0


def test_dry_run_is_the_default_and_writes_nothing(store: Store) -> None:
    emu = JiraEmulator()
    emu.generate(2, labels=(("Sérülékenység",),))
    out = apply(store, emu, [LabelEdit("VULN-1", add=("HIGH",)), LabelEdit("VULN-9", add=("X",))])
    assert [(o.key, o.status, o.added) for o in out] == [
        ("VULN-1", "would_apply", ("HIGH",)), ("VULN-9", "not_found", ())]
    assert emu.issues["VULN-1"].fields["labels"] == ["Sérülékenység"]
    assert all(e.method != "PUT" for e in emu.exchanges)
    assert label_events(store) == []


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_put_is_idempotent_and_evidenced(store: Store, flavour: str) -> None:
    emu = JiraEmulator(flavour=flavour)  # type: ignore[arg-type]
    emu.generate(3, labels=(("Sérülékenység", "LOW"),))
    edits = [LabelEdit("VULN-1", add=("HIGH", "Sérülékenység"), remove=("LOW",)),
             LabelEdit("VULN-2", add=("LOW",)), LabelEdit("VULN-99", add=("LOW",))]
    out = apply(store, emu, edits, dry_run=False, actor="mso@example.org", flavour=flavour)
    assert [(o.key, o.status, o.added, o.removed) for o in out] == [
        ("VULN-1", "applied", ("HIGH",), ("LOW",)), ("VULN-2", "unchanged", (), ()),
        ("VULN-99", "not_found", (), ())]
    assert emu.issues["VULN-1"].fields["labels"] == ["Sérülékenység", "HIGH"]
    puts = [json.loads(e.body) for e in emu.exchanges if e.method == "PUT"]
    assert puts == [{"update": {"labels": [{"add": "HIGH"}, {"remove": "LOW"}]}}]
    events = label_events(store)
    assert len(events) == 1 and events[0]["ticket"] == "VULN-1"
    assert events[0]["added"] == ["HIGH"] and events[0]["by"] == "mso@example.org"
    assert (events[0]["v"], events[0]["via"], events[0]["site"]) == (3, "jira", SITE)
    again = apply(store, emu, edits[:2], dry_run=False, flavour=flavour)
    assert {o.status for o in again} == {"unchanged"}
    assert len(label_events(store)) == 1


def test_cloud_bulk_edit_for_large_batches(store: Store) -> None:
    emu = JiraEmulator()
    emu.generate(120, labels=(("Sérülékenység",),))
    edits = [LabelEdit(f"VULN-{n}", add=("MEDIUM",)) for n in range(1, 121)]
    out = apply(store, emu, edits, dry_run=False, bulk_threshold=50)
    assert {o.status for o in out} == {"applied"}
    assert all("MEDIUM" in i.fields["labels"] for i in emu.issues.values())
    paths = [e.path for e in emu.exchanges]
    assert paths.count("/rest/api/3/bulk/issues/fields") == 1
    assert not any(e.method == "PUT" for e in emu.exchanges)
    assert sum(p.startswith("/rest/api/3/bulk/queue/") for p in paths) == 2  # RUNNING, COMPLETE
    assert len(label_events(store)) == 120


def test_permission_denied_stops_with_a_clear_message(store: Store) -> None:
    emu = JiraEmulator(forbid=("/issue/VULN-",))
    emu.generate(1)
    with pytest.raises(JiraAuthError, match="403.*Edit Issues"):
        apply(store, emu, [LabelEdit("VULN-1", add=("HIGH",))], dry_run=False)
    assert label_events(store) == []
