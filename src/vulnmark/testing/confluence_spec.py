"""Check the Confluence emulator's exchanges against Atlassian's OpenAPI documents (vendored,
pruned to the operations vulnmark uses, in tests/data/confluence_openapi/ with their SOURCE).

* Cloud: ``/wiki/api/v2/…`` against "The Confluence Cloud REST API v2" (its server is
  ``https://{your-domain}/wiki/api/v2``).
* Data Center: ``/rest/api/content…`` against the Cloud REST API v1 document's
  ``/wiki/rest/api/content…`` (Data Center publishes no OpenAPI document; the resource and its
  bodies are the same). That document fails strict OpenAPI validation (an enum on an array
  instead of its items), so it is loaded without the spec validator and that enum is moved to
  the items (:func:`load`, which also mends one defect of the v2 document). Confluence's 409
  is declared there without a body, so for it only the request is checked.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from vulnmark.testing import spec
from vulnmark.testing.jira_emulator import Exchange

CLOUD_BASE = "/wiki/api/v2"
CLOUD_HOST = "https://your-domain.atlassian.net"
V1_HOST = "//your-domain.atlassian.net"
"""The v1 document's server, as it is written there (scheme-relative)."""


@functools.lru_cache(maxsize=2)
def load(path: str | Path) -> Any:
    """The OpenAPI object of a vendored document, with two defects mended (nothing else):

    * v2: a page body is ``oneOf`` PageBodyWrite / PageNestedBodyWrite, two object schemas
      without required keys, so every body matches both and ``oneOf`` always fails; it is
      checked as ``anyOf``;
    * v1: its ``status`` query parameters put the ``enum`` of the items on the array itself,
      so every value (even its own default ``["current"]``) fails; the enum is moved to the
      items.
    """
    from openapi_core import Config, OpenAPI

    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    for body in doc.get("components", {}).get("requestBodies", {}).values():
        schema = body["content"]["application/json"]["schema"]
        page_body = schema.get("properties", {}).get("body", {})
        if "oneOf" in page_body:  # both alternatives accept every object: oneOf cannot pass
            page_body["anyOf"] = page_body.pop("oneOf")
    for item in doc["paths"].values():
        for op in item.values():
            for param in op.get("parameters", []) if isinstance(op, dict) else []:
                schema = param.get("schema", {})
                if schema.get("type") == "array" and "enum" in schema:
                    schema["items"] = {**schema.get("items", {}), "enum": schema.pop("enum")}
    config = Config(spec_validator_cls=None,
                    extra_format_validators={"date-time": spec._date_time})
    return OpenAPI.from_dict(doc, config=config)


def check(openapi: Any, exchanges: Iterable[Exchange], *,
          flavour: str) -> tuple[int, list[str]]:
    """Validate the exchanges of one flavour (see :func:`vulnmark.testing.spec.check`)."""
    if flavour == "cloud":
        return spec.check(openapi, exchanges, spec_path=lambda p: p.removeprefix(CLOUD_BASE),
                          host=CLOUD_HOST, base=CLOUD_BASE)
    return spec.check(openapi, exchanges, spec_path=lambda p: "/wiki" + p, host=V1_HOST)
