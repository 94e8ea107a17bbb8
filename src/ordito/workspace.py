"""The Python API: ``ordito.Workspace(path)`` opens (or creates) a workspace.

Examples:
    >>> import ordito
    >>> ws = ordito.Workspace("demo/ordito.duckdb")            # doctest: +SKIP
    >>> ws.ingest("demo/company")                              # doctest: +SKIP
    >>> ws.resolve()                                           # doctest: +SKIP
    >>> ws.customer("+39 333 123 4567").timeline()             # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import settings
from .errors import WorkspaceLockedError
from .identity.resolve import Resolver, ResolveResult
from .sources.ingest import Ingestor, IngestResult, plan
from .store.duckdb import DuckDBEngine
from .store.schema import migrate


def _explain_lock(path: Path, exc: WorkspaceLockedError) -> WorkspaceLockedError:
    """Name the server that holds the workspace, if it is `ordito serve`."""
    state = settings.sidecar_dir(path) / "serve.json"
    try:
        info = json.loads(state.read_text())
        url = info["url"]
    except (OSError, ValueError, KeyError):
        return exc
    if f"pid {info.get('pid')})" not in str(exc):
        return exc  # a stale file from a server that died: the holder is someone else
    return WorkspaceLockedError(
        f"`ordito serve` (pid {info.get('pid')}) holds {path} and serves it at {url}. Read customers through "
        f"its API ({url}/v1/customers/lookup?phone=..., {url}/docs), send events to {url}/v1/batch, or stop "
        "it to run commands that write (DuckDB lets one process write a workspace)."
    )


if TYPE_CHECKING:
    from collections.abc import Sequence

    from .store.base import Engine
    from .store.publish import PublishResult


class Workspace:
    """One workspace: a DuckDB file holding events, identities and everything derived from them.

    Args:
        path: the workspace file; None uses ``ORDITO_WORKSPACE`` or ``./ordito.duckdb``.
        read_only: open without the write lock (several readers may share a file nobody writes).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, read_only: bool = False) -> None:
        self.path = settings.resolve_workspace(path)
        try:
            self.engine = DuckDBEngine(self.path, read_only=read_only)
        except WorkspaceLockedError as exc:
            raise _explain_lock(self.path, exc) from exc
        if not read_only:
            migrate(self.engine)
            # we hold the write lock, so no server does: a serve.json left by a killed server is stale
            settings.sidecar_dir(self.path).joinpath("serve.json").unlink(missing_ok=True)

    # --- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"

    # --- ingest ----------------------------------------------------------------------------------

    def ingest(
        self,
        path: str | os.PathLike[str],
        *,
        source: str | None = None,
        mapping: str | os.PathLike[str] | list[str | os.PathLike[str]] | None = None,
        progress: Callable[[str, int, int, float | None], None] | None = None,
    ) -> IngestResult:
        """Ingest a file or a folder. A demo company folder is read whole with the built-in mappings."""
        maps: list[str | Path] = []
        if mapping is not None:
            items = mapping if isinstance(mapping, list) else [mapping]
            maps = [Path(m) for m in items]
        p = plan(Path(path), source=source, mappings=maps)
        return Ingestor(self.engine, progress=progress).run(p)

    # --- identity --------------------------------------------------------------------------------

    def resolve(
        self, *, full: bool = False, progress: Callable[[str, float], None] | None = None
    ) -> ResolveResult:
        """Resolve identities of the events ingested since the last run (all events with ``full``)."""
        return Resolver(self.engine, progress).run(full=full)

    # --- publish ---------------------------------------------------------------------------------

    def publish(
        self,
        target: str | Engine,
        *,
        tables: Sequence[str] | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> PublishResult:
        """Copy the canonical tables to PostgreSQL (``postgresql://user@host:port/db``) or Spark
        (``spark:///path/to/warehouse``, or an engine), replacing the previous copy (docs/ENGINES.md)."""
        from .store.publish import publish

        return publish(self.engine, target, tables, progress=progress)

    # --- journey maps (docs/JOURNEY_MAPS.md) ------------------------------------------------------

    def event_log(
        self, case: str = "thread", level: str = "activity", activity: str = "type", sources: Any = None
    ) -> Any:
        """The event log (case_id, activity, timestamp, resource, channel, department, seq) as a
        pyarrow.Table ordered by case and time; ``case``: thread, customer or episode."""
        from .journeys.log import event_log

        return event_log(self.engine, case, level, activity, sources)

    def journey_map(
        self, case: str = "thread", level: str = "activity", activity: str = "type", sources: Any = None
    ) -> Any:
        """The directly-follows graph with frequency, cases and time on every edge (a JourneyMap)."""
        from .journeys.maps import dfg

        return dfg(self.engine, case, level, activity, sources)

    def journey_variants(
        self,
        case: str = "thread",
        level: str = "activity",
        activity: str = "type",
        sources: Any = None,
        top: int | None = 20,
    ) -> Any:
        """The most common variants (paths) with cases, share and durations."""
        from .journeys.maps import variants

        return variants(self.engine, case, level, activity, sources, top=top)

    def journey_sankey(self, case: str = "episode", max_steps: int = 5) -> dict[str, Any]:
        """Channel transitions inside cases as Sankey nodes and links."""
        from .journeys.maps import sankey

        return sankey(self.engine, case, max_steps=max_steps)

    def export_journeys(
        self,
        path: str | os.PathLike[str],
        format: str = "xes",
        case: str = "thread",
        level: str = "activity",
        activity: str = "type",
        sources: Any = None,
    ) -> Any:
        """Write the log as XES (``format="xes"``) or OCEL 2.0 JSON (``"ocel"``) for process-mining tools."""
        from .journeys.export import export

        return export(self.engine, path, format, case, level, activity, sources)

    # --- episodes, friction, KPIs (docs/JOURNEYS.md) ----------------------------------------------

    # --- voice of the customer (docs/VOC.md) ----------------------------------------------------------

    def voc(self, *, full: bool = False, tier: str | None = None) -> Any:
        """Language, sentiment, emotion and topics of new texts, and new survey answers (``ordito.voc``).
        ``tier``: fast (default), auto or accurate. Returns a ``voc.VocResult``."""
        from .voc import run

        return run(self.engine, full=full, tier=tier)

    def voc_summary(self, **window: Any) -> dict[str, Any]:
        """Customer sentiment, NPS/CSAT/CES with 95% intervals by channel, department, intent, outcome and
        month, response rates and who answers (``since``/``until`` datetimes optional)."""
        from .voc.report import summary

        return summary(self.engine, **window)

    def analyze(
        self, *, full: bool = False, params: Any = None, progress: Callable[[str, float], None] | None = None
    ) -> Any:
        """Thread resolved events into episodes and detect friction, for the customers whose events changed
        since the last run (everybody with ``full``). ``params``: a ``journeys.params.Params``."""
        from .journeys.stage import analyze

        return analyze(self.engine, params, full=full, progress=progress)

    def episodes(self, customer: str | None = None, intent: str | None = None) -> Any:
        """Episodes (newest first) as a pyarrow.Table, of one customer key and/or one intent."""
        from .journeys.query import episodes

        return episodes(self.engine, customer=customer, intent=intent)

    def friction(
        self,
        kind: str | None = None,
        since: Any = None,
        customer: str | None = None,
        limit: int | None = None,
    ) -> Any:
        """Detected frictions (newest first) with their evidence, as a pyarrow.Table."""
        from .journeys.query import friction

        return friction(self.engine, kind=kind, since=since, customer=customer, limit=limit)

    def kpis(self, by: str = "overall") -> Any:
        """KPIs per ``overall``, ``channel``, ``department`` (with the department's own view next to what
        its customers lived) or ``intent``, as a pyarrow.Table."""
        from .journeys.query import kpis_table

        return kpis_table(self.engine, by)

    # --- queries ---------------------------------------------------------------------------------

    def sql(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Run a read query on the workspace (for notebooks and scripts)."""
        return self.engine.execute(query, params)

    def table(self, query: str, params: Any = None) -> Any:
        """Run a query and return a pyarrow.Table (``.to_pandas()`` for pandas)."""
        return self.engine.arrow(query, params)
