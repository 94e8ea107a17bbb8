"""Multinomial logistic regression (softmax, L2), trained with SciPy's L-BFGS: no scikit-learn at run time.

Models are trained where they are used when their training data may not be redistributed (docs/VOC.md),
so training must need nothing beyond ordito's own dependencies.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import optimize, sparse


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


class Softmax:
    """A linear classifier ``p = softmax(X W + b)``.

    Args:
        weights: (features, classes).
        bias: (classes,).
    """

    def __init__(self, weights: np.ndarray, bias: np.ndarray) -> None:
        self.weights = weights.astype(np.float32)
        self.bias = bias.astype(np.float32)

    @classmethod
    def fit(
        cls,
        x: Any,
        y: np.ndarray,
        *,
        n_classes: int,
        c: float = 1.0,
        sample_weight: np.ndarray | None = None,
        allowed: np.ndarray | None = None,
        max_iter: int = 500,
    ) -> Softmax:
        """Fit on ``x`` (dense or sparse rows) and integer labels ``y``; ``c`` is the inverse L2 strength
        (as scikit-learn's ``C``: the loss is summed over samples, the penalty is ``|W|^2 / 2c``).

        ``allowed`` (samples x classes, bool) restricts a sample's softmax to the classes its data set
        can tell apart: a sentence from a positive/negative set says nothing about "neutral", so its loss is
        ``-log(p_y / (p_negative + p_positive))`` and it neither teaches nor penalises the neutral class.
        """
        n, d = x.shape
        y_onehot = np.zeros((n, n_classes), dtype=np.float64)
        y_onehot[np.arange(n), y] = 1.0
        sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        xs = sparse.csr_matrix(x, dtype=np.float64) if sparse.issparse(x) else np.asarray(x, np.float64)

        penalty = None if allowed is None else np.where(np.asarray(allowed, dtype=bool), 0.0, -1e9)

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w = theta[: d * n_classes].reshape(d, n_classes)
            b = theta[d * n_classes :]
            z = xs @ w + b
            if penalty is not None:
                z = z + penalty
            zmax = z.max(axis=1, keepdims=True)
            logsum = np.log(np.exp(z - zmax).sum(axis=1, keepdims=True)) + zmax
            ll = float((sw * ((z - logsum) * y_onehot).sum(axis=1)).sum())
            p = np.exp(z - logsum)
            g = (p - y_onehot) * sw[:, None]
            gw = xs.T @ g + w / c
            gb = g.sum(axis=0)
            return -ll + float((w * w).sum()) / (2 * c), np.concatenate([np.asarray(gw).ravel(), gb])

        theta0 = np.zeros(d * n_classes + n_classes)
        res = optimize.minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
        theta = res.x
        return cls(theta[: d * n_classes].reshape(d, n_classes), theta[d * n_classes :])

    def logits(self, x: Any) -> np.ndarray:
        z: np.ndarray = np.asarray(x @ self.weights) + self.bias
        return z

    def predict_proba(self, x: Any) -> np.ndarray:
        return _softmax(self.logits(x).astype(np.float64))
