"""Declared mappings: how one silo's export becomes canonical events.

A mapping is a YAML file (docs/MAPPINGS.md has the full reference)::

    source: calls                       # the silo's name, kept on every event (lineage)
    format: csv                         # csv | jsonl | json | parquet
    files: "calls*.csv"                 # which files of a folder this mapping reads
    key: [call_id, leg]                 # the record's key in its silo; omitted: file name and record number
    timestamp: {column: start_time, format: "%d/%m/%Y %H:%M:%S", timezone: Europe/Rome}
    phone_region: {expr: "CASE WHEN site = 'LONDON' THEN 'GB' ELSE 'IT' END"}
    event:
      channel: {const: voice}
      type: {column: disposition, map: {abandoned: call_abandoned}, default: call_ended}
      department: department            # a bare string is a column name
    identifiers:
      - {kind: phone, column: ani}
      - {kind: customer_id, namespace: crm, column: crm_id}
    traits: {first_name: first_name}
    properties: rest                    # rest (every unmapped column) | none | [col, ...]

A field is a column (bare string or ``{column: c}``), a constant (``{const: v}``), an SQL expression over
the columns (``{expr: "..."}``, one expression, no sub-queries) or a value map over a column.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

import sqlglot
import sqlglot.expressions as sx
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import MappingError
from ..model import EVENT_FIELDS, TRAIT_FIELDS, Channel, IdentifierKind

Format = Literal["csv", "jsonl", "json", "parquet"]

BUILTIN_DIR = Path(__file__).with_name("builtin")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Strict):
    """Where a value comes from: exactly one of column, const, expr."""

    column: str | None = None
    const: str | int | float | bool | None = None
    expr: str | None = None
    map: dict[str, str] | None = None
    default: str | None = None
    optional: bool = False  # JSON only: the key may be absent from the sampled records

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        given = [n for n in ("column", "const", "expr") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of column, const, expr (got {given or 'none'})")
        if self.map is not None and self.column is None and self.expr is None:
            raise ValueError("map applies to a column or an expression")
        return self

    @classmethod
    def coerce(cls, v: Any) -> Any:
        if isinstance(v, str):
            return {"column": v}
        if isinstance(v, bool | int | float):
            return {"const": v}
        return v


def _coerce_field(v: Any) -> Any:
    return FieldSpec.coerce(v)


class IdentifierSpec(_Strict):
    kind: IdentifierKind
    namespace: str = ""
    column: str | None = None
    expr: str | None = None
    region: FieldSpec | None = None  # per-identifier phone region, else the mapping's phone_region
    optional: bool = False

    @field_validator("region", mode="before")
    @classmethod
    def _c(cls, v: Any) -> Any:
        return {"const": v} if isinstance(v, str) else v

    @model_validator(mode="after")
    def _check(self) -> IdentifierSpec:
        if (self.column is None) == (self.expr is None):
            raise ValueError("an identifier needs exactly one of column, expr")
        from ..model import NAMESPACED_KINDS

        if self.kind in NAMESPACED_KINDS and not self.namespace:
            raise ValueError(
                f"identifier kind {self.kind.value} needs a namespace (the system it belongs to, "
                "e.g. namespace: crm), so that crm:123 is not confused with shop:123"
            )
        if self.namespace and (":" in self.namespace or not self.namespace.strip()):
            raise ValueError(f"namespace {self.namespace!r} must be a plain word without ':'")
        return self

    @property
    def field(self) -> FieldSpec:
        return FieldSpec(column=self.column, expr=self.expr, optional=self.optional)


class TimestampSpec(_Strict):
    column: str | None = None
    expr: str | None = None
    format: str | None = None  # strptime format, or epoch_s / epoch_ms; None: ISO 8601
    timezone: str = "UTC"  # zone of timestamps written without an offset

    @model_validator(mode="after")
    def _check(self) -> TimestampSpec:
        if (self.column is None) == (self.expr is None):
            raise ValueError("timestamp needs exactly one of column, expr")
        return self

    @property
    def field(self) -> FieldSpec:
        return FieldSpec(column=self.column, expr=self.expr)


class CsvOptions(_Strict):
    delimiter: str = ","
    quote: str = '"'
    escape: str = '"'
    encoding: str = "utf-8"
    header: bool = True


class Mapping(_Strict):
    source: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    format: Format
    files: str | None = None
    description: str = ""
    csv: CsvOptions = CsvOptions()
    key: list[str] | None = None
    timestamp: TimestampSpec
    phone_region: FieldSpec | None = None
    event: dict[str, FieldSpec]
    identifiers: list[IdentifierSpec] = []
    traits: dict[str, FieldSpec] = {}
    properties: Literal["rest", "none"] | list[str] = "rest"
    require_identifier: bool = True
    origin: str = ""  # where the mapping was loaded from (set by the loader)

    @field_validator("event", "traits", mode="before")
    @classmethod
    def _fields(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        return {k: _coerce_field(x) for k, x in v.items()}

    @field_validator("phone_region", mode="before")
    @classmethod
    def _region(cls, v: Any) -> Any:
        return {"const": v} if isinstance(v, str) else v

    @field_validator("key", mode="before")
    @classmethod
    def _key(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _check(self) -> Mapping:
        unknown = set(self.event) - set(EVENT_FIELDS) - {"source_key"}
        if unknown:
            raise ValueError(f"event has unknown field(s) {sorted(unknown)}; known: {list(EVENT_FIELDS)}")
        for need in ("channel", "type"):
            if need not in self.event:
                raise ValueError(f"event.{need} is required")
        ch = self.event["channel"]
        if ch.const is not None and str(ch.const) not in {c.value for c in Channel}:
            raise ValueError(f"event.channel {ch.const!r} is not a channel: {[c.value for c in Channel]}")
        unknown_t = set(self.traits) - set(TRAIT_FIELDS)
        if unknown_t:
            raise ValueError(f"traits has unknown field(s) {sorted(unknown_t)}; known: {list(TRAIT_FIELDS)}")
        if self.require_identifier and not self.identifiers:
            raise ValueError("no identifiers declared (set require_identifier: false if that is intended)")
        return self

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.model_dump_json(exclude={"origin"}).encode()).hexdigest()[:16]

    def with_source(self, name: str) -> Mapping:
        return self.model_copy(update={"source": name})


def _format_errors(exc: ValidationError, origin: str) -> MappingError:
    errs = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e["loc"] if not str(p).startswith("function-"))
        errs.append(f"{loc}: {e['msg']}" if loc else e["msg"])
    return MappingError(f"Mapping {origin} is invalid", errors=errs)


def load_mapping(path: str | Path) -> Mapping:
    p = Path(path)
    if not p.exists():
        raise MappingError(f"Mapping file {p} does not exist")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise MappingError(f"Mapping {p} is not valid YAML: {exc}") from exc
    return parse_mapping(data, origin=str(p))


def parse_mapping(data: Any, origin: str = "<mapping>") -> Mapping:
    if not isinstance(data, dict):
        raise MappingError(f"Mapping {origin} must be a YAML mapping (key: value), not {type(data).__name__}")
    try:
        return Mapping.model_validate({**data, "origin": origin})
    except ValidationError as exc:
        raise _format_errors(exc, origin) from None


def builtin_mappings() -> dict[str, Mapping]:
    """The mappings shipped for the demo company's silos, by source name."""
    out: dict[str, Mapping] = {}
    for p in sorted(BUILTIN_DIR.glob("*.yaml")):
        m = load_mapping(p)
        out[m.source] = m.model_copy(update={"origin": f"built-in:{m.source}"})
    return out


