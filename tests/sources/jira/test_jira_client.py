"""The Jira client: retry policy, timeouts, error messages, settings from the configuration."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from vulnmark.config.load import from_mapping, load
from vulnmark.errors import ConfigError, ExternalError, InputError
from vulnmark.sources.jira.client import JiraClient
from vulnmark.sources.jira.settings import (
    JiraAuthError,
    JiraConfigError,
    JiraError,
    JiraHTTPError,
    JiraQueryError,
    JiraResponseError,
    JiraSettings,
    JiraUnavailable,
)
from vulnmark.testing import JiraEmulator
from vulnmark.testing.transports import TimeoutOnce

SITE = "https://example.atlassian.net"


def settings(**kw: Any) -> JiraSettings:
    base: dict[str, Any] = {"url": SITE, "jql": "project = VULN", "flavour": "cloud",
                            "email": "sec@example.org", "token": "t0ken"}
    return JiraSettings(**{**base, **kw})


def call(transport: httpx.AsyncBaseTransport, coro: Any, **kw: Any) -> tuple[Any, list[float]]:
    """Run ``coro(client)`` with a recording sleep and a fixed jitter of 0.5."""
    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)

    async def go() -> Any:
        async with JiraClient(settings(**kw), transport=transport, sleep=sleep,
                              rng=lambda: 0.5) as jira:
            return await coro(jira)

    return asyncio.run(go()), slept


def server_info(jira: JiraClient) -> Any:
    return jira.request("GET", "/rest/api/3/serverInfo", what="serverInfo")


def test_retry_after_is_honoured() -> None:
    emu = JiraEmulator()
    emu.inject(429, retry_after="7")
    emu.inject(503, retry_after="2")
    info, slept = call(httpx.ASGITransport(app=emu), server_info)
    assert info["deploymentType"] == "Cloud" and slept == [7.0, 2.0]


def test_rate_limit_reset_is_honoured() -> None:
    emu = JiraEmulator()
    reset = (datetime.now(UTC) + timedelta(seconds=90)).strftime("%Y-%m-%dT%H:%MZ")
    emu.inject(429, reset=reset)
    _, slept = call(httpx.ASGITransport(app=emu), server_info)
    assert len(slept) == 1 and 0 <= slept[0] <= 150


def test_exponential_backoff_with_jitter_and_cap() -> None:
    emu = JiraEmulator()
    emu.inject(503, times=5)
    _, slept = call(httpx.ASGITransport(app=emu), server_info, backoff_base=1.0, backoff_cap=5)
    # cap(min(5, 2**n)) * (0.5 + 0.5/2)
    assert slept == [0.75, 1.5, 3.0, 3.75, 3.75]


def test_gives_up_with_a_clear_message() -> None:
    emu = JiraEmulator()
    emu.inject(503, times=10)
    with pytest.raises(JiraUnavailable, match=r"example.atlassian.net: serverInfo: HTTP 503; "
                                              r"gave up after 3 attempts"):
        call(httpx.ASGITransport(app=emu), server_info, max_retries=2)


def test_refuses_to_sleep_longer_than_allowed() -> None:
    emu = JiraEmulator()
    emu.inject(429, retry_after="3600")
    with pytest.raises(JiraUnavailable, match="asks to wait 3600 s"):
        call(httpx.ASGITransport(app=emu), server_info)


def test_timeouts_are_retried() -> None:
    emu = JiraEmulator()
    info, slept = call(TimeoutOnce(httpx.ASGITransport(app=emu), times=2), server_info)
    assert info["deploymentType"] == "Cloud" and len(slept) == 2


def test_every_request_has_a_timeout() -> None:
    seen: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions.get("timeout"))
        return httpx.Response(200, json={"deploymentType": "Server"})

    call(httpx.MockTransport(handler), server_info, timeout=12.5)
    assert seen and all(t == {"connect": 12.5, "read": 12.5, "write": 12.5, "pool": 12.5}
                        for t in seen)


def test_401_names_site_and_credentials() -> None:
    emu = JiraEmulator(auth={JiraEmulator.basic("sec@example.org", "right")})
    with pytest.raises(JiraAuthError) as e:
        call(httpx.ASGITransport(app=emu), server_info)
    msg = str(e.value)
    assert "example.atlassian.net" in msg and "401" in msg and "JIRA_TOKEN" in msg
    assert isinstance(e.value, ExternalError)  # the CLI exits 3
    ok, _ = call(httpx.ASGITransport(app=emu), server_info, token="right")
    assert ok["deploymentType"] == "Cloud"


def test_403_names_the_missing_permission() -> None:
    emu = JiraEmulator(forbid=("/search",))
    emu.generate(1)

    def search(jira: JiraClient) -> Any:
        return jira.search_cloud({"jql": "project = VULN"})

    with pytest.raises(JiraAuthError, match="403.*Browse Projects"):
        call(httpx.ASGITransport(app=emu), search)


def test_pat_is_sent_as_bearer() -> None:
    emu = JiraEmulator(flavour="datacenter", auth={"Bearer pat-123"})
    info, _ = call(httpx.ASGITransport(app=emu), server_info_v2, pat="pat-123", email=None,
                   token=None, flavour="datacenter")
    assert info["deploymentType"] == "Server"


def server_info_v2(jira: JiraClient) -> Any:
    return jira.request("GET", "/rest/api/2/serverInfo", what="serverInfo")


def test_removed_search_and_bad_jql() -> None:
    emu = JiraEmulator()

    def old(jira: JiraClient) -> Any:
        return jira.request("GET", "/rest/api/3/search", what="issue search (legacy)")

    with pytest.raises(JiraHTTPError, match="410 Gone.*search/jql") as e:
        call(httpx.ASGITransport(app=emu), old)
    assert e.value.status == 410

    def bad(jira: JiraClient) -> Any:
        return jira.search_cloud({"jql": "project = = VULN"})

    with pytest.raises(JiraQueryError) as q:
        call(httpx.ASGITransport(app=emu), bad)
    assert isinstance(q.value, InputError) and q.value.field == "source.jira.jql"


def test_non_json_answer_is_a_response_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>proxy login</html>",
                              headers={"content-type": "text/html"})

    with pytest.raises(JiraResponseError, match="not JSON.*text/html"):
        call(httpx.MockTransport(handler), server_info)


def settings_from(section: dict[str, Any] | None, env: dict[str, str]) -> JiraSettings:
    raw = {} if section is None else {"source": {"jira": section}}
    return JiraSettings.from_config(from_mapping(raw).jira, env)


def test_settings_from_a_real_config_file(tmp_path: Any) -> None:
    path = tmp_path / "vulnmark.toml"
    path.write_text('[source.jira]\nurl = "https://jira.example.org"\nflavour = "datacenter"\n'
                    'jql = "project = PKI AND labels = \\"Sérülékenység\\""\n', encoding="utf-8")
    s = JiraSettings.from_config(load(path, required=True).jira, {"JIRA_PAT": "p"})
    assert (s.flavour, s.jql, s.pat) == ("datacenter", 'project = PKI AND labels = "Sérülékenység"',
                                         "p")


def test_settings_from_the_config_and_environment() -> None:
    env = {"JIRA_EMAIL": "sec@example.org", "JIRA_TOKEN": "secret-token-value"}
    s = settings_from({
        "url": "https://example.atlassian.net/", "jql": "project = SEC", "flavour": "cloud",
        "page_size": 50, "discovery_field": "customfield_10042", "timeout": 20,
        "hydrate": True, "concurrency": 8}, env)
    assert (s.site, s.flavour, s.page_size, s.timeout) == (SITE, "cloud", 50, 20.0)
    assert (s.hydrate, s.concurrency, s.discovery_field) == (True, 8, "customfield_10042")
    assert s.token == "secret-token-value" and "secret-token-value" not in repr(s)


@pytest.mark.parametrize(("section", "env", "field"), [
    (None, {}, "source.jira"),
    ({"jql": "project = X"}, {"JIRA_PAT": "p"}, "source.jira.url"),
    ({"url": "https://x.example", "jql": "project = X"}, {}, "JIRA_TOKEN"),
    ({"url": "https://x.example", "jql": "project = X"}, {"JIRA_TOKEN": "t"}, "JIRA_EMAIL"),
])
def test_settings_errors_name_the_key(section: Any, env: dict[str, str], field: str) -> None:
    with pytest.raises(JiraConfigError) as e:
        settings_from(section, env)
    assert e.value.field == field and field in str(e.value)
    assert not isinstance(e.value, JiraError)  # exit 2, not 3


@pytest.mark.parametrize(("section", "key"), [
    ({"url": "https://x.example", "jql": "project = X", "flavour": "server"},
     "source.jira.flavour"),
    ({"url": "http://x.example", "jql": "project = X"}, "source.jira.url"),
    ({"url": "https://x.example", "jql": "project = X", "colour": 1}, "source.jira.colour"),
])
def test_a_bad_jira_table_fails_at_load(section: Any, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        from_mapping({"source": {"jira": section}})


def test_bad_ca_bundle_is_a_config_error(tmp_path: Any) -> None:
    with pytest.raises(JiraConfigError, match="CA bundle"):
        JiraClient(settings(ca_bundle=str(tmp_path / "missing.pem")))


# -- m6: a Jira that answers a byte at a time, or without end --------------------------------

def _raw_http_server(mode: str) -> tuple[str, Callable[[], None]]:
    """A real HTTP server on 127.0.0.1: ``drip`` sends a byte of its body every 0.2 s,
    ``huge`` streams a body of 512 MiB (generated, never held in memory)."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def answer(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                conn.recv(65536)
                size = 1000 if mode == "drip" else 512 * 1024 * 1024
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: " + str(size).encode() + b"\r\n\r\n")
                if mode == "drip":
                    while not stop.is_set():
                        conn.sendall(b" ")
                        stop.wait(0.2)
                else:
                    block = b" " * (1024 * 1024)
                    for _ in range(512):
                        if stop.is_set():
                            break
                        conn.sendall(block)
            except OSError:
                pass

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()

    def close() -> None:
        stop.set()
        listener.close()

    return f"http://127.0.0.1:{listener.getsockname()[1]}", close


