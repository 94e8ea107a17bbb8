"""DuckDB-dialect SQL to PostgreSQL and Spark SQL: sqlglot, plus the fix-ups it needs, all in one place.

ordito writes every statement in DuckDB's dialect. Engines that speak another dialect call
:func:`transpile` (or :func:`compile_sql` when they bind parameters). sqlglot does most of the work; the
functions in ``_FIXUPS`` below patch what it does not (each one says why), and :func:`check_portable`
tells whether a statement stays inside the subset that gives the *same results* on the three engines
(docs/ENGINES.md explains the rules and how they are tested).

Examples:
    >>> transpile("SELECT channel, count(*) AS n FROM events GROUP BY ALL", "postgres")
    'SELECT channel, COUNT(*) AS n FROM events GROUP BY 1'
    >>> transpile("SELECT x FROM (SELECT 1 AS x) ORDER BY x", "spark")
    'SELECT x FROM (SELECT 1 AS x) ORDER BY x NULLS LAST'
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, cast, get_args

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, SqlglotError

from ..errors import StoreError

Target = Literal["duckdb", "postgres", "spark"]
TARGETS: tuple[Target, ...] = get_args(Target)

__all__ = [
    "TARGETS",
    "Compiled",
    "Target",
    "TranspileError",
    "bind_order",
    "check_portable",
    "compile_sql",
    "spark_literals",
    "transpile",
]


class TranspileError(StoreError):
    """A statement cannot be expressed in the target dialect (or is not one statement)."""


@dataclass(frozen=True)
class Compiled:
    """One statement compiled for a target.

    Attributes:
        sql: the statement in the target's dialect. For PostgreSQL, placeholders are ``$1..$n``, each
            occurring once, in order.
        params: the parameter each placeholder stands for: ``k`` (an int) for the k-th ``?`` or ``$k``
            of the source, a name for ``$name``. For PostgreSQL, one per ``$1..$n`` (a parameter used
            twice appears twice); for Spark, each parameter once.
        tree: the fixed-up syntax tree (never mutate it: :func:`spark_literals` copies it).
    """

    sql: str
    params: tuple[int | str, ...]
    tree: exp.Expression


def transpile(sql: str, to: Target, *, pretty: bool = False) -> str:
    """Translate one DuckDB-dialect statement into the ``to`` dialect.

    ``duckdb`` returns ``sql`` unchanged. Raises :class:`TranspileError` when sqlglot cannot express a
    construct in the target (it never silently drops one: unsupported constructs raise).
    """
    if to == "duckdb":
        return sql
    if pretty:
        return _compile(sql, to).tree.sql(dialect=to, pretty=True, unsupported_level=ErrorLevel.RAISE)
    return _compile(sql, to).sql


def compile_sql(sql: str, to: Target) -> Compiled:
    """Like :func:`transpile`, also returning the order of the parameters (cached per statement)."""
    return _compile(sql, to)


def bind_order(compiled: Compiled, params: Sequence[Any] | Mapping[str, Any] | None) -> list[Any]:
    """The values of ``params`` in the order of the compiled statement's ``$1..$n``."""
    if not compiled.params:
        if params:
            raise TranspileError(f"{len(params)} parameter(s) given to a statement without placeholders")
        return []
    if params is None:
        raise TranspileError(f"the statement has {len(compiled.params)} placeholder(s) and no parameters")
    if isinstance(params, Mapping):
        missing = [p for p in compiled.params if str(p) not in params]
        if missing:
            raise TranspileError(f"no value for parameter(s) {', '.join(map(str, missing))}")
        return [params[str(p)] for p in compiled.params]
    if any(isinstance(p, str) for p in compiled.params):
        raise TranspileError("named placeholders ($name) take a dict of parameters")
    values = list(params)
    expected = max(int(p) for p in compiled.params)
    if len(values) != expected:
        raise TranspileError(f"{len(values)} parameter(s) given to a statement that takes {expected}")
    return [values[int(p) - 1] for p in compiled.params]