# --- expression checking -------------------------------------------------------------------------

_FORBIDDEN = (sx.Select, sx.Subquery, sx.Insert, sx.Delete, sx.Update, sx.Create, sx.Drop, sx.Command)


def expr_columns(expr: str, origin: str, where: str) -> set[str]:
    """Columns an SQL expression reads. Raises MappingError for anything but one plain expression."""
    try:
        tree = sqlglot.parse_one(expr, dialect="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise MappingError(f"Mapping {origin}: {where}: cannot parse expression {expr!r}: {exc}") from None
    if isinstance(tree, _FORBIDDEN) or any(isinstance(n, _FORBIDDEN) for n in tree.walk()):
        raise MappingError(f"Mapping {origin}: {where}: only a plain expression is allowed, not {expr!r}")
    if isinstance(tree, sx.Table) or any(isinstance(n, sx.Table) for n in tree.walk()):
        raise MappingError(f"Mapping {origin}: {where}: expressions cannot read tables: {expr!r}")
    cols = set()
    for c in tree.find_all(sx.Column):
        parts = [p.name for p in c.parts]
        cols.add(".".join(parts))
    return cols


def referenced_columns(m: Mapping) -> dict[str, set[str]]:
    """Every column the mapping reads, with where it is used (for the missing-column check)."""
    refs: dict[str, set[str]] = {}

    def add(col: str, where: str) -> None:
        refs.setdefault(col, set()).add(where)

    def field(f: FieldSpec, where: str) -> None:
        if f.column is not None:
            if not f.optional:
                add(f.column, where)
        elif f.expr is not None:
            for c in expr_columns(f.expr, m.origin, where):
                add(c, where)

    for k in m.key or []:
        add(k, "key")
    field(m.timestamp.field, "timestamp")
    if m.phone_region is not None:
        field(m.phone_region, "phone_region")
    for name, f in m.event.items():
        field(f, f"event.{name}")
    for i, ident in enumerate(m.identifiers):
        field(ident.field, f"identifiers[{i}] ({ident.kind.value})")
        if ident.region is not None:
            field(ident.region, f"identifiers[{i}].region")
    for name, f in m.traits.items():
        field(f, f"traits.{name}")
    if isinstance(m.properties, list):
        for c in m.properties:
            add(c, "properties")
    return refs
