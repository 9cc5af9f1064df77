"""The HTTP side both flavours share: one httpx client with the credentials from the
environment, and Confluence's answers turned into :class:`~vulnmark.errors.PublishFailed`
(never carrying a credential)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import httpx

from vulnmark.config.publish import PublishSettings
from vulnmark.errors import PublishError, PublishFailed

logger = logging.getLogger(__name__)

USER_ENV = "VULNMARK_CONFLUENCE_USER"
TOKEN_ENV = "VULNMARK_CONFLUENCE_TOKEN"


def auth_header(env: Mapping[str, str] | None = None) -> str:
    """``Basic`` with user and token (Cloud: the account e-mail and an API token; Data
    Center: a user and password), or ``Bearer`` with the token alone (a Data Center personal
    access token). Only from the environment."""
    import base64

    env = os.environ if env is None else env
    user, token = env.get(USER_ENV, "").strip(), env.get(TOKEN_ENV, "").strip()
    if not token:
        raise PublishError(f"{TOKEN_ENV} is not set: publishing needs a Confluence API token "
                           f"(with {USER_ENV}) or a personal access token")
    if user:
        return "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()
    return f"Bearer {token}"


class Http:
    """Requests to one site; every answer but 2xx becomes :class:`PublishFailed`."""

    def __init__(self, settings: PublishSettings, authorization: str,
                 client: httpx.Client | None = None) -> None:
        self.site = settings.url
        self.client = client or httpx.Client(timeout=settings.timeout)
        self.headers = {"Authorization": authorization, "Accept": "application/json"}

    def call(self, method: str, path: str, *, params: dict[str, str] | None = None,
             json: dict[str, Any] | None = None) -> Any:
        url = self.site + path
        try:
            r = self.client.request(method, url, params=params, json=json,
                                    headers=self.headers)
        except httpx.HTTPError as e:
            raise PublishFailed(f"Confluence at {self.site} could not be reached: "
                                f"{type(e).__name__}") from e
        if r.is_success:
            try:
                return r.json()
            except ValueError as e:
                raise PublishFailed(f"{method} {path}: Confluence answered {r.status_code} "
                                    "with a body that is not JSON", status=r.status_code) from e
        raise PublishFailed(f"{method} {path}: Confluence answered {r.status_code}"
                            f"{_hint(r.status_code)}: {_message(r)}", status=r.status_code)

    def close(self) -> None:
        self.client.close()


def _hint(status: int) -> str:
    return {401: f" (check {USER_ENV} and {TOKEN_ENV})",
            403: " (the user may not edit pages in this space)",
            404: " (no such page or space, or no permission to see it)",
            409: " (the page changed while publishing; run the command again)"}.get(status, "")


def _message(r: httpx.Response) -> str:
    """Confluence's own message (Cloud v2 ``errors[].title``, Data Center ``message``)."""
    try:
        body = r.json()
    except ValueError:
        return r.text[:200] or r.reason_phrase
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("title") or errors[0].get("detail"))[:300]
        if body.get("message"):
            return str(body["message"])[:300]
    return str(body)[:200]
