"""Why two nodes were linked by the model: the best-scoring pair of their records, attribute by attribute
(the level each comparison reached and its match weight in bits), the prior and the probability."""

from __future__ import annotations

from typing import Any

from ...store.duckdb import DuckDBEngine
from .model import Model


def contributions(eng: DuckDBEngine, a: int, b: int) -> dict[str, Any] | None:
    row = eng.one(
        """SELECT p.levels, p.weight, p.probability, p.model_version, ra.name, rb.name, ra.dob, rb.dob,
                  concat_ws(' ', ra.street, ra.civic, ra.postcode, ra.city),
                  concat_ws(' ', rb.street, rb.civic, rb.postcode, rb.city), p.scored_at
           FROM fuzzy_pairs p JOIN fuzzy_records ra ON ra.rec_id = p.rec_a JOIN fuzzy_records rb ON rb.rec_id = p.rec_b
           WHERE least(p.node_a, p.node_b) = ? AND greatest(p.node_a, p.node_b) = ?
           ORDER BY p.probability DESC LIMIT 1""",
        [min(a, b), max(a, b)],
    )
    if row is None:
        return None
    levels, weight, prob, version, na, nb, da, db, aa, ab, when = row
    params = eng.scalar("SELECT params FROM fuzzy_models WHERE version = ?", [version])
    model = Model.from_json(str(params), int(version)) if params is not None else Model.default()
    parts: list[dict[str, Any]] = []
    total = 0.0
    for comp, lv in zip(model.comparisons, (int(x) for x in str(levels).split(",")), strict=False):
        parts.append(
            {
                "attribute": comp.name,
                "level": comp.levels[lv - 1] if lv > 0 else "missing on one side",
                "weight": round(model.weight(comp.name, lv), 2),
            }
        )
        total += model.weight(comp.name, lv)
    tf = float(weight) - model.prior - total
    if abs(tf) >= 0.01:
        parts.append(
            {"attribute": "name frequency", "level": "how rare the shared name is", "weight": round(tf, 2)}
        )
    return {
        "probability": float(prob),
        "match_weight": round(float(weight), 2),
        "prior": round(model.prior, 2),
        "model_version": int(version),
        "scored_at": when,
        "records": [
            {"name": na, "birth_date": da, "address": aa},
            {"name": nb, "birth_date": db, "address": ab},
        ],
        "contributions": parts,
    }