def spark_literals(compiled: Compiled, params: Sequence[Any] | Mapping[str, Any] | None) -> str:
    """The compiled Spark statement with each placeholder replaced by the literal of its value.

    Literals are built as syntax-tree nodes and rendered by sqlglot's Spark generator (which escapes
    quotes and backslashes the way Spark reads them), never by formatting strings into SQL.
    """
    if not compiled.params:
        bind_order(compiled, params)
        return compiled.sql
    values = dict(zip(compiled.params, bind_order(compiled, params), strict=True))
    tree = compiled.tree.copy()
    for ph in list(tree.find_all(exp.Placeholder)):
        ph.replace(_literal(values[_ref(ph)]))
    return tree.sql(dialect="spark", unsupported_level=ErrorLevel.RAISE)


# --- the fix-ups ---------------------------------------------------------------------------------------
# Each takes the parsed DuckDB tree and returns it patched for one target. Keep each small and say why.


def _pg_group_by_all(tree: exp.Expression) -> exp.Expression:
    """PostgreSQL has no ``GROUP BY ALL`` (DuckDB and Spark 3.4+ do): group by the ordinals of the
    select items that contain no aggregate, which is what DuckDB does."""
    for select in tree.find_all(exp.Select):
        group = select.args.get("group")
        if group is None or not group.args.get("all"):
            continue
        ordinals: list[exp.Expression] = [
            exp.Literal.number(i) for i, e in enumerate(select.expressions, 1) if not _has_aggregate(e)
        ]
        select.set("group", exp.Group(expressions=ordinals) if ordinals else None)
    return tree


def _pg_alias_derived_tables(tree: exp.Expression) -> exp.Expression:
    """PostgreSQL before 16 requires an alias on every subquery in FROM/JOIN; DuckDB and Spark do not."""
    n = 0
    for sub in tree.find_all(exp.Subquery):
        if not sub.alias and isinstance(sub.parent, exp.From | exp.Join):
            n += 1
            sub.set("alias", exp.TableAlias(this=exp.to_identifier(f"_q{n}")))
    return tree


def _pg_placeholders(tree: exp.Expression) -> exp.Expression:
    """sqlglot writes placeholders for psycopg (``%s``); PostgreSQL's own are ``$1..$n``. Here ``$k``
    stands for the k-th parameter of :attr:`Compiled.params` before :func:`_pg_by_occurrence` renumbers
    them (pg8000 maps ``$n`` to values by position of occurrence, so each must occur once, in order)."""
    order = {ref: k for k, ref in enumerate(_param_refs(tree), 1)}
    for ph in list(tree.find_all(exp.Placeholder)):
        ph.replace(exp.Parameter(this=exp.Literal.number(order[_ref(ph)])))
    return tree


def _pg_round_double(tree: exp.Expression) -> exp.Expression:
    """PostgreSQL has ``round(numeric, int)`` but no ``round(double precision, int)``: round through
    numeric and come back to double (DuckDB's result type). Halfway cases may round differently from
    DuckDB in the last digit (numeric reads 15 significant digits of the double): round in Python when
    the digit matters."""
    for node in list(tree.find_all(exp.Round)):
        if node.args.get("decimals") is None:
            continue
        inner = exp.Round(this=exp.cast(node.this.copy(), "DECIMAL"), decimals=node.args["decimals"].copy())
        node.replace(exp.cast(inner, "DOUBLE"))
    return tree


def _pg_json_from_text(tree: exp.Expression) -> exp.Expression:
    """JSON columns are published as text; PostgreSQL's JSON functions want ``json``: cast the first
    argument of JSON extraction (a no-op on a json column)."""
    for node in list(tree.find_all(exp.JSONExtract, exp.JSONExtractScalar)):
        arg = node.this
        if not (isinstance(arg, exp.Cast) and arg.to.is_type(exp.DataType.Type.JSON)):
            node.set("this", exp.cast(arg.copy(), "JSON"))
    return tree


def _pg_unicode_case(tree: exp.Expression) -> exp.Expression:
    """Text columns ordito creates on PostgreSQL are ``COLLATE "C"`` (code-point order, like DuckDB), and
    under "C" ``lower()``/``upper()`` change ASCII letters only (``È`` stays ``È``). Case mapping is done
    under the database's default collation instead (Unicode-aware on any UTF-8 database), and the result
    goes back to "C" so that ordering or comparing it stays in code-point order."""
    for node in list(tree.find_all(exp.Lower, exp.Upper)):
        if isinstance(node.this, exp.Collate):
            continue
        arg = exp.Collate(this=node.this.copy(), expression=exp.to_identifier("default", quoted=True))
        mapped = type(node)(this=arg)
        node.replace(exp.Collate(this=mapped, expression=exp.to_identifier("C", quoted=True)))
    return tree


