"""Check the emulator's exchanges against the official Jira Cloud OpenAPI document.

Needs ``openapi-core`` (the ``test`` extra). Both directions are checked: the request vulnmark
sent (query parameters, JSON body — e.g. ``expand`` must be a string for ``search/jql``) and the
response the emulator gave (status declared, body matching the schema).

Two adjustments, both documented in ``reference/jira.md`` §7:

* the document fails strict OpenAPI validation, so it is loaded without the spec validator;
* ``format: date-time`` is checked as Jira actually sends it and as the document's own examples
  show it (``2021-01-17T12:34:00.000+0000``, an offset without a colon), not strict RFC 3339.

Data Center has no OpenAPI document; its v2 paths are checked against the same v3 operations
(``/rest/api/2/search`` against the legacy ``/rest/api/3/search``, still in the document), whose
schemas differ from v2 only in rich-text fields that the document leaves untyped.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from vulnmark.testing.jira_emulator import Exchange

SPEC_HOST = "https://your-domain.atlassian.net"
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$"
)


def _date_time(value: Any) -> bool:
    return not isinstance(value, str) or bool(_DATE_TIME.match(value))


@functools.lru_cache(maxsize=2)
def load(path: str | Path) -> Any:
    """The OpenAPI object; loading takes a few seconds, so it is cached per process."""
    from openapi_core import Config, OpenAPI

    config = Config(spec_validator_cls=None, extra_format_validators={"date-time": _date_time})
    return OpenAPI.from_file_path(str(path), config=config)


def _spec_path(path: str) -> str:
    return re.sub(r"^/rest/api/(2|latest)/", "/rest/api/3/", path)


def _declared(openapi: Any, method: str, path: str, status: int) -> bool | None:
    """Whether the document declares ``status`` for the operation: None when it does not,
    True when that response has a body, False when it has none (``content: {}``)."""
    paths = openapi.spec / "paths"
    for template in paths.keys():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path):
            op = paths / template
            if method.lower() in op.keys():
                responses = op / method.lower() / "responses"
                if str(status) not in responses.keys():
                    return None
                response = responses / str(status)
                return "content" not in response.keys() or bool(
                    list((response / "content").keys()))
    return None


def check(openapi: Any, exchanges: Iterable[Exchange], *,
          spec_path: Callable[[str], str] | None = None, host: str = SPEC_HOST,
          base: str = "") -> tuple[int, list[str]]:
    """Validate each exchange; returns (number validated, problems). Exchanges with a status
    the document does not declare for that operation (e.g. the emulator's injected 429, or 410
    on the removed search) are skipped and not counted. ``spec_path`` maps a request path to
    the document's (default: Jira's v2 paths to v3), ``host`` and ``base`` are the document's
    server (``base``: the path its paths are relative to). A response the document declares
    without a body (Confluence's 409) has its request checked, not its body."""
    from openapi_core.testing import MockRequest, MockResponse

    problems: list[str] = []
    checked = 0
    for ex in exchanges:
        path = (spec_path or _spec_path)(ex.path)
        declared = _declared(openapi, ex.method, path, ex.status)
        if declared is None:
            continue
        args = {k: v[-1] if len(v) == 1 else v for k, v in _query(ex.query).items()}
        headers = {"Authorization": "Basic dGVzdDp0ZXN0", "Content-Type": "application/json"}
        request = MockRequest(host, ex.method.lower(), base + path, args=args, headers=headers,
                              data=ex.body or None)
        response = MockResponse(ex.response, status_code=ex.status,
                                content_type="application/json" if ex.response else "")
        # The document gives 204 a JSON content entry, but Jira sends no body with a 204 (and
        # must not): check that, and the request, but not a body that cannot exist.
        if ex.status == 204 and ex.response:
            problems.append(f"{ex.method} {ex.path} -> 204 with a body")
        bodiless = ex.status == 204 or not declared
        for what in ("request",) if bodiless else ("request", "response"):
            try:
                if what == "request":
                    openapi.validate_request(request)
                else:
                    openapi.validate_response(request, response)
            except Exception as e:  # openapi-core raises many types; report them all
                cause = getattr(e, "__cause__", None)
                detail = getattr(cause, "schema_errors", None) or cause or e
                problems.append(f"{ex.method} {ex.path} -> {ex.status}: {what}: {detail}"[:800])
        checked += 1
    return checked, problems


def _query(query: str) -> dict[str, list[str]]:
    from urllib.parse import parse_qs

    return parse_qs(query, keep_blank_values=True)


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()
