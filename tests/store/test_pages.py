"""Reading pages of tickets through the driver (the hot path of a check over a whole store),
on a real SQLite file and a real PostgreSQL database, and the fast record builders behind it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, datetime

import pytest

from core_support import make_ticket
from vulnmark.model import Comment, LabelChange, Ticket, TicketKey
from vulnmark.store import Store
from vulnmark.store import tickets as _tickets
from vulnmark.store.codec import comment_from_values, ticket_from_values

AT = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as s:
        yield s


def test_fast_builders_set_every_field_as_the_constructors_do() -> None:
    created = "2026-11-20T10:00:00.000000Z"
    comment = comment_from_values("body", "bob", created)
    assert comment == Comment("body", "bob", datetime(2026, 11, 20, 10, tzinfo=UTC))
    assert set(vars(comment)) == {f.name for f in fields(Comment)}
    history = (LabelChange(AT, "ann", ("HIGH",), ()),)
    values = ("SEC-1", "Title", created, "Desc", '["Vulnerability", "HIGH"]', "Closed",
              "2026-11-21T00:00:00.000000Z", "Fixed", "2026-11-22T00:00:00.000000Z", "ann",
              "https://x/SEC-1", "Major", "Bug", "jira", "2026-11-19T00:00:00.000000Z",
              "acc-ann", "ann@example.org", "Bob B", "acc-bob", "bob@example.org")
    built = ticket_from_values(values, [comment], history)
    assert set(vars(built)) == {f.name for f in fields(Ticket)}  # a new field must be added
    assert built == Ticket(
        key=TicketKey("SEC-1"), title="Title", created=datetime(2026, 11, 20, 10, tzinfo=UTC),
        description="Desc", labels=("Vulnerability", "HIGH"), status="Closed",
        resolved=datetime(2026, 11, 21, tzinfo=UTC), resolution="Fixed",
        updated=datetime(2026, 11, 22, tzinfo=UTC), reporter="ann", url="https://x/SEC-1",
        priority="Major", issue_type="Bug", source="jira",
        discovered=datetime(2026, 11, 19, tzinfo=UTC), comments=(comment,),
        label_history=history, reporter_id="acc-ann", reporter_email="ann@example.org",
        assignee="Bob B", assignee_id="acc-bob", assignee_email="bob@example.org")
    with pytest.raises(AttributeError):  # still frozen
        built.title = "changed"  # type: ignore[misc]


def _seed(store: Store, n: int) -> list[Ticket]:
    items = [make_ticket(f"K-{i:03d}", description=f"text {i}",
                         comments=tuple(f"c{i}.{j}" for j in range(i % 3)),
                         labels=("Vulnerability",) if i % 4 == 0 else ())
             for i in range(n)]
    store.upsert_tickets(items, actor="test", at=AT)
    return items


def _clear_dirty(store: Store, keys: list[str]) -> None:
    from sqlalchemy import delete

    from vulnmark.store.schema import dirty_tickets

    with store.transaction() as conn:
        conn.execute(delete(dirty_tickets).where(dirty_tickets.c.key.in_(keys)))


def test_a_pending_page_reads_tickets_with_comments_and_history(store: Store) -> None:
    items = _seed(store, 10)
    with store.reading() as conn:
        page = _tickets.pending_page(conn, after=None, limit=4)
    assert [t.key for t in page.live] == ["K-000", "K-001", "K-002", "K-003"]
    assert page.live[2].comments == items[2].comments
    assert page.gone == [] and page.last == "K-003"
    assert [k for k, _ in page.read] == ["K-000", "K-001", "K-002", "K-003"]
    full = store.get_ticket("K-002")
    assert full is not None and page.live[2] == full


def test_a_sparse_pending_page_gets_only_its_own_comments(store: Store) -> None:
    # K-001..K-004 are no longer pending: the page skips them, and their comments must not
    # be attached to the pending tickets around them
    _seed(store, 8)
    _clear_dirty(store, ["K-001", "K-002", "K-004"])
    with store.reading() as conn:
        page = _tickets.pending_page(conn, after=None, limit=3)
        rest = _tickets.pending_page(conn, after=page.last, limit=10, last="K-006")
    assert [t.key for t in page.live] == ["K-000", "K-003", "K-005"]
    assert [c.body for c in page.live[1].comments] == []
    assert [c.body for c in page.live[2].comments] == ["c5.0", "c5.1"]
    assert [t.key for t in rest.live] == ["K-006"]  # bounded by last
    assert [c.body for c in rest.live[0].comments] == []


def test_a_gone_ticket_is_listed_not_read(store: Store) -> None:
    _seed(store, 3)
    store.mark_gone(["K-001"], at=AT, reason="deleted in Jira")
    with store.reading() as conn:
        page = _tickets.pending_page(conn, after=None, limit=10)
    assert [t.key for t in page.live] == ["K-000", "K-002"]
    assert page.gone == ["K-001"]
    assert len(page.read) == 3 and all(len(h) == 64 for _, h in page.read)


def test_a_full_scan_streams_every_ticket_in_key_order(store: Store) -> None:
    items = _seed(store, 7)
    scanned = list(store.iter_tickets(batch=3))
    assert [t.key for t in scanned] == sorted(t.key for t in items)
    assert [len(t.comments) for t in scanned] == [i % 3 for i in range(7)]
