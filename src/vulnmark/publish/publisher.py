"""Publish the policy page: create it or add the next version, and record it as evidence.

    site = site_for(config.publish)
    result = Publisher(store, config, site).publish(now)

The page is built from the configuration in force, rendered in Confluence storage format and
sent only when it says something the last published version does not (the evidence log
holds what was sent; ``force`` publishes anyway). An update carries the remote version plus
one, read just before; if someone edited the page in between, Confluence refuses (409) and
nothing is recorded. A publication is recorded (:class:`PolicyPagePublished`: site, page,
version, policy digest, language, content hash) only after Confluence accepted it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from vulnmark._version import __version__
from vulnmark.config.load import Config
from vulnmark.config.publish import PublishSettings
from vulnmark.errors import PublishError
from vulnmark.evidence.events import PolicyPagePublished
from vulnmark.publish.confluence import PageSite, RemotePage
from vulnmark.publish.page import PolicyPage, build_page, fingerprint
from vulnmark.publish.state import Published, effective_since, last_published
from vulnmark.publish.storage import StoragePage
from vulnmark.publish.texts import Lang
from vulnmark.store import Store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Publication:
    """What ``publish`` did."""

    action: str
    """``created``, ``updated``, ``current`` (nothing to publish) or ``dry-run``."""
    page_id: str | None
    version: int | None
    digest: str
    title: str


class Publisher:
    def __init__(self, store: Store, config: Config, site: PageSite) -> None:
        if config.publish is None:
            raise PublishError("no [publish] table in the configuration: set publish.url and "
                               "publish.space (see `vulnmark init`)")
        self.store = store
        self.config = config
        self.settings: PublishSettings = config.publish
        self.site = site

    def page(self, now: datetime) -> PolicyPage:
        digest = self.config.policy.digest()
        return build_page(self.config, lang=Lang(self.settings.lang), generated_at=now,
                          effective_at=effective_since(self.store, digest))

    def publish(self, now: datetime, *, force: bool = False,
                dry_run: bool = False) -> Publication:
        page = self.page(now)
        title = self.settings.title or page.title
        body = StoragePage().format(page)
        content = fingerprint(StoragePage().format(page.unchanging()))
        remote = self._remote(title)
        last = last_published(self.store)
        if remote is not None and not force and _is_current(last, remote, content):
            return Publication("current", remote.id, remote.version, page.digest, title)
        if dry_run:
            return Publication("dry-run", remote.id if remote else None,
                               remote.version + 1 if remote else 1, page.digest, title)
        message = f"vulnmark {__version__}: policy digest {page.digest[:16]}"
        if remote is None:
            space = self._space()
            done = self.site.create(space, title, body, self.settings.parent_id)
            action = "created"
        else:
            done = self.site.update(remote, title, body, message)
            action = "updated"
        self.store.record(PolicyPagePublished(
            site=self.settings.url, flavour=self.site.name,
            space=self.settings.space or done.space, page_id=done.id, title=title,
            version=done.version, digest=page.digest, lang=page.lang.value,
            page_sha256=content), at=now)
        logger.info("policy page %s: %s version %d", done.id, action, done.version)
        return Publication(action, done.id, done.version, page.digest, title)

    def _remote(self, title: str) -> RemotePage | None:
        if self.settings.page_id:
            return self.site.get(self.settings.page_id)
        return self.site.find(self._space(), title)

    def _space(self) -> str:
        if not self.settings.space:
            raise PublishError("publish.space: a space key is needed to create the page")
        return self.settings.space


def _is_current(last: Published | None, remote: RemotePage, content: str) -> bool:
    """The remote page is the version vulnmark last published, with the same content."""
    return (last is not None and last.event.page_id == remote.id
            and last.event.version == remote.version and last.event.page_sha256 == content)
