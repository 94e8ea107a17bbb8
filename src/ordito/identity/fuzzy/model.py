"""The Fellegi-Sunter model: per comparison level, m (probability among matches) and u (among
non-matches); a pair's match weight is the prior's log-odds plus the sum of log2(m/u) of its levels, and
its match probability 1 / (1 + 2^-weight).

Training, unsupervised (no labels, ground truth never used):

- **u** from pairs of random records (almost all non-matches): how often each level happens by chance;
- **m** and the prior **lambda** by expectation-maximisation over the candidate pairs, u held fixed;
- **term frequencies** for the name: agreeing on a rare name weighs more than on "Giuseppe Russo"
  (level 1 weight uses the frequency of the value itself instead of the average u).

EM runs on the distinct level patterns with their counts (a few thousand), so it costs milliseconds
whatever the number of pairs.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...store.duckdb import DuckDBEngine
from .compare import SCHEMES, Comparison

#: Built-in parameters, used until a workspace has enough person records to train its own (m: how often
#: the level happens between two records of one person; u: between two different people).
DEFAULT_M: dict[str, list[float]] = {
    "name": [0.70, 0.12, 0.06, 0.06, 0.03, 0.02, 0.01],
    "birth_date": [0.92, 0.05, 0.01, 0.02],
    "address": [0.80, 0.06, 0.02, 0.04, 0.04, 0.04],
    "street": [0.80, 0.08, 0.04, 0.08],
    "civic": [0.88, 0.04, 0.08],
    "postcode": [0.90, 0.04, 0.06],
    "city": [0.92, 0.04, 0.04],
    "email": [0.45, 0.35, 0.20],
    "phone": [0.60, 0.25, 0.15],
}
DEFAULT_U: dict[str, list[float]] = {
    "name": [0.0005, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.9335],
    "birth_date": [0.0001, 0.0015, 0.01, 0.9884],
    "address": [0.0001, 0.0002, 0.001, 0.01, 0.05, 0.9387],
    "street": [0.005, 0.005, 0.03, 0.96],
    "civic": [0.04, 0.01, 0.95],
    "postcode": [0.01, 0.05, 0.94],
    "city": [0.05, 0.01, 0.94],
    "email": [0.0001, 0.0002, 0.9997],
    "phone": [0.0001, 0.0005, 0.9994],
}
#: Upper bounds of m for the levels that say "different": EM cannot tell a household (same address,
#: shared surname) or a namesake from one person with a typo, so these stay strong evidence against.
M_CAPS: dict[str, dict[int, float]] = {"name": {6: 0.02, 7: 0.01}, "birth_date": {4: 0.05}}
DEFAULT_LAMBDA = 0.05
PRIOR_MATCHES = 20.0
_EPS = 1e-9


@dataclass
class Model:
    m: dict[str, list[float]]
    u: dict[str, list[float]]
    lam: float
    version: int = 0
    trained_on: dict[str, Any] = field(default_factory=dict)
    #: u from random pairs: the floor of u (blocked non-matches agree at least as often as random ones)
    #: and the base of the term-frequency adjustment
    u_random: dict[str, list[float]] = field(default_factory=dict)
    scheme: str = "household"
    #: adjust the name weight by the frequency of the name (needs enough records to mean anything)
    use_tf: bool = True

    @property
    def comparisons(self) -> tuple[Comparison, ...]:
        return SCHEMES[self.scheme]

    @classmethod
    def default(cls, scheme: str = "household") -> Model:
        return cls(
            {k: list(v) for k, v in DEFAULT_M.items()},
            {k: list(v) for k, v in DEFAULT_U.items()},
            DEFAULT_LAMBDA,
            0,
            {"note": "built-in parameters"},
            {k: list(v) for k, v in DEFAULT_U.items()},
            scheme,
            False,
        )

    def weight(self, comp: str, level: int) -> float:
        """Match weight (bits) of a level; 0 for level 0 (missing)."""
        if level <= 0:
            return 0.0
        return math.log2(max(self.m[comp][level - 1], _EPS) / max(self.u[comp][level - 1], _EPS))

    @property
    def prior(self) -> float:
        lam = min(max(self.lam, _EPS), 1 - _EPS)
        return math.log2(lam / (1 - lam))

    def to_json(self) -> str:
        return json.dumps(
            {
                "scheme": self.scheme,
                "use_tf": self.use_tf,
                "m": self.m,
                "u": self.u,
                "u_random": self.u_random,
                "lambda": self.lam,
                "trained_on": self.trained_on,
            }
        )

    @classmethod
    def from_json(cls, text: str, version: int) -> Model:
        d = json.loads(text)
        return cls(
            d["m"],
            d["u"],
            float(d["lambda"]),
            version,
            d.get("trained_on", {}),
            d.get("u_random") or d["u"],
            d.get("scheme", "household"),
            bool(d.get("use_tf", True)),
        )

    # --- SQL -----------------------------------------------------------------------------------

    def weight_sql(self, comp: Comparison, col: str) -> str:
        whens = " ".join(f"WHEN {i} THEN {self.weight(comp.name, i)!r}" for i in range(1, comp.n_levels))
        return f"(CASE {col} {whens} ELSE 0.0 END)"

    def total_sql(self, tf_col: str | None = "tf_name") -> str:
        """Match weight of a levels row: prior + level weights (+ the name's term-frequency adjustment)."""
        parts = [repr(self.prior)] + [self.weight_sql(c, f"lv_{c.name}") for c in self.comparisons]
        if tf_col and self.use_tf:
            u1 = max((self.u_random or self.u)["name"][0], _EPS)
            parts.append(
                f"(CASE WHEN lv_name = 1 AND {tf_col} > 0 THEN log2({u1!r} / greatest({tf_col}, {_EPS})) ELSE 0.0 END)"
            )
        return " + ".join(parts)


def probability(weight: float) -> float:
    return float(1.0 / (1.0 + math.pow(2.0, -weight)))


def level_counts(
    eng: DuckDBEngine, levels_table: str, comps: tuple[Comparison, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct level patterns of a levels table and how many pairs have each."""
    cols = ", ".join(f"lv_{c.name}" for c in comps)
    t = eng.arrow(f"SELECT {cols}, count(*) AS n FROM {levels_table} GROUP BY ALL")
    if t.num_rows == 0:
        return np.zeros((0, len(comps)), dtype=np.int64), np.zeros(0)
    x = np.column_stack([t.column(f"lv_{c.name}").to_numpy() for c in comps]).astype(np.int64)
    return x, np.asarray(t.column("n").to_numpy(), dtype=np.float64)


def estimate_u(x: np.ndarray, n: np.ndarray, comps: tuple[Comparison, ...]) -> dict[str, list[float]]:
    """u per level from the level patterns of random pairs (non-matches, but for a negligible few)."""
    out: dict[str, list[float]] = {}
    for j, c in enumerate(comps):
        present = x[:, j] > 0
        total = n[present].sum()
        floor = 1.0 / (2.0 * max(total, 1.0))
        out[c.name] = [
            float(max(float(n[x[:, j] == lv].sum()) / total, floor)) if total else DEFAULT_U[c.name][lv - 1]
            for lv in range(1, c.n_levels)
        ]
    return out


def expectation_maximisation(
    x: np.ndarray,
    n: np.ndarray,
    u: dict[str, list[float]],
    comps: tuple[Comparison, ...],
    m0: dict[str, list[float]] | None = None,
    lam0: float = 0.1,
    iterations: int = 200,
    tol: float = 1e-7,
    fix_u: bool = False,
    fix_m: bool = False,
) -> tuple[dict[str, list[float]], dict[str, list[float]], float, int]:
    """m, u and lambda by EM over level patterns ``x`` (pairs x comparisons) with counts ``n``.

    ``u`` is the starting point (from random pairs); it is re-estimated on the candidate pairs unless
    ``fix_u``: blocked non-matches share a key, so they agree more often than random pairs do."""
    m = {k: list(v) for k, v in (m0 or {c.name: DEFAULT_M[c.name] for c in comps}).items()}
    u = {k: list(v) for k, v in u.items()}
    lam = lam0

    def logp(par: dict[str, list[float]]) -> np.ndarray:
        out = np.zeros(len(x))
        for j, c in enumerate(comps):
            tab = np.log(np.array([1.0] + [max(v, _EPS) for v in par[c.name]]))
            out += tab[x[:, j]]
        return out

    it = 0
    for step in range(1, iterations + 1):
        it = step
        logm, logu = logp(m), logp(u)
        a = math.log(lam) + logm
        b = math.log(1 - lam) + logu
        p = 1.0 / (1.0 + np.exp(np.clip(b - a, -700, 700)))
        w = n * p
        new_lam = float(w.sum() / n.sum())
        delta = abs(new_lam - lam)
        for j, c in enumerate(comps):
            present = x[:, j] > 0
            tot = w[present].sum()
            if tot <= 0 or fix_m:
                continue
            # a Dirichlet prior of PRIOR_MATCHES pseudo-matches at the built-in m: a level the data never
            # shows (no initials in an account system) keeps a sensible m instead of a huge negative weight
            prior = DEFAULT_M[c.name]
            new = [
                max(
                    float((w[x[:, j] == lv].sum() + PRIOR_MATCHES * prior[lv - 1]) / (tot + PRIOR_MATCHES)),
                    _EPS,
                )
                for lv in range(1, c.n_levels)
            ]
            delta = max(delta, max(abs(a_ - b_) for a_, b_ in zip(new, m[c.name], strict=True)))
            m[c.name] = new
            if not fix_u:
                wn = n - w
                totn = wn[present].sum()
                if totn > 0:
                    u[c.name] = [
                        max(float(wn[x[:, j] == lv].sum() / totn), _EPS) for lv in range(1, c.n_levels)
                    ]
        lam = min(max(new_lam, _EPS), 1 - _EPS)
        if delta < tol:
            break
    return m, u, lam, it
