"""What every feed yields: :class:`Advisory` records, one per published vulnerability.

A feed (NVD API 2.0 JSON, CVE JSON 5.x, the CISA KEV catalog, OSV) is one module behind
:class:`Feed`: it reads files or folders and yields advisories in a common shape. A record
that cannot be read is a :class:`~vulnmark.errors.FeedError` naming the file, the record and
the field; the feed never yields part of a record. Everything here is pure: parsing a
document does no I/O beyond reading the named file.
"""

from __future__ import annotations

import gzip
import json
import logging
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NewType

from vulnmark.errors import FeedError

logger = logging.getLogger(__name__)

AdvisoryId = NewType("AdvisoryId", str)


@dataclass(frozen=True)
class Rating:
    """One severity rating a publication carries."""

    source: str
    """Who rated: ``nvd`` (the NVD's Primary score), ``cna`` (the CVE's numbering
    authority), ``adp`` (an authorised data publisher such as CISA), ``secondary`` (another
    scorer in NVD data) or ``osv`` (an OSV advisory's own severity)."""
    version: str
    """``4.0``, ``3.1``, ``3.0``, ``2.0``, or ``text`` for a worded severity."""
    vector: str | None = None
    score: float | None = None
    severity: str | None = None
    """The publication's qualitative severity, upper case (``HIGH``), when it states one."""
    scorer: str | None = None
    """The scoring organisation as the record names it (``nvd@nist.gov``, ``CISA-ADP``)."""


@dataclass(frozen=True)
class Package:
    """An affected package (OSV): ecosystem, name and package URL."""

    ecosystem: str
    name: str
    purl: str | None = None


@dataclass(frozen=True)
class KevEntry:
    """A CISA Known Exploited Vulnerabilities catalog entry for the advisory."""

    date_added: date
    due_date: date | None
    required_action: str = ""
    ransomware: str | None = None


@dataclass(frozen=True)
class Advisory:
    """One published vulnerability as a feed states it."""

    id: AdvisoryId
    """CVE-…, GHSA-…, PYSEC-… (the record's own id)."""
    feed: str
    """``nvd``, ``cve5``, ``kev`` or ``osv``."""
    title: str = ""
    description: str = ""
    published: datetime | None = None
    modified: datetime | None = None
    aliases: tuple[str, ...] = ()
    """Other ids of the same vulnerability (OSV ``aliases``)."""
    references: tuple[str, ...] = ()
    ratings: tuple[Rating, ...] = ()
    vendors: tuple[str, ...] = ()
    products: tuple[tuple[str, str], ...] = ()
    """(vendor, product) pairs as the record names them (CVE 5 ``affected``, KEV)."""
    cpes: tuple[str, ...] = ()
    """CPE 2.3 names of affected configurations."""
    packages: tuple[Package, ...] = ()
    rejected: bool = False
    """The CVE was rejected (or the OSV advisory withdrawn)."""
    kev: KevEntry | None = None
    status: str | None = None
    """The NVD ``vulnStatus`` or the CVE 5 ``state``."""
    source_file: str | None = field(default=None, compare=False)

    @property
    def ids(self) -> tuple[str, ...]:
        """Its own id first, then its aliases (each once)."""
        return tuple(dict.fromkeys((self.id, *self.aliases)))

    @property
    def cve(self) -> str | None:
        return next((i for i in self.ids if i.startswith("CVE-")), None)


class Feed(ABC):
    """A source of advisories: reads a file or a folder of them."""

    name: str
    #: The file name endings this feed reads from a folder.
    suffixes: tuple[str, ...] = (".json", ".json.gz")

    @abstractmethod
    def parse(self, document: Any, *, file: str) -> Iterator[Advisory]:
        """The advisories of one parsed document (raise FeedError naming the record)."""

    def load(self, path: Path) -> Any:
        """The parsed document of one file (JSON, gzipped or not)."""
        return load_json(path)

    def read(self, path: Path) -> Iterator[Advisory]:
        """Every advisory in ``path`` (a file, or a folder searched recursively in name
        order)."""
        for file in files(path, self.suffixes):
            name = str(file)
            try:
                yield from self.parse(self.load(file), file=name)
            except FeedError as e:
                raise e.located(name) from None


