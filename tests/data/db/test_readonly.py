"""A database source is only ever read (issue 17, finding 2): refused queries, read-only sessions.

Run against SQLite and the real PostgreSQL server the tests start (tests/db_fixtures.py).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from medrisk.data import load_ledger
from medrisk.data.db._connect import _engine
from medrisk.data.db._read import _check_query
from medrisk.exceptions import ParamsError, SourceError

#: The audit's attacks: each escapes the sub-query medrisk wraps a mapping query in.
ATTACKS = [
    ("SELECT * FROM customers) AS a; DELETE FROM adjustments; COMMIT; "
     "SELECT * FROM (SELECT * FROM customers", r"closes a parenthesis it never opened"),
    ("SELECT * FROM customers) AS a; CREATE TABLE pwned (x int); "
     "SELECT * FROM (SELECT * FROM customers", r"closes a parenthesis it never opened"),
    ("SELECT * FROM customers; DROP TABLE adjustments", r"more than one statement"),
    ("WITH gone AS (DELETE FROM adjustments RETURNING *) SELECT * FROM customers",
     r"may only read; it holds 'DELETE'"),
    ("DELETE FROM adjustments", r"must be one SELECT .* starts with 'DELETE'"),
    ("SELECT * FROM customers /* ) ; */ WHERE name = 'x", r"unclosed quote"),
    ("SELECT pg_sleep(1); COMMIT", r"more than one statement"),
]


def _counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        out = {t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar() for t in names}
    engine.dispose()
    return out


@pytest.mark.parametrize("query, message", ATTACKS)
def test_attacks_are_refused_and_the_database_is_unchanged(tiny_db, query, message):
    before = _counts(tiny_db)
    with pytest.raises(ParamsError, match=message):
        load_ledger(tiny_db, {"tables": {"customers": {"query": query}}})
    assert _counts(tiny_db) == before  # no row deleted, no table made


@pytest.mark.parametrize("query", [
    "SELECT * FROM customers",
    "select * from customers order by customer_id;",  # one trailing ; is fine
    "WITH c AS (SELECT * FROM customers) SELECT * FROM c",
    "SELECT * FROM customers WHERE name <> 'x; DELETE FROM adjustments; )' -- ); drop\n",
    'SELECT customer_id AS "delete", name FROM customers /* update; ) */',
])
def test_reading_queries_pass_with_strings_names_and_comments(query):
    assert _check_query(query, "m.yaml").startswith(("SELECT", "select", "WITH"))


def test_every_session_is_read_only_even_past_a_commit(backend, tiny_db):
    engine = _engine(make_url(tiny_db), read_only=True)
    with engine.connect() as conn:
        if backend.kind == "postgresql":
            assert conn.execute(sa.text("SHOW transaction_read_only")).scalar() == "on"
        with pytest.raises(sa.exc.SQLAlchemyError):
            conn.execute(sa.text("DELETE FROM adjustments"))
        conn.rollback()
        if backend.kind == "postgresql":
            conn.execute(sa.text("COMMIT"))  # a new transaction is read-only too
        with pytest.raises(sa.exc.SQLAlchemyError):
            conn.execute(sa.text("CREATE TABLE pwned (x int)"))
    engine.dispose()
    assert "pwned" not in _counts(tiny_db)


def test_a_sqlite_uri_cannot_create_a_file(tmp_path):
    target = tmp_path / "new.db"
    with pytest.raises(SourceError):
        load_ledger(f"sqlite:///file:{target}?mode=rwc")
    assert not target.exists()
