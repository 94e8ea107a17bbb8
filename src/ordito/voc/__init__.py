"""Voice of the customer: what every customer says and feels, in their language (docs/VOC.md).

Examples:
    >>> from ordito import voc                                   # doctest: +SKIP
    >>> voc.run(ws.engine)                                       # analyse new texts and survey answers
    >>> voc.summary(ws.engine)["surveys"]["nps"]                 # NPS with its 95% interval
    >>> voc.load_model().predict(["Pessimo servizio"], ["it"]).labels
"""

from __future__ import annotations

from .sentiment import LABELS, Prediction, SentimentModel, load_model, model_dir
from .stage import VocResult, run, status

__all__ = [
    "LABELS",
    "Prediction",
    "SentimentModel",
    "VocResult",
    "load_model",
    "model_dir",
    "run",
    "status",
]