def files(path: Path, suffixes: Sequence[str]) -> Iterator[Path]:
    """``path`` itself, or the files under it whose names end in one of ``suffixes``."""
    if path.is_file():
        yield path
        return
    if not path.is_dir():
        raise FeedError("no such file or folder", file=str(path))
    for found in sorted(path.rglob("*")):
        if found.is_file() and found.name.endswith(tuple(suffixes)) \
                and not found.name.startswith("."):
            yield found


def load_json(path: Path) -> Any:
    """A JSON document, read through gzip when the file is gzipped (by its magic bytes)."""
    try:
        with path.open("rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
        opener: Any = gzip.open if gzipped else open
        with opener(path, "rb") as f:
            return json.load(f)
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise FeedError(f"cannot read: {e}", file=str(path)) from e
    except UnicodeDecodeError as e:
        raise FeedError(f"not UTF-8 ({e.reason} at byte {e.start})", file=str(path)) from e
    except json.JSONDecodeError as e:
        raise FeedError(f"not JSON: {e.msg} at line {e.lineno} column {e.colno}",
                        file=str(path)) from e


# -- helpers for the feed modules ---------------------------------------------------------------

class Fields:
    """Typed access to one record's fields: every miss is a FeedError naming the record."""

    def __init__(self, record: str | None, file: str | None = None) -> None:
        self.record = record
        self.file = file

    def error(self, field: str, message: str) -> FeedError:
        return FeedError(message, file=self.file, record=self.record, field=field)

    def obj(self, value: Any, field: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.error(field, f"expected an object, got {_kind(value)}")
        return value

    def items(self, value: Any, field: str, *, optional: bool = True) -> list[Any]:
        if value is None and optional:
            return []
        if not isinstance(value, list):
            raise self.error(field, f"expected a list, got {_kind(value)}")
        return value

    def text(self, value: Any, field: str, *, optional: bool = False) -> str:
        if value is None and optional:
            return ""
        if not isinstance(value, str):
            raise self.error(field, f"expected a string, got {_kind(value)}")
        return value

    def time(self, value: Any, field: str, *, optional: bool = True) -> datetime | None:
        """An ISO-8601 time; without an offset it is UTC (the NVD writes none)."""
        if value is None and optional:
            return None
        if isinstance(value, datetime):  # YAML parses unquoted times
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        text = self.text(value, field)
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise self.error(field, f"{text[:40]!r} is not an ISO-8601 time") from None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)

    def day(self, value: Any, field: str, *, optional: bool = True) -> date | None:
        if value is None and optional:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        text = self.text(value, field)
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            raise self.error(field, f"{text[:40]!r} is not a date (YYYY-MM-DD)") from None

    def score(self, value: Any, field: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not 0.0 <= value <= 10.0:
            raise self.error(field, f"expected a CVSS score from 0 to 10, got {value!r}")
        return float(value)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def english(entries: list[Any], f: Fields, where: str) -> str:
    """The English text of a list of ``{lang, value}`` entries (else the first one)."""
    texts: list[tuple[str, str]] = []
    for i, entry in enumerate(entries):
        e = f.obj(entry, f"{where}[{i}]")
        texts.append((str(e.get("lang") or ""), f.text(e.get("value"), f"{where}[{i}].value")))
    for lang, value in texts:
        if lang.lower().startswith("en"):
            return value
    return texts[0][1] if texts else ""


def worded_severity(text: str) -> str | None:
    """A severity word a publication uses instead of CVSS (``important``, ``moderate``)."""
    return _WORDS.get(text.strip().lower())


_WORDS = {"critical": "CRITICAL", "high": "HIGH", "important": "HIGH", "medium": "MEDIUM",
          "moderate": "MEDIUM", "low": "LOW", "none": "NONE", "informational": "NONE"}
