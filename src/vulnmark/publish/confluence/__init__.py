"""Confluence, where ``vulnmark policy publish`` puts the page: :func:`site_for` gives the
:class:`.interface.PageSite` of the ``[publish]`` table's flavour."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from vulnmark.config.publish import PublishSettings
from vulnmark.publish.confluence._http import Http, auth_header
from vulnmark.publish.confluence.cloud import CloudSite
from vulnmark.publish.confluence.datacenter import DataCenterSite
from vulnmark.publish.confluence.interface import PageSite, RemotePage


def site_for(settings: PublishSettings, *, env: Mapping[str, str] | None = None,
             client: httpx.Client | None = None) -> PageSite:
    """The site of ``settings`` with credentials from ``env`` (default: the environment);
    ``client`` injects the HTTP layer (tests)."""
    http = Http(settings, auth_header(env), client)
    return CloudSite(http) if settings.flavour == "cloud" else DataCenterSite(http)


__all__ = ["PageSite", "RemotePage", "site_for"]
