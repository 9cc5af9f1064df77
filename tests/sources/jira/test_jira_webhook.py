"""Webhook handler: HMAC over the raw body, deduplication across retries, created / updated /
deleted applied to the store."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from vulnmark.sources.jira.webhook import WebhookError, WebhookHandler, signature
from vulnmark.store import Store

SECRET = "It's a Secret to Everybody"


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with Store.open(f"sqlite:///{tmp_path / 'v.db'}") as st:
        yield st


def issue(key: str = "SEC-4", labels: list[str] | None = None, summary: str = "TLS downgrade",
          comments: int = 0) -> dict[str, Any]:
    return {"id": "16642", "key": key, "self": "https://example.atlassian.net/rest/api/2/issue/1",
            "fields": {"summary": summary, "description": "Found in *review*.",
                       "labels": labels if labels is not None else ["Sérülékenység"],
                       "created": "2026-11-20T10:00:00.000+0000",
                       "updated": "2026-11-21T10:00:00.000+0000",
                       "comment": {"comments": [
                           {"id": str(i), "body": f"note {i}",
                            "author": {"displayName": "Ann"},
                            "created": "2026-11-20T11:00:00.000+0000"} for i in range(comments)],
                           "total": comments, "maxResults": comments, "startAt": 0}}}


def deliver(handler: WebhookHandler, payload: dict[str, Any], ident: str = "d-1",
            secret: str = SECRET) -> Any:
    body = json.dumps(payload).encode()
    headers = {"X-Hub-Signature": signature(secret, body),
               "X-Atlassian-Webhook-Identifier": ident, "Content-Type": "application/json"}
    return handler.handle(body, headers)


def test_signature_is_jira_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"webhookEvent":"jira:issue_updated"}'
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert signature(SECRET, body) == f"sha256={expected}"


def test_bad_or_missing_signature_is_refused(store: Store) -> None:
    h = WebhookHandler(store, secret=SECRET)
    body = json.dumps({"webhookEvent": "jira:issue_created", "issue": issue()}).encode()
    for headers in ({}, {"X-Hub-Signature": "sha256=" + "0" * 64},
                    {"x-hub-signature": signature("other secret", body)},
                    {"X-Hub-Signature": signature(SECRET, body + b" ")}):
        with pytest.raises(WebhookError) as e:
            h.handle(body, headers)
        assert e.value.status == 401
    assert store.get_ticket("SEC-4") is None
    with pytest.raises(WebhookError, match="no webhook secret"):
        WebhookHandler(store, secret=None).handle(body, {})


def test_created_then_updated_with_label_change_then_deleted(store: Store) -> None:
    h = WebhookHandler(store, secret=SECRET, base_url="https://example.atlassian.net")
    r = deliver(h, {"webhookEvent": "jira:issue_created", "timestamp": 1764000000000,
                    "issue": issue(comments=2)}, "d-1")
    assert (r.status, r.key) == ("applied", "SEC-4")
    t = store.get_ticket("SEC-4")
    assert t is not None and t.labels == ("Sérülékenység",) and len(t.comments) == 2
    assert t.url == "https://example.atlassian.net/browse/SEC-4"
    r = deliver(h, {"webhookEvent": "jira:issue_updated", "timestamp": 1764003600000,
                    "user": {"displayName": "Mso"},
                    "issue": issue(labels=["Sérülékenység", "HIGH"]),
                    "changelog": {"id": "9001", "items": [{
                        "field": "labels", "fieldtype": "jira", "from": None,
                        "fromString": "Sérülékenység", "to": None,
                        "toString": "Sérülékenység HIGH"}]}}, "d-2")
    assert r.status == "applied"
    t = store.get_ticket("SEC-4")
    assert t is not None and t.labels == ("Sérülékenység", "HIGH")
    assert len(t.comments) == 2  # the update carried none: the stored ones stay
    assert [(c.added, c.removed, c.author) for c in t.label_history][-1] == (
        ("HIGH",), (), "Mso")
    r = deliver(h, {"webhookEvent": "jira:issue_deleted", "issue": {"key": "SEC-4"}}, "d-3")
    assert r.status == "deleted"
    assert "SEC-4" not in store.ticket_keys(source="jira")
    assert store.get_ticket("SEC-4") is not None  # recorded as gone, not dropped


def test_retried_delivery_is_applied_once(store: Store) -> None:
    h = WebhookHandler(store, secret=SECRET)
    payload = {"webhookEvent": "jira:issue_created", "issue": issue()}
    assert deliver(h, payload, "same").status == "applied"
    # a later edit, then Jira retries the old delivery: it must not overwrite the newer state
    deliver(h, {"webhookEvent": "jira:issue_updated", "issue": issue(summary="new title")}, "d-9")
    again = WebhookHandler(store, secret=SECRET)  # a restarted receiver remembers too
    assert deliver(again, payload, "same").status == "duplicate"
    t = store.get_ticket("SEC-4")
    assert t is not None and t.title == "new title"


def test_other_events_ignored_and_bad_payloads_rejected(store: Store) -> None:
    h = WebhookHandler(store, secret=SECRET)
    assert deliver(h, {"webhookEvent": "comment_created"}, "c-1").status == "ignored"
    body = b"not json"
    with pytest.raises(WebhookError) as e:
        h.handle(body, {"X-Hub-Signature": signature(SECRET, body)})
    assert e.value.status == 400
    bad = issue(labels=["has space"])
    with pytest.raises(WebhookError, match=r"SEC-4.*labels\[0\]"):
        deliver(h, {"webhookEvent": "jira:issue_created", "issue": bad}, "b-1")


# -- m11 / F13: concurrent, late, replayed and hostile deliveries -----------------------------

def _at(day: int, hour: int) -> str:
    return f"2026-11-{day:02d}T{hour:02d}:00:00.000+0000"


def _event(labels: list[str], updated: str, ts: int) -> dict[str, Any]:
    body = issue(labels=labels)
    body["fields"]["updated"] = updated
    return {"webhookEvent": "jira:issue_updated", "timestamp": ts, "issue": body}


def test_f13_a_late_or_replayed_event_does_not_roll_back_a_newer_state(store: Store) -> None:
    h = WebhookHandler(store, secret=SECRET)
    new = _event(["Vulnerability", "CRITICAL"], _at(21, 14), 1763733600000)
    old = _event(["Vulnerability"], _at(20, 10), 1763632800000)
    assert deliver(h, new, "id-new").status == "applied"
    # the old state arrives late, or a captured signed body is replayed under a new identifier
    for ident in ("id-old", "id-replay", "id-replay-2"):
        assert deliver(h, old, ident).status == "stale"
    t = store.get_ticket("SEC-4")
    assert t is not None and t.labels == ("Vulnerability", "CRITICAL")
    # a stale delete of a re-created issue changes nothing either
    gone = {"webhookEvent": "jira:issue_deleted", "timestamp": 1763600000000,
            "issue": {"key": "SEC-4"}}
    assert deliver(h, gone, "id-del").status == "stale"
    assert "SEC-4" in store.ticket_keys()


CONCURRENT = """
import json, sys, time
sys.path.insert(0, sys.argv[3])
from test_jira_webhook import SECRET, deliver, issue
from vulnmark.sources.jira.webhook import WebhookHandler
from vulnmark.store import Store
store = Store.open(sys.argv[1], create=False)
worker = int(sys.argv[2])
time.sleep(max(0.0, float(sys.argv[4]) - time.time()))
h = WebhookHandler(store, secret=SECRET)
out = []
for round in range(2):  # the second round is Jira retrying every delivery
    for i in range(10):
        key = f"W{worker}-{i + 1}"
        out.append(deliver(h, {"webhookEvent": "jira:issue_created",
                               "issue": issue(key=key)}, f"d-{key}").status)
