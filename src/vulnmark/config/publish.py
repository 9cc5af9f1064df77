"""The ``[publish]`` table: where ``vulnmark policy publish`` puts the policy page.

None of it changes a finding, so none of it is in the policy digest (the page carries the
digest; changing where it is published must not make every evaluation stale). Credentials
come only from the environment (``VULNMARK_CONFLUENCE_USER`` and
``VULNMARK_CONFLUENCE_TOKEN``); a secret in the file is an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from vulnmark.errors import ConfigError

ConfluenceFlavour = Literal["cloud", "datacenter"]
LANGS = ("en", "hu", "de", "fr")
_SECRETS = ("user", "token", "password", "pat", "api_token", "email")
_TEXT = ("url", "flavour", "space", "page_id", "parent_id", "title", "lang")
KEYS = frozenset({*_TEXT, "timeout"})
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class PublishSettings:
    """The ``[publish]`` table, checked."""

    url: str
    """The Confluence site: ``https://example.atlassian.net`` (Cloud) or the Data Center base
    URL with its context path (``https://wiki.example.org/confluence``)."""
    flavour: ConfluenceFlavour
    space: str | None = None
    """Space key; needed to create the page (and to find it by title)."""
    page_id: str | None = None
    """The page to update; without it the page is found by title in ``space`` or created."""
    parent_id: str | None = None
    title: str | None = None
    """None: the page's title in its language."""
    lang: str = "en"
    timeout: float = 30.0


def parse_publish(table: Mapping[str, Any]) -> PublishSettings:
    values: dict[str, Any] = {}
    for key, value in table.items():
        where = f"publish.{key}"
        if key in _SECRETS:
            raise ConfigError(f"{where}: credentials come only from the environment "
                              "(VULNMARK_CONFLUENCE_USER and VULNMARK_CONFLUENCE_TOKEN), never "
                              "from the file")
        if key in _TEXT:
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}: expected a non-empty string, got {value!r}")
            values[key] = value.strip()
        elif key == "timeout":
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not 1 <= value <= 600:
                raise ConfigError(f"{where}: expected a number of seconds from 1 to 600, got "
                                  f"{value!r}")
            values[key] = float(value)
        else:
            raise ConfigError(f"unknown key '{where}'; known keys: {', '.join(sorted(KEYS))}")
    url = values.pop("url", None)
    if url is None:
        raise ConfigError("publish.url: the Confluence site is needed (e.g. "
                          "https://example.atlassian.net)")
    url = _check_url(url)
    flavour = values.pop("flavour", "auto")
    if flavour == "auto":
        flavour = "cloud" if (urlsplit(url).hostname or "").endswith(".atlassian.net") \
            else "datacenter"
    if flavour not in ("cloud", "datacenter"):
        raise ConfigError(f"publish.flavour: {flavour!r}: choose cloud, datacenter or auto")
    for key in ("page_id", "parent_id"):
        if key in values and not values[key].isdigit():
            raise ConfigError(f"publish.{key}: expected the numeric id of a page, got "
                              f"{values[key]!r}")
    if values.get("lang", "en") not in LANGS:
        raise ConfigError(f"publish.lang: {values['lang']!r}: choose one of {', '.join(LANGS)}")
    if "space" not in values and "page_id" not in values:
        raise ConfigError("publish.space: a space key is needed when publish.page_id is not "
                          "set (the page is found by title in the space, or created there)")
    return PublishSettings(url=url, flavour=flavour, **values)


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ConfigError(f"publish.url: {url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise ConfigError("publish.url: credentials come only from the environment, not the URL")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ConfigError("publish.url: use https:// (plain http is allowed only for loopback "
                          "test servers)")
    if parts.query or parts.fragment:
        raise ConfigError(f"publish.url: {url!r}: no query or fragment (the site's base URL)")
    return url.rstrip("/")
