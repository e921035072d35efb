"""How model mode runs the recogniser: numpy's BLAS on one thread, and the Doc's text kept, not rebuilt."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from thinc.api import NumpyOps
from threadpoolctl import threadpool_info

from transforms.nlp import ORIGINAL, TEXT, PredictOps, doc_text


def test_every_layer_of_the_recogniser_predicts_with_numpys_blas(annotator):
    layers = list(annotator.nlp.get_pipe("ner").model.walk())
    assert len(layers) > 10
    assert all(isinstance(layer.ops, PredictOps) and not layer.ops.use_blis for layer in layers)


@given(hnp.arrays(np.float32, hnp.array_shapes(min_dims=3, max_dims=3, max_side=6),
                  elements=st.sampled_from([-2.5, -1.0, -0.0, 0.0, 0.5, 3.0, 7.25])))
def test_maxout_gives_thincs_maxima_bit_for_bit(pieces):
    best, _ = PredictOps().maxout(pieces)
    expected, _ = NumpyOps().maxout(pieces)
    assert best.dtype == expected.dtype and best.shape == expected.shape
    assert best.tobytes() == expected.tobytes()  # ties of 0.0 and -0.0 keep the earlier piece, as thinc does


def test_maxout_on_the_recognisers_shapes():
    pieces = np.random.default_rng(7).normal(size=(500, 96, 3)).astype(np.float32)
    assert PredictOps().maxout(pieces)[0].tobytes() == NumpyOps().maxout(pieces)[0].tobytes()


def test_a_predicting_model_refuses_to_train():
    with pytest.raises(NotImplementedError, match="cannot be trained"):
        PredictOps().backprop_maxout(np.zeros((2, 3), np.float32), None, 3)


def test_articles_are_analysed_on_one_blas_thread_and_the_limit_is_lifted_after(annotator, monkeypatch):
    def blas_threads():
        return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}

    before = blas_threads()
    seen = []
    link = annotator.linker.link
    monkeypatch.setattr(annotator.linker, "link", lambda doc, text=None: (seen.append(blas_threads()), link(doc, text))[1])
    analyses = list(annotator.analyse(["Iraq and Iran met in Geneva.", "Tony Blair spoke in London."]))
    assert [a.error for a in analyses] == [None, None]
    assert seen == [{1}, {1}]
    assert blas_threads() == before


@pytest.mark.parametrize(
    "text, recased",
    [
        ("Iraq and Iran met in Geneva.\n", False),
        ("IRAQ AND IRAN MEET IN GENEVA\nIraq and Iran met in Geneva.\n", True),
    ],
)
def test_the_tokenizer_keeps_the_text_it_made_the_doc_from(annotator, text, recased):
    doc = annotator.nlp.make_doc(text)
    assert doc.user_data[TEXT] == doc.text == doc_text(doc)
    assert (ORIGINAL in doc.user_data) == recased
    assert doc.user_data.get(ORIGINAL, text) == text


def test_the_loaded_pipeline_is_left_out_of_later_collections(settings):
    import gc

    from flows import ingest

    ingest._annotator.cache_clear()  # loaded afresh: a run earlier in this process (runner.run) unfreezes at its end
    gc.unfreeze()
    try:
        loaded = ingest.annotator(settings)
        assert gc.get_freeze_count() > 100_000  # the gazetteer and the pipeline: each collection would walk them (0.19 s)
        assert not any(o is loaded for o in gc.get_objects())
    finally:
        gc.unfreeze()