def _date_trunc_of_date(tree: exp.Expression) -> exp.Expression:
    """DuckDB's ``date_trunc`` of a DATE returns a TIMESTAMP; PostgreSQL's returns a ``timestamptz``
    and Spark's (``trunc``) a DATE. Truncating the date as a timestamp gives DuckDB's type everywhere."""
    for node in list(tree.find_all(exp.DateTrunc)):
        unit = node.args.get("unit")
        name = unit.name.upper() if unit is not None else "DAY"
        node.replace(exp.TimestampTrunc(this=exp.cast(node.this.copy(), _timestamp()), unit=exp.var(name)))
    return tree


def _spark_json_is_text(tree: exp.Expression) -> exp.Expression:
    """Spark has no JSON type: JSON columns are strings and ``get_json_object`` reads strings. sqlglot
    turns ``CAST(x AS JSON)`` into ``to_json(x)``, which would quote the text once more: drop the cast."""
    for node in list(tree.find_all(exp.Cast)):
        if node.to.is_type(exp.DataType.Type.JSON):
            node.replace(node.this.copy())
    return tree


def _spark_trunc_without_zone(tree: exp.Expression) -> exp.Expression:
    """Spark's ``date_trunc`` returns a TIMESTAMP with local time zone even for a ``TIMESTAMP_NTZ``
    argument; DuckDB's returns a TIMESTAMP (no zone): cast back (in a UTC session, the same instant)."""
    for node in list(tree.find_all(exp.TimestampTrunc)):
        if not isinstance(node.parent, exp.Cast):
            node.replace(exp.cast(node.copy(), _timestamp()))
    return tree


#: date_diff units whose boundary semantics :func:`_spark_date_diff_boundaries` reproduces.
DATE_DIFF_UNITS = ("SECOND", "MINUTE", "HOUR", "DAY", "MONTH", "YEAR")


def _spark_date_diff_boundaries(tree: exp.Expression) -> exp.Expression:
    """DuckDB's ``date_diff(unit, a, b)`` counts unit *boundaries* crossed (10:00:59 to 10:01:01 is one
    minute), and so does sqlglot's PostgreSQL rendering; Spark's ``datediff(unit, a, b)`` counts whole
    units *elapsed* (zero minutes). Truncating both ends to the unit first makes them agree."""
    for node in list(tree.find_all(exp.DateDiff)):
        unit = node.args.get("unit")
        name = unit.name.upper() if unit is not None else "DAY"
        if name not in DATE_DIFF_UNITS:
            raise TranspileError(f"date_diff('{name.lower()}', ...) is not portable to Spark")
        for key in ("this", "expression"):
            node.set(key, exp.TimestampTrunc(this=node.args[key].copy(), unit=exp.var(name)))
    return tree


_FIXUPS: dict[str, tuple[Callable[[exp.Expression], exp.Expression], ...]] = {
    "postgres": (
        _date_trunc_of_date,
        _pg_unicode_case,
        _pg_group_by_all,
        _pg_alias_derived_tables,
        _pg_round_double,
        _pg_json_from_text,
        _pg_placeholders,
    ),
    "spark": (
        _date_trunc_of_date,
        _spark_json_is_text,
        _spark_trunc_without_zone,
        _spark_date_diff_boundaries,
    ),
}


# --- the portable subset -------------------------------------------------------------------------------

#: Functions whose results agree on DuckDB, PostgreSQL and Spark (after the fix-ups above). Each one is
#: exercised on the three real engines by tests/engines/test_portability.py: add a case there when you
#: add a function here.
PORTABLE_FUNCTIONS: frozenset[type[exp.Expression]] = frozenset(
    {
        # aggregates (cast sum() of integers to BIGINT: DuckDB gives HUGEINT, PostgreSQL numeric)
        exp.Count,
        exp.Sum,
        exp.Min,
        exp.Max,
        exp.Avg,
        # windows
        exp.RowNumber,
        exp.Rank,
        exp.DenseRank,
        exp.Lag,
        exp.Lead,
        # scalar
        exp.Cast,
        exp.Case,
        exp.If,
        exp.Coalesce,
        exp.Nullif,
        exp.Greatest,
        exp.Least,
        exp.Abs,
        exp.Round,
        exp.Floor,
        exp.Ceil,
        exp.Lower,
        exp.Upper,
        exp.Length,
        exp.Substring,
        exp.Trim,
        exp.SplitPart,
        exp.Left,
        exp.TimestampTrunc,
        exp.DateTrunc,
        exp.DateDiff,
        exp.JSONExtractScalar,
    }
)

