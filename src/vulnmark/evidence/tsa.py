"""Asking a Time-Stamp Authority (RFC 3161 over HTTP) to stamp a chain head.

``stamp(url, head)`` POSTs a ``TimeStampReq`` (``application/timestamp-query``: SHA-256
imprint of the head, a fresh nonce, certReq) and returns the DER token of the reply, checked to
answer that request (:func:`vulnmark.evidence.timestamp.token_of`). Every failure (the TSA
unreachable, an HTTP error, a refusal, a malformed reply) is a
:class:`~vulnmark.errors.TimestampError` naming the URL; the caller records it and goes on.
``httpx`` is imported when a stamp is asked for.
"""

from __future__ import annotations

from vulnmark.errors import TimestampError
from vulnmark.evidence import timestamp

MAX_REPLY_BYTES = 1024 * 1024
"""A token is a few kilobytes; a larger reply is not one."""


def stamp(url: str, head: str, *, timeout: float = 10.0) -> bytes:
    """The TSA's token for ``head`` (hex SHA-256)."""
    import httpx

    nonce = timestamp.new_nonce()
    body = timestamp.request(head, nonce)
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client, \
                client.stream("POST", url, content=body, headers={
                    "Content-Type": timestamp.MEDIA_QUERY,
                    "Accept": timestamp.MEDIA_REPLY}) as reply:
            data = b""
            for chunk in reply.iter_bytes():
                data += chunk
                if len(data) > MAX_REPLY_BYTES:
                    raise TimestampError(f"TSA {url}: reply larger than {MAX_REPLY_BYTES} "
                                         "bytes (not a time-stamp)")
            status = reply.status_code
    except httpx.HTTPError as e:
        raise TimestampError(f"TSA {url}: {type(e).__name__}: {e or 'no detail'}") from e
    if status != 200:
        raise TimestampError(f"TSA {url}: HTTP {status}")
    try:
        return timestamp.token_of(data, head, nonce)
    except TimestampError as e:
        raise TimestampError(f"TSA {url}: {e}") from e
