"""Serve an ASGI app on 127.0.0.1 with a tiny asyncio HTTP/1.1 server (no extra dependency).

Enough for the Jira emulator: ``Content-Length`` bodies, keep-alive, one event loop in a
background thread (so injected latency on one connection does not block the others).

    with serve_in_thread(emulator) as url:
        ...  # url is "http://127.0.0.1:PORT"

Run standalone: ``python -m vulnmark.testing.server --issues 2000 --flavour cloud --port 0``
prints the URL and serves until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import ssl
import threading
from collections.abc import Awaitable, Callable, Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

logger = logging.getLogger(__name__)

ASGIApp = Callable[
    [dict[str, Any], Callable[[], Awaitable[dict[str, Any]]],
     Callable[[dict[str, Any]], Awaitable[None]]],
    Awaitable[None],
]


def _receiver(body: bytes) -> Callable[[], Awaitable[dict[str, Any]]]:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _sender(response: dict[str, Any]) -> Callable[[dict[str, Any]], Awaitable[None]]:
    async def send(message: dict[str, Any]) -> None:
        response.setdefault(message["type"], message)

    return send


async def _handle(app: ASGIApp, reader: asyncio.StreamReader,
                  writer: asyncio.StreamWriter, writers: set[asyncio.StreamWriter]) -> None:
    writers.add(writer)
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            method, target, _version = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
            headers: list[tuple[bytes, bytes]] = []
            length = 0
            close = False
            while True:
                h = await reader.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                name, _, value = h.decode("latin-1").partition(":")
                name, value = name.strip().lower(), value.strip()
                headers.append((name.encode(), value.encode("latin-1")))
                if name == "content-length":
                    length = int(value)
                elif name == "connection" and value.lower() == "close":
                    close = True
            body = await reader.readexactly(length) if length else b""
            path, _, query = target.partition("?")
            scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                     "method": method, "scheme": "http", "path": unquote(path),
                     "raw_path": path.encode(), "query_string": query.encode(),
                     "headers": headers, "server": ("127.0.0.1", 0), "client": ("127.0.0.1", 0)}
            response: dict[str, Any] = {}
            await app(scope, _receiver(body), _sender(response))
            start = response["http.response.start"]
            payload = response.get("http.response.body", {}).get("body", b"")
            status = start["status"]
            out = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n".encode()]
            out += [k + b": " + v + b"\r\n" for k, v in start.get("headers", [])]
            if close:
                out.append(b"connection: close\r\n")
            out.append(b"\r\n")
            writer.write(b"".join(out) + payload)
            await writer.drain()
            if close:
                return
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        return
    finally:
        writers.discard(writer)
        writer.close()


@contextlib.contextmanager
def serve_in_thread(app: ASGIApp, port: int = 0,
                    ssl_context: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (an ephemeral port by default); yields the base URL
    (``https://`` when ``ssl_context`` is given)."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}
    writers: set[asyncio.StreamWriter] = set()

    async def main() -> None:
        stop = asyncio.Event()
        server = await asyncio.start_server(
            lambda r, w: _handle(app, r, w, writers), "127.0.0.1", port, ssl=ssl_context
        )
        holder["port"] = server.sockets[0].getsockname()[1]
        holder["stop"] = stop
        ready.set()
        await stop.wait()
        server.close()
        for w in list(writers):
            w.close()
        await server.wait_closed()

    def run() -> None:
        loop.run_until_complete(main())
        loop.close()

    thread = threading.Thread(target=run, name="asgi-loopback", daemon=True)
    thread.start()
    ready.wait(10)
    try:
        scheme = "https" if ssl_context else "http"
        yield f"{scheme}://127.0.0.1:{holder['port']}"
    finally:
        loop.call_soon_threadsafe(holder["stop"].set)
        thread.join(5)


def main(argv: list[str] | None = None) -> None:
    from vulnmark.testing.jira_emulator import JiraEmulator

    ap = argparse.ArgumentParser(description="Serve the Jira emulator on 127.0.0.1")
    ap.add_argument("--issues", type=int, default=1000)
    ap.add_argument("--flavour", choices=("cloud", "datacenter"), default="cloud")
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--many-comments-every", type=int, default=0,
                    help="every Nth issue gets 45 comments and 45 label changes")
    ap.add_argument("--apache", action="append", default=[],
                    help="also load issues from this /rest/api/2/search-shaped JSON file")
    args = ap.parse_args(argv)
    emu = JiraEmulator(flavour=args.flavour, latency=args.latency, record=False,
                       cache_renders=True)
    emu.load_search_pages(args.apache)
    emu.generate(args.issues, many_comments_every=args.many_comments_every)

    async def run() -> None:
        server = await asyncio.start_server(lambda r, w: _handle(emu, r, w, set()), "127.0.0.1",
                                            args.port)
        print(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
        async with server:
            await server.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    main()
