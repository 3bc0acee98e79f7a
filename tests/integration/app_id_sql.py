"""The checker of tests/integration/test_app_id_queries.py: capture every statement the paybutton code sends to any
engine (SQLAlchemy's `before_cursor_execute`, with the paybutton function that sent it), parse it with sqlglot in
its database's dialect, and say what in it would be a multi-shard statement on Citus (src/paybutton/distribution.py):

- a SELECT, UPDATE or DELETE reading or writing a distributed table whose WHERE (or JOIN ... ON) does not pin that
  table's app_id: `app_id = <value>`, `app_id IN (<values>)`, `app_id = ANY(<value>)`, or `app_id = <other>.app_id`
  where the other table is pinned (a join or a correlated subquery on app_id);
- two distributed tables of one query not joined on app_id (they are co-located by it: the join stays on one node);
- an INSERT into a distributed table without an app_id column.

Only conjuncts count (an OR pins nothing). A statement the paybutton code did not send (a test's own set-up or
reading, issued from the test module) is not checked."""

from __future__ import annotations

import contextlib
import dataclasses
import re
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import greenlet
import sqlglot
from asyncpg.connection import Connection as AsyncpgConnection
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlglot import exp

from paybutton.distribution import DISTRIBUTION_COLUMN, is_distributed
from paybutton.order import writer_registry
from paybutton.order.writer_sqlite import SqliteWriter
from paybutton.tables import metadata

DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres"}
# Statements of the connection itself, not of a table: not parsed.
_PLUMBING = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT", "ROLLBACK", "PRAGMA",
             "SET ", "SHOW ")


@dataclasses.dataclass(frozen=True)
class Sent:
    """One statement as the database got it, and the innermost paybutton function that sent it."""

    sql: str
    dialect: str
    sender: str  # "paybutton.order.store.due_attempts"


def _sender() -> str | None:
    """The innermost paybutton function of the awaiting task (SQLAlchemy runs the driver in a greenlet whose parent
    is suspended inside the caller's `await`), or of this thread's stack (a sync engine); None for a test's own."""
    frames: list[Any] = []
    g = greenlet.getcurrent()
    f = g.parent.gr_frame if g.parent is not None else sys._getframe()
    while f is not None:
        frames.append(f)
        f = f.f_back
    for f in frames:
        name = str(f.f_globals.get("__name__", ""))
        if name.startswith(("sqlalchemy", "asyncio", "asyncpg")) or name == __name__:
            continue
        if name.startswith("paybutton."):
            return f"{name}.{f.f_code.co_name}"
        return None  # the first caller outside SQLAlchemy is a test's module: its own statement
    return None