#: Types a portable statement may cast to.
PORTABLE_TYPES = frozenset(
    {
        exp.DataType.Type.BIGINT,
        exp.DataType.Type.INT,
        exp.DataType.Type.DOUBLE,
        exp.DataType.Type.VARCHAR,
        exp.DataType.Type.TEXT,
        exp.DataType.Type.BOOLEAN,
        exp.DataType.Type.DATE,
        exp.DataType.Type.TIMESTAMP,
        exp.DataType.Type.TIMESTAMPNTZ,  # what sqlglot reads DuckDB's TIMESTAMP as
        exp.DataType.Type.DECIMAL,
        exp.DataType.Type.JSON,
    }
)


def check_portable(sql: str) -> list[str]:
    """Reasons why a DuckDB-dialect statement may not give the same result on every engine (none: fine).

    Checks what the engines cannot: functions and casts outside the tested portable subset, output
    columns without a lower-case name, ``ORDER BY ALL``, ``*`` modifiers, recursive CTEs. Results must
    still be compared on the real engines (docs/ENGINES.md).
    """
    try:
        tree = _parse(_number_placeholders(sql))
    except TranspileError as exc:
        return [exc.message]
    problems: list[str] = []
    for node in tree.walk():
        if isinstance(node, exp.Func) and cast(type[exp.Expression], type(node)) not in PORTABLE_FUNCTIONS:
            if not _allowed_structural(node):
                name = node.sql_name() if not isinstance(node, exp.Anonymous) else str(node.this)
                problems.append(f"function {name.lower()}() is not in the portable subset")
        elif isinstance(node, exp.DataType) and isinstance(node.parent, exp.Cast | exp.TryCast):
            if node.this not in PORTABLE_TYPES:
                problems.append(f"cast to {node.this.name} is not portable")
        elif isinstance(node, exp.Floor | exp.Ceil) and not isinstance(node.parent, exp.Cast):
            problems.append(f"cast {node.sql_name().lower()}() to BIGINT (Spark gives BIGINT, DuckDB DOUBLE)")
        elif isinstance(node, exp.ILike):
            problems.append(
                "ILIKE folds case differently (ASCII only under PostgreSQL's C collation): use lower(x) LIKE"
            )
        elif isinstance(node, exp.Bracket | exp.Lambda | exp.Pivot | exp.TableSample | exp.Unnest):
            problems.append(f"{type(node).__name__.lower()} is not portable")
        elif isinstance(node, exp.Star) and any(
            node.args.get(k) for k in ("except", "replace", "rename", "exclude")
        ):
            problems.append("* EXCLUDE/REPLACE is not portable")
        elif isinstance(node, exp.With) and node.args.get("recursive"):
            problems.append("recursive CTEs are not portable (Spark)")
        elif isinstance(node, exp.Order) and any(
            isinstance(o.this, exp.Column | exp.Var)
            and o.this.name.upper() == "ALL"
            and not o.this.text("table")
            for o in node.expressions
        ):
            problems.append("ORDER BY ALL is not portable")
        elif isinstance(node, exp.DateDiff):
            unit = node.args.get("unit")
            if unit is not None and unit.name.upper() not in DATE_DIFF_UNITS:
                problems.append(f"date_diff unit {unit.name} is not portable")
    if isinstance(tree, exp.Query):
        for item in tree.selects:
            name = item.alias_or_name
            if isinstance(item, exp.Star) and not any(item.args.values()):
                continue
            if not isinstance(item, exp.Alias | exp.Column) or not name:
                problems.append(f"output column {item.sql('duckdb')!r} needs an alias")
            elif name != name.lower():
                problems.append(f"output column {name!r} must be lower case (PostgreSQL folds it)")
    return list(dict.fromkeys(problems))


