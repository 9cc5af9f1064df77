"""The one UTC time codec (``vulnmark._time``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from vulnmark._time import iso, parse, stored, utc

CET = timezone(timedelta(hours=1))


def test_stored_is_fixed_width_utc_and_sorts_as_text() -> None:
    times = [datetime(2026, 11, 27, 7, 0, tzinfo=UTC), datetime(2026, 11, 27, 8, 0, 0, 5, CET),
             datetime(9999, 12, 31, 23, 59, tzinfo=UTC), datetime(2026, 11, 27, 7, 0)]
    texts = [stored(t) for t in times]
    assert texts[0] == "2026-11-27T07:00:00.000000Z" == texts[3]  # naive is taken as UTC
    assert texts[1] == "2026-11-27T07:00:00.000005Z"
    assert {len(t or "") for t in texts} == {27}
    assert sorted(texts) == [texts[0], texts[3], texts[1], texts[2]]


def test_iso_is_the_json_form_and_parse_reads_both() -> None:
    t = datetime(2026, 11, 27, 8, 0, tzinfo=CET)
    assert iso(t) == "2026-11-27T07:00:00Z"
    assert parse(iso(t)) == t == parse(stored(t)) == utc(t)
    assert parse(stored(t)).tzinfo is not None  # type: ignore[union-attr]
    assert iso(None) is None and stored(None) is None and parse(None) is None
    assert parse("") is None