@contextmanager
def capture() -> Iterator[list[Sent]]:
    """Every statement the paybutton code sends while inside (the live server's thread too): through SQLAlchemy's
    engines, and through the order writers' own drivers (asyncpg's pool, the SQLite writer's sqlite3 connection)."""
    sent: list[Sent] = []

    def record(statement: str, dialect: str) -> None:
        who = _sender()
        if who is not None:
            sent.append(Sent(statement, dialect, who))

    def before(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        record(statement, conn.dialect.name)

    event.listen(Engine, "before_cursor_execute", before)
    try:
        with _asyncpg_calls(record), _sqlite_writer_calls(record):
            yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", before)


@contextmanager
def _asyncpg_calls(record: Any) -> Iterator[None]:
    """asyncpg's query methods, wrapped: the PostgreSQL order writer's statements (SQLAlchemy's own calls are
    skipped by _sender: their caller is SQLAlchemy, and its event has them already)."""
    originals = {name: getattr(AsyncpgConnection, name) for name in ("execute", "fetch", "fetchrow", "fetchval")}

    def wrap(original: Any) -> Any:
        async def call(self: Any, query: str, *args: Any, **kw: Any) -> Any:
            record(query, "postgresql")
            return await original(self, query, *args, **kw)

        return call

    for name, original in originals.items():
        setattr(AsyncpgConnection, name, wrap(original))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(AsyncpgConnection, name, original)


@contextmanager
def _sqlite_writer_calls(record: Any) -> Iterator[None]:
    """The SQLite order writer's connections traced (sqlite3's trace callback: the statement as run): those open
    already, and those opened while inside."""
    traced: list[sqlite3.Connection] = []

    def trace(conn: sqlite3.Connection) -> None:
        conn.set_trace_callback(lambda sql: record(sql, "sqlite"))
        traced.append(conn)

    for w in list(writer_registry._writers.values()):
        if isinstance(w, SqliteWriter) and w._conn is not None:
            trace(w._conn)
    open_conn = SqliteWriter._open_conn

    def opened(self: SqliteWriter) -> sqlite3.Connection:
        conn = open_conn(self)
        trace(conn)
        return conn

    SqliteWriter._open_conn = opened  # type: ignore[method-assign]
    try:
        yield
    finally:
        SqliteWriter._open_conn = open_conn  # type: ignore[method-assign]
        for conn in traced:
            with contextlib.suppress(sqlite3.ProgrammingError):  # closed meanwhile
                conn.set_trace_callback(None)


def distributed(name: str) -> bool:
    return name in metadata.tables and is_distributed(name)


def parse(s: Sent) -> exp.Expression | None:
    """The statement's tree; None for the connection's own plumbing (transactions, savepoints, pragmas)."""
    head = s.sql.lstrip().upper()
    if head.startswith(_PLUMBING):
        return None
    return sqlglot.parse_one(s.sql, read=DIALECTS[s.dialect])


def _conjuncts(e: exp.Expression | None) -> list[exp.Expression]:
    if e is None:
        return []
    if isinstance(e, exp.Where):
        return _conjuncts(e.this)
    if isinstance(e, exp.Paren):
        return _conjuncts(e.this)
    if isinstance(e, exp.And):
        return _conjuncts(e.this) + _conjuncts(e.expression)
    return [e]


def _constant(e: exp.Expression) -> bool:
    """A value the statement carries (a parameter, a literal, a cast of one): no column, no subquery."""
    return not any(isinstance(n, (exp.Column, exp.Select)) for n in e.walk())


class Scope:
    """One query level (a SELECT, an UPDATE, a DELETE): its tables by alias, and the outer levels' pinned ones."""

    def __init__(self, node: exp.Expression, outer: Scope | None) -> None:
        self.node = node
        self.outer = outer
        self.tables: dict[str, str] = {}  # alias (or name) -> table name, this level only
        for t in self._own_tables():
            self.tables[t.alias_or_name] = t.name
        self.pinned: set[str] = set()

    def _own_tables(self) -> list[exp.Table]:
        n = self.node
        found: list[exp.Expression] = []
        if isinstance(n, (exp.Update, exp.Delete)):
            found.append(n.this)
        frm = n.args.get("from_")
        if frm is not None:
            found.append(frm.this)
        found += [j.this for j in n.args.get("joins") or []]
        using = n.args.get("using")
        found += list(using) if isinstance(using, list) else []
        return [t for t in found if isinstance(t, exp.Table)]

    def resolve(self, col: exp.Column) -> tuple[Scope, str] | None:
        """The level and alias a column belongs to: by its qualifier, or the one table of the innermost level."""
        scope: Scope | None = self
        while scope is not None:
            if col.table:
                if col.table in scope.tables:
                    return scope, col.table
            elif len(scope.tables) == 1:
                return scope, next(iter(scope.tables))
            scope = scope.outer
        return None

    def conditions(self) -> list[exp.Expression]:
        out = _conjuncts(self.node.args.get("where"))
        for j in self.node.args.get("joins") or []:
            out += _conjuncts(j.args.get("on"))
        return out


def _app_col(scope: Scope, e: exp.Expression) -> tuple[Scope, str] | None:
    if isinstance(e, exp.Column) and e.name == DISTRIBUTION_COLUMN:
        return scope.resolve(e)
    return None


def _pin(scope: Scope) -> list[tuple[str, str]]:
    """Fill scope.pinned; the app_id equalities between two of this level's tables (the co-location joins)."""
    links: list[tuple[tuple[Scope, str], tuple[Scope, str]]] = []
    for c in scope.conditions():
        if isinstance(c, exp.EQ):
            left, right = _app_col(scope, c.this), _app_col(scope, c.expression)
            if left and right:
                links.append((left, right))
            elif left and left[0] is scope and (_constant(c.expression) or isinstance(c.expression, exp.Any)):
                scope.pinned.add(left[1])
            elif right and right[0] is scope and _constant(c.this):
                scope.pinned.add(right[1])
        elif isinstance(c, exp.In) and not c.args.get("query") and c.expressions:
            col = _app_col(scope, c.this)
            if col and col[0] is scope and all(_constant(v) for v in c.expressions):
                scope.pinned.add(col[1])
    moved = True
    while moved:
        moved = False
        for (sa, a), (sb, b) in links:
            for (s1, x), (s2, y) in (((sa, a), (sb, b)), ((sb, b), (sa, a))):
                if x in s1.pinned and s2 is scope and y not in scope.pinned:
                    scope.pinned.add(y)
                    moved = True
    return [(a, b) for (sa, a), (sb, b) in links if sa is scope and sb is scope]


def _joined_on_app_id(tables: list[str], links: list[tuple[str, str]]) -> bool:
    """Whether the app_id equalities connect every distributed table of a level."""
    if len(tables) < 2:
        return True
    reached, todo = {tables[0]}, [tables[0]]
    while todo:
        at = todo.pop()
        for a, b in links:
            for x, y in ((a, b), (b, a)):
                if x == at and y not in reached:
                    reached.add(y)
                    todo.append(y)
    return set(tables) <= reached


def _levels(tree: exp.Expression) -> Iterator[Scope]:
    """Every query level of the statement, outer ones first (each knows its outer level)."""
    scopes: dict[int, Scope] = {}
    for node in tree.walk():
        if isinstance(node, (exp.Select, exp.Update, exp.Delete)):
            parent = node.parent
            while parent is not None and id(parent) not in scopes:
                parent = parent.parent
            scope = Scope(node, scopes[id(parent)] if parent is not None else None)
            scopes[id(node)] = scope
            yield scope


def problems(s: Sent, tree: exp.Expression) -> list[str]:
    """What makes this statement multi-shard on Citus; [] for a single-shard one."""
    found: list[str] = []
    for ins in tree.find_all(exp.Insert):
        target = ins.this
        table = target.this if isinstance(target, exp.Schema) else target
        cols = [i.name for i in target.expressions] if isinstance(target, exp.Schema) else []
        if isinstance(table, exp.Table) and distributed(table.name) and DISTRIBUTION_COLUMN not in cols:
            found.append(f"INSERT INTO {table.name} without app_id")
    for scope in _levels(tree):
        links = _pin(scope)
        dist = [a for a, name in scope.tables.items() if distributed(name)]
        for alias in dist:
            if alias not in scope.pinned:
                kind = type(scope.node).__name__.upper()
                found.append(f"{kind} of {scope.tables[alias]} without app_id in its WHERE")
        if not _joined_on_app_id(dist, links):
            found.append(f"join of {', '.join(scope.tables[a] for a in dist)} not on app_id")
    return found


def touches_distributed(tree: exp.Expression) -> bool:
    return any(distributed(t.name) for t in tree.find_all(exp.Table))


@dataclasses.dataclass
class Verdict:
    """What judge found in the statements of one test."""

    checked: int = 0
    distributed: int = 0
    swept: dict[str, int] = dataclasses.field(default_factory=dict)
    awaiting: list[str] = dataclasses.field(default_factory=list)
    bad: list[str] = dataclasses.field(default_factory=list)


def judge(sent: list[Sent], sweeps: set[str], awaiting: set[str]) -> Verdict:
    """Each statement: not checked (plumbing), on no distributed table, pinned, a sweep of `sweeps` (by its
    sender), on a table of `awaiting` (no app_id column yet), or bad."""
    v = Verdict()
    for s in sent:
        tree = parse(s)
        if tree is None:
            continue
        v.checked += 1
        if not touches_distributed(tree):
            continue
        v.distributed += 1
        found = problems(s, tree)
        if not found:
            continue
        if s.sender in sweeps:
            v.swept[s.sender] = v.swept.get(s.sender, 0) + 1
        elif all(any(re.search(rf"\b{t}\b", p) for t in awaiting) for p in found):
            v.awaiting.append(f"{s.sender}: {s.sql}")
        else:
            v.bad.append(f"{s.sender}: {'; '.join(found)}\n    {' '.join(s.sql.split())}")
    return v