# --- internals -----------------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _compile(sql: str, to: Target) -> Compiled:
    if to not in TARGETS:
        raise TranspileError(f"unknown SQL dialect {to!r}: one of {', '.join(TARGETS)}")
    tree = _parse(_number_placeholders(sql))
    params = _param_refs(tree)
    for fix in _FIXUPS.get(to, ()):
        tree = fix(tree)
    try:
        out = tree.sql(dialect=to, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise TranspileError(f"cannot write this statement for {to}: {exc}", sql=sql) from exc
    if to == "postgres" and params:
        out, params = _pg_by_occurrence(out, params)
    return Compiled(sql=out, params=params, tree=tree)


def _param_refs(tree: exp.Expression) -> tuple[int | str, ...]:
    """The parameters a statement takes: ``1..n`` for numbered placeholders, else the distinct names."""
    refs = [_ref(p) for p in tree.find_all(exp.Placeholder)]
    if all(isinstance(r, int) for r in refs):
        return tuple(range(1, 1 + max((int(r) for r in refs), default=0)))
    if any(isinstance(r, int) for r in refs):
        raise TranspileError("a statement mixes numbered (? or $1) and named ($name) placeholders")
    return tuple(dict.fromkeys(refs))


def _pg_by_occurrence(sql: str, params: tuple[int | str, ...]) -> tuple[str, tuple[int | str, ...]]:
    """Renumber ``$k`` as ``$1..$m`` in the order they occur in the text; a parameter used twice is
    sent twice."""
    tokens = list(Dialect.get_or_raise("postgres").tokenize(sql))
    parts: list[str] = []
    refs: list[int | str] = []
    pos = 0
    for tok, nxt in zip(tokens, tokens[1:], strict=False):
        if (
            tok.token_type.name == "PARAMETER"
            and nxt.token_type.name == "NUMBER"
            and nxt.start == tok.end + 1
        ):
            refs.append(params[int(nxt.text) - 1])
            parts.append(sql[pos : tok.start])
            parts.append(f"${len(refs)}")
            pos = nxt.end + 1
    parts.append(sql[pos:])
    return "".join(parts), tuple(refs)


def _parse(sql: str) -> exp.Expression:
    try:
        trees = [cast(exp.Expression, t) for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    except SqlglotError as exc:
        raise TranspileError(f"cannot parse as DuckDB SQL: {exc}", sql=sql) from exc
    if len(trees) != 1:
        raise TranspileError(f"expected one statement, found {len(trees)}", sql=sql)
    return trees[0]


def _number_placeholders(sql: str) -> str:
    """``?`` placeholders become ``$1..$n`` in the order they are written (the tokenizer skips strings
    and comments), so every later step sees numbered placeholders."""
    tokens = [t for t in Dialect.get_or_raise("duckdb").tokenize(sql) if t.token_type.name == "PLACEHOLDER"]
    if not tokens:
        return sql
    parts: list[str] = []
    pos = 0
    for k, tok in enumerate(tokens, 1):
        parts.append(sql[pos : tok.start])
        parts.append(f"${k}")
        pos = tok.end + 1
    parts.append(sql[pos:])
    return "".join(parts)


def _ref(ph: exp.Expression) -> int | str:
    name = ph.name
    return int(name) if name.isdigit() else name


def _is_number(ph: exp.Expression) -> bool:
    return ph.name.isdigit()


def _has_aggregate(node: exp.Expression) -> bool:
    """An aggregate in ``node`` itself, not in a subquery (a scalar subquery is grouped on as a value)."""
    return any(
        isinstance(n, exp.AggFunc)
        for n in node.walk(prune=lambda n: isinstance(n, exp.Subquery | exp.Select))
    )


def _allowed_structural(node: exp.Func) -> bool:
    """Func nodes that are syntax rather than functions: AND/OR, EXISTS (subquery)."""
    return isinstance(node, exp.Connector | exp.Exists)


def _timestamp() -> exp.DataType:
    """DuckDB's TIMESTAMP (no zone): ``timestamp`` on PostgreSQL, ``TIMESTAMP_NTZ`` on Spark."""
    return exp.DataType.build("TIMESTAMP", dialect="duckdb")


def _literal(value: Any) -> exp.Expression:
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, int | float | decimal.Decimal):
        return exp.Literal.number(value)
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:  # D4: timestamps are UTC without zone
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), _timestamp())
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    raise TranspileError(f"cannot bind a {type(value).__name__} as an SQL literal")