def _search_once(url: str, **settings: Any) -> BaseException:
    async def go() -> None:
        async with JiraClient(JiraSettings(url=url, jql="project = SEC", pat="p",
                                           flavour="datacenter", max_retries=0,
                                           **settings)) as jira:
            await jira.search_dc({"jql": "project = SEC"})

    with pytest.raises(JiraError) as info:
        asyncio.run(go())
    return info.value


def test_m6_a_dripping_jira_is_cut_off_at_the_request_deadline() -> None:
    url, close = _raw_http_server("drip")
    try:
        error = _search_once(url, timeout=2.0)
    finally:
        close()
    assert isinstance(error, JiraUnavailable) and "timed out after 2 s" in str(error)


def test_m6_a_response_over_the_size_cap_fails_without_being_read_whole() -> None:
    url, close = _raw_http_server("huge")
    try:
        error = _search_once(url, timeout=60.0, max_response_mb=2)
    finally:
        close()
    assert isinstance(error, JiraResponseError)
    assert "source.jira.max_response_mb = 2 MiB" in str(error)


def test_m6_max_response_mb_is_a_checked_setting(tmp_path: Path) -> None:
    from vulnmark.config.sections import parse_jira

    assert parse_jira({"max_response_mb": 8}).max_response_mb == 8
    for bad in (0, -1, 5000, float("nan")):
        with pytest.raises(ConfigError, match="source.jira.max_response_mb"):
            parse_jira({"max_response_mb": bad})


def test_m4_a_lone_surrogate_or_nul_from_jira_is_replaced_not_fatal() -> None:
    """One Jira user pasting a lone surrogate into a summary (Java strings allow it) must not
    stop the sync for everyone: the character becomes U+FFFD; a duplicate member is refused."""
    bodies = {"/ok": b'{"summary": "a\\ud800b", "list": ["\\u0000", ["\\udc00"]]}',
              "/dup": b'{"summary": "a", "summary": "b"}'}
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=bodies[request.url.path]))
    got, _ = call(transport, lambda jira: jira.request("GET", "/ok", what="issue"))
    assert got == {"summary": "a\ufffdb", "list": ["\ufffd", ["\ufffd"]]}
    with pytest.raises(JiraResponseError, match="duplicate member name 'summary'"):
        call(transport, lambda jira: jira.request("GET", "/dup", what="issue"))
