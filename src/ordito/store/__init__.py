"""The store seam: every statement ordito runs goes through an :class:`Engine`.

DuckDB is the default engine; PostgreSQL and Spark run the portable analytics SQL through the same seam
(see ``ordito.store.dialect`` for transpilation). Engine-specific code lives only in this package.
"""

from .base import Engine
from .duckdb import DuckDBEngine

__all__ = ["DuckDBEngine", "Engine"]