print(json.dumps(out))
"""


def test_m11_concurrent_deliveries_keep_every_identifier(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    url = f"sqlite:///{tmp_path / 'w.db'}"
    Store.open(url).close()
    start = f"{time.time() + 2:.3f}"
    here = str(Path(__file__).parent)
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, url, str(w), here, start],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for w in range(4)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        results += json.loads(out)
    assert results.count("applied") == 40 and results.count("duplicate") == 40
    with Store.open(url) as st:
        assert len(json.loads(st.get_state("jira.webhook.seen") or "[]")) == 40


def _signed(body: bytes) -> dict[str, str]:
    return {"X-Hub-Signature": signature(SECRET, body)}


@pytest.mark.parametrize("body, status, named", [
    (b" " * (8 * 1024 * 1024 + 1), 413, "larger than"),
    (b"[" * 100_000 + b"]" * 100_000, 400, "nested too deeply"),
    (b"[" * 65 + b"]" * 65, 400, "nested too deeply"),
    (b'{"webhookEvent":"jira:issue_updated","webhookEvent":"comment_created"}', 400,
     "duplicate member name 'webhookEvent'"),
    (b'{"webhookEvent":"jira:issue_updated","timestamp":1e300,"issue":{"key":"SEC-4"}}', 400,
     "timestamp"),
    (b'{"webhookEvent":"jira:issue_deleted","timestamp":-1e20,"issue":{"key":"SEC-4"}}', 400,
     "timestamp"),
])
def test_m11_hostile_bodies_are_refused_with_a_status(store: Store, body: bytes, status: int,
                                                      named: str) -> None:
    with pytest.raises(WebhookError, match=named) as e:
        WebhookHandler(store, secret=SECRET).handle(body, _signed(body))
    assert e.value.status == status


def test_m11_an_unsigned_body_is_never_parsed(store: Store) -> None:
    body = b"[" * 100_000  # would be a parse error: the signature is refused first
    with pytest.raises(WebhookError) as e:
        WebhookHandler(store, secret=SECRET).handle(body, {})
    assert e.value.status == 401
