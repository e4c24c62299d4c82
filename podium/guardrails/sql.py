"""Whether a SQL text is one read-only query, as a database of a given dialect would read it.

The text is parsed with sqlglot, never pattern-matched: dialects disagree on what a comment
or a string is (MySQL runs ``/*! ... */`` as code, PostgreSQL nests comments and quotes with
``$$``), and a query read one way can hide a write read another. Unless one dialect is
named, the text must be read-only as every common dialect reads it.

What passes: one SELECT (with WITH, UNION, subqueries) or VALUES, with no INTO, no locking
clause, no statement inside it that writes, and no call to a function with side effects.
Anything the parser cannot read is refused.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot.expressions.core import Expr as Expression
    from sqlglot.tokenizer_core import Token

# Read as each of these when no dialect is named: sqlglot's generic SQL and the databases
# whose comments and strings differ most.
DIALECTS: tuple[str, ...] = ("", "mysql", "postgres", "sqlite")
MAX_SQL = 20_000  # characters; parsing takes about a second for 12,000 as four dialects

# Statements and clauses that write, lock or change the session; by sqlglot class name.
_WRITES = (
    "DML DDL Drop Alter TruncateTable Command Pragma Set Transaction Commit Rollback Use "
    "Grant Revoke LoadData Kill Analyze Cache Uncache Refresh Execute Attach Detach Export "
    "Put Get Copy Into Lock"
).split()
# Tokens that a read-only query never holds (the parser may drop some, such as FOR UPDATE
# in a dialect without locking reads, so they are checked before parsing as well).
_WRITE_TOKENS = frozenset(
    "INSERT UPDATE DELETE MERGE CREATE DROP ALTER INTO LOCK GRANT REVOKE COPY COMMAND "
    "EXECUTE PRAGMA ATTACH DETACH OVERWRITE KILL COMMIT ROLLBACK".split()
)
# Functions with side effects: writes, files, sleeping, locks, other connections.
_SIDE_EFFECTS = frozenset(
    """setval nextval set_config query_to_xml query_to_xml_and_xmlschema cursor_to_xml
    load_file sleep benchmark get_lock release_lock release_all_locks master_pos_wait
    source_pos_wait sys_exec sys_eval load_extension writefile readfile edit fts3_tokenizer
    openrowset opendatasource openquery""".split()
)
_SIDE_EFFECT_PREFIXES = ("pg_", "lo_", "dblink", "xp_", "sp_")
# PostgreSQL functions named pg_ that only read.
_HARMLESS = frozenset(
    """pg_typeof pg_size_pretty pg_column_size pg_relation_size pg_total_relation_size
    pg_table_size pg_indexes_size pg_database_size""".split()
)
_LOCKS = "it locks rows (FOR UPDATE, FOR SHARE, LOCK IN SHARE MODE)"


class _Quiet(logging.Filter):
    """Drops sqlglot's warnings (unsupported syntax) raised while podium checks a query."""

    local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(self.local, "active", False)


_QUIET = _Quiet()
logging.getLogger("sqlglot").addFilter(_QUIET)


def _function_names(node: Expression) -> Iterator[str]:
    from sqlglot import exp

    if isinstance(node, exp.Anonymous):
        yield node.name.lower()
    elif isinstance(node, exp.Func):
        yield from (name.lower() for name in type(node).sql_names())


def _harmful(name: str) -> bool:
    if name in _HARMLESS:
        return False
    return name in _SIDE_EFFECTS or name.startswith(_SIDE_EFFECT_PREFIXES)


def _comment_problem(tokens: list[Token]) -> str | None:
    for token in tokens:
        for comment in token.comments:
            if comment.lstrip().startswith(("!", "M!", "m!")):
                return (
                    "it holds a MySQL executable comment (/*! ... */), which the server "
                    "runs as code"
                )
    return None


def _token_problem(tokens: list[Token]) -> str | None:
    previous = ""
    for token in tokens:
        kind = token.token_type.name
        if kind == "LOCK" or (kind == "UPDATE" and previous == "FOR"):
            return _LOCKS
        if kind in _WRITE_TOKENS:
            return f"it writes ({token.text.upper()})"
        previous = kind
    return None


def _tree_problem(statement: Expression) -> str | None:
    from sqlglot import exp

    writes = tuple(getattr(exp, name) for name in _WRITES if hasattr(exp, name))
    for node in statement.walk():
        if isinstance(node, exp.Lock):
            return _LOCKS
        if isinstance(node, writes):
            return f"it writes ({node.key.upper()})"
        for name in _function_names(node):
            if _harmful(name):
                return f"it calls {name}(), which has side effects"
    return None


def _is_query(statement: Expression) -> bool:
    from sqlglot import exp

    if isinstance(statement, exp.Subquery):
        statement = statement.unnest()
    return isinstance(statement, exp.Select | exp.SetOperation | exp.Values)


def _cannot_read(shown: str, error: BaseException) -> str:
    if isinstance(error, RecursionError | MemoryError):
        return f"it cannot be read as {shown} SQL (nested too deeply)"
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"it cannot be read as {shown} SQL ({first[:120]})"


def _problem_as(sql: str, dialect_name: str) -> str | None:
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.errors import ErrorLevel

    dialect = Dialect.get_or_raise(dialect_name or None)
    shown = dialect_name or "generic"
    _QUIET.local.active = True
    try:
        try:
            tokens = list(dialect.tokenize(sql))
        except Exception as error:  # sqlglot's TokenError, and recursion alike
            return _cannot_read(shown, error)
        problem = _comment_problem(tokens)
        if problem is not None:
            return problem
        try:
            statements = dialect.parser(error_level=ErrorLevel.RAISE).parse(tokens, sql)
        except Exception as error:  # sqlglot's ParseError, and recursion alike
            return _token_problem(tokens) or _cannot_read(shown, error)
    finally:
        _QUIET.local.active = False
    found = [s for s in statements if s is not None and s.key != "semicolon"]
    if len(found) > 1:
        return "it holds more than one statement"
    if not found or not _is_query(found[0]):
        return "it is not a SELECT"
    return _token_problem(tokens) or _tree_problem(found[0])


def read_only_problem(sql: str, dialect: str | None = None) -> str | None:
    """Why ``sql`` is not one read-only query, or None when it is.

    Args:
        sql: The query text.
        dialect: A sqlglot dialect name ("postgres", "mysql", "sqlite", ...); None reads
            the text as each of DIALECTS, and any reading that is not read-only refuses it.
    """
    if len(sql) > MAX_SQL:
        return f"it is longer than {MAX_SQL:,} characters"
    for name in DIALECTS if dialect is None else (dialect,):
        problem = _problem_as(sql, name)
        if problem is not None:
            suffix = f" (read as {name or 'generic'} SQL)" if dialect is None and name else ""
            return problem + suffix
    return None
