"""MultinomialLogit on Dask arrays and DataFrames: the sufficient statistics as Dask reductions
over row chunks give the in-memory fit (to the rounding of the sums' order)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from softmaxkit import io as sio
from softmaxkit.mlogit import MultinomialLogit, SeparationError, SeparationWarning, _separation

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")

FEATURES = ["logpopul", "selfLR", "age", "educ", "income"]
# Dask sums the rows chunk by chunk: the estimates differ from the in-memory ones only by the
# rounding of the sums' order, carried through the Newton iterations (measured: params 7e-14,
# bse 3e-13 of their column's scale; the standard errors pass through the inverse information).
RTOL = 1e-12
RTOL_BSE = 2e-12


@pytest.fixture(scope="module")
def anes() -> pd.DataFrame:
    return pd.read_csv(sio.example_path("anes96.csv"))


def _synthetic(n: int = 4000, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Four string categories drawn from a known multinomial logit on three features."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)) * np.array([1.0, 10.0, 0.1])
    coef = np.array([[0.0, 0.5, -0.4, 1.0],
                     [0.0, 1.0, -0.5, 0.3],
                     [0.0, -0.05, 0.08, 0.02],
                     [0.0, 4.0, 2.0, -6.0]])
    eta = np.column_stack([np.ones(n), x]) @ coef
    prob = np.exp(eta - eta.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    u = rng.random(n)[:, None]
    codes = (u > np.cumsum(prob, axis=1)).sum(axis=1)
    return x, np.array(["amber", "blue", "cyan", "dun"])[codes]


def _assert_same_fit(lazy: MultinomialLogit, ref: MultinomialLogit) -> None:
    for name, tol in (("params_", RTOL), ("bse_", RTOL_BSE)):
        got, want = np.asarray(getattr(lazy, name)), np.asarray(getattr(ref, name))
        # relative to each column's size: entries near 0 carry the same absolute rounding
        scale = np.abs(want).max(axis=0, keepdims=True)
        assert np.max(np.abs(got - want) / scale) < tol, name
    assert lazy.llf_ == pytest.approx(ref.llf_, rel=1e-14)
    assert lazy.llnull_ == pytest.approx(ref.llnull_, rel=1e-14)
    np.testing.assert_allclose(np.asarray(lazy.cov_params()), np.asarray(ref.cov_params()),
                               rtol=1e-10, atol=RTOL * np.abs(np.asarray(ref.cov_params())).max())
    assert list(lazy.categories_) == list(ref.categories_)
    assert lazy.categories_.dtype == ref.categories_.dtype
    assert lazy.param_names_ == ref.param_names_
    assert list(lazy.params_.columns) == list(ref.params_.columns)
    assert lazy.params_.columns.name == ref.params_.columns.name
    assert (lazy.nobs_, lazy.df_model_, lazy.n_iter_, lazy.converged_) == \
        (ref.nobs_, ref.df_model_, ref.n_iter_, ref.converged_)


def test_dask_dataframe_equals_in_memory_fit_anes96(anes):
    ddf = dd.from_pandas(anes, npartitions=5)
    ref = MultinomialLogit(base=3).fit(anes[FEATURES], anes["PID"])
    lazy = MultinomialLogit(base=3).fit(ddf[FEATURES], ddf["PID"])
    _assert_same_fit(lazy, ref)
    assert list(lazy.feature_names_in_) == FEATURES
    # marginal effects are reductions too (average over rows; at the column means)
    for at in ("overall", "mean"):
        got, want = lazy.marginal_effects(at), ref.marginal_effects(at)
        np.testing.assert_allclose(np.asarray(got.effects), np.asarray(want.effects),
                                   rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(np.asarray(got.bse), np.asarray(want.bse), rtol=1e-10)
    # predictions of Dask input are lazy
    proba = lazy.predict_proba(ddf[FEATURES])
    assert isinstance(proba, da.Array)
    np.testing.assert_allclose(proba.compute(), ref.predict_proba(anes[FEATURES]),
                               rtol=1e-11, atol=1e-15)
    labels = lazy.predict(ddf[FEATURES])
    assert isinstance(labels, da.Array)
    np.testing.assert_array_equal(labels.compute(), ref.predict(anes[FEATURES]))
    # rebasing needs no rows
    _assert_same_fit(lazy.rebase(0), ref.rebase(0))


def test_dask_arrays_equal_in_memory_fit_anes96(anes):
    x, y = anes[FEATURES].to_numpy(), anes["PID"].to_numpy()
    ref = MultinomialLogit().fit(x, y)
    # chunks along the features too (rechunked to whole rows); y chunked differently from X
    lazy = MultinomialLogit().fit(da.from_array(x, chunks=(200, 2)), da.from_array(y, chunks=350))
    _assert_same_fit(lazy, ref)
    assert lazy.param_names_ == ["const", "x1", "x2", "x3", "x4", "x5"]
    proba = lazy.predict_proba(da.from_array(x, chunks=(300, 5)))
    np.testing.assert_allclose(proba.compute(), ref.predict_proba(x), rtol=1e-11, atol=1e-15)


def test_each_newton_iteration_is_one_dask_computation(anes):
    from dask.callbacks import Callback

    graphs: list[int] = []

    class Count(Callback):
        def _start(self, dsk):
            graphs.append(len(dsk))

    ddf = dd.from_pandas(anes, npartitions=5)
    with Count():
        m = MultinomialLogit().fit(ddf[FEATURES], ddf["PID"])
    # the first pass (checks, categories, XᵀY, XᵀX), the start value, one per iteration
    assert m.n_iter_ == 6
    assert len(graphs) == m.n_iter_ + 2
    graphs.clear()
    with Count():
        m.marginal_effects("overall")
        m.marginal_effects("mean")  # from the first pass's column means: no computation
    assert len(graphs) == 1


@pytest.mark.parametrize("penalty", [None, "l2"])
def test_synthetic_string_labels_uneven_chunks(penalty):
    x, y = _synthetic()
    kw = {"base": "cyan"} if penalty is None else {"base": "cyan", "penalty": "l2", "alpha": 3.0}
    ref = MultinomialLogit(**kw).fit(x, y)
    assert ref.n_iter_ >= 4
    xa = da.from_array(x, chunks=((1000, 1500, 700, 800), (2, 1)))
    # Dask array of strings, chunked unlike X: rechunked to X's rows
    _assert_same_fit(MultinomialLogit(**kw).fit(xa, da.from_array(y, chunks=600)), ref)
    # Dask DataFrame with in-memory labels: cut at the partitions' (computed) boundaries
    frame = dd.from_pandas(pd.DataFrame(x, columns=["u", "v", "w"]), npartitions=6)
    lazy = MultinomialLogit(**kw).fit(frame, y)
    assert lazy.param_names_ == ["const", "u", "v", "w"]
    np.testing.assert_allclose(np.asarray(lazy.params_), np.asarray(ref.params_), rtol=1e-11)
    assert lazy.llf_ == pytest.approx(ref.llf_, rel=1e-14)


def test_bad_value_in_a_late_chunk_names_the_global_row():
    x, y = _synthetic()
    bad = x.copy()
    bad[3721, 1] = np.nan
    with pytest.raises(ValueError, match=r"X\[3721, 1\] \(row 3721, column 1\) is nan"):
        MultinomialLogit().fit(da.from_array(bad, chunks=500), y)
    # a frame's partitions have no known offsets: the first pass returns them with its sums
    frame = pd.DataFrame(x, columns=["u", "v", "w"])
    frame.loc[3999, "w"] = np.inf
    frame["label"] = pd.Series(y, dtype=object)
    ddf = dd.from_pandas(frame, npartitions=7)
    with pytest.raises(ValueError, match=r"X\[3999, 2\] \(row 3999, column 'w'\) is inf"):
        MultinomialLogit().fit(ddf[["u", "v", "w"]], ddf["label"])
    frame.loc[3999, "w"] = 0.0
    frame.loc[3500, "label"] = None
    ddf = dd.from_pandas(frame, npartitions=7)
    with pytest.raises(ValueError, match=r"y\[3500\] is missing"):
        MultinomialLogit().fit(ddf[["u", "v", "w"]], ddf["label"])
    codes = np.searchsorted(np.unique(y), y).astype(float)
    codes[2950] = np.nan
    with pytest.raises(ValueError, match=r"y\[2950\] is NaN"):
        MultinomialLogit().fit(da.from_array(x, chunks=700), da.from_array(codes, chunks=900))
    # predict_proba of a Dask array: rows numbered from each chunk's offset
    model = MultinomialLogit().fit(x, y)
    with pytest.raises(ValueError, match=r"X\[3721, 1\] \(row 3721, column 1\) is nan"):
        model.predict_proba(da.from_array(bad, chunks=500)).compute()


def test_chunking_and_shape_errors():
    x, y = _synthetic(n=600)
    xa = da.from_array(x, chunks=200)
    with pytest.raises(ValueError, match="y has 599 labels but X has 600 rows"):
        MultinomialLogit().fit(xa, da.from_array(y[:-1], chunks=200))
    frame = dd.from_pandas(pd.DataFrame(x), npartitions=3)
    with pytest.raises(ValueError, match="X has 3 row chunks but y has 2 partitions"):
        MultinomialLogit().fit(frame, dd.from_pandas(pd.Series(y), npartitions=2))
    with pytest.raises(ValueError, match="row chunk 0 has 200 rows of X but 199 labels of y"):
        MultinomialLogit().fit(frame, dd.from_pandas(pd.Series(y[:-3]), npartitions=3))
    with pytest.raises(ValueError, match=r"X has shape \(600,\); expected 2-D"):
        MultinomialLogit().fit(da.from_array(x[:, 0], chunks=200), y)
    with pytest.raises(ValueError, match="y is a Dask DataFrame"):
        MultinomialLogit().fit(xa, dd.from_pandas(pd.DataFrame({"y": y}), npartitions=3))
    with pytest.raises(TypeError, match="labels of y cannot be sorted"):
        mixed = np.array([1] * 300 + ["a"] * 300, dtype=object)
        MultinomialLogit().fit(xa, da.from_array(mixed, chunks=300))
    with pytest.raises(ValueError, match="'x1', 'x2', 'x4' are linearly dependent"):
        MultinomialLogit().fit(da.from_array(np.column_stack([x, x[:, 0] + x[:, 1]]),
                                             chunks=200), y)


def test_separation_on_dask_data():
    x = np.array([[0.0], [1.0], [2.0], [2.0], [3.0], [4.0], [2.0], [2.0]])
    y = np.array([0, 0, 0, 1, 1, 1, 1, 0])  # quasi-complete separation
    with pytest.raises(SeparationError) as ref:
        MultinomialLogit().fit(x, y)
    # small data: the rows are gathered and tested as in memory
    with pytest.raises(SeparationError) as lazy:
        MultinomialLogit().fit(da.from_array(x, chunks=3), y)
    assert str(lazy.value) == str(ref.value)
    assert (lazy.value.kind, lazy.value.categories) == ("quasi-complete", [0, 1])


def test_separation_too_large_to_test_is_said(monkeypatch):
    """Past the size limit the LP does not run on Dask data, and the fit says so."""
    monkeypatch.setattr(_separation, "_AUTO_LP_CONSTRAINTS", 4)
    x = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    y = np.array([0, 0, 0, 1, 1, 1])  # complete separation: ℓ → 0, Newton "converges"
    xa = da.from_array(x, chunks=2)
    with pytest.warns(SeparationWarning, match=r"needed \d+ iterations .* could not be ruled out"):
        m = MultinomialLogit().fit(xa, y)
    assert m.n_iter_ > 10
    with pytest.raises(ValueError, match=r"check_separation=True cannot run .* n·\(K−1\) = 6"):
        MultinomialLogit(check_separation=True).fit(xa, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # the user opted out: no test, no warning (as in memory)
        MultinomialLogit(check_separation=False).fit(xa, y)
        # overlapping data: nothing to say
        xs, ys = _synthetic(n=300)
        MultinomialLogit().fit(da.from_array(xs, chunks=100), ys)


def test_fit_on_a_distributed_local_cluster(anes):
    distributed = pytest.importorskip("distributed")
    base = "Independent-Independent"
    ref = MultinomialLogit(base=base).fit(anes[FEATURES], anes["party"])
    with distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=":0") as cl, \
            distributed.Client(cl):
        ddf = dd.from_pandas(anes, npartitions=4)
        lazy = MultinomialLogit(base=base).fit(ddf[FEATURES], ddf["party"])
        effects = lazy.marginal_effects()
        proba = lazy.predict_proba(ddf[FEATURES]).compute()
    _assert_same_fit(lazy, ref)
    assert lazy.params_.columns.name == "party"
    np.testing.assert_allclose(np.asarray(effects.effects),
                               np.asarray(ref.marginal_effects().effects), rtol=1e-10,
                               atol=1e-14)
    np.testing.assert_allclose(proba, ref.predict_proba(anes[FEATURES]), rtol=1e-11, atol=1e-15)


def test_mlogit_command_on_dask_prints_the_same_fit(anes, tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    from softmaxkit.cli import main

    root = tmp_path / "anes"
    root.mkdir()
    for i, start in enumerate(range(0, len(anes), 250)):
        anes.iloc[start:start + 250].to_csv(root / f"part-{i}.csv", index=False)
    args = ["--target", "PID", "--features", *FEATURES, "--base", "3", "-q",
            "--marginal-effects", "overall"]
    assert main(["mlogit", str(sio.example_path("anes96.csv")), *args]) == 0
    local = capsys.readouterr().out
    with distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=":0") as cl:
        code = main(["mlogit", str(root / "*.csv"), *args, "--engine", "dask",
                     "--scheduler", cl.scheduler_address])
    assert code == 0
    assert capsys.readouterr().out == local
    assert "Base category:                       3" in local
