"""ConditionalLogit on Dask DataFrames partitioned by group: equal to the in-memory fit, one
Dask computation per pass over the data, refusals naming the partition and row."""

from __future__ import annotations

import numpy as np
import pytest

from softmaxkit.choice import ChoiceDataError, ConditionalLogit, _dask

dd = pytest.importorskip("dask.dataframe")
dask = pytest.importorskip("dask")
pd = pytest.importorskip("pandas")
from test_choice import _unbalanced, travelmode  # noqa: E402

GROUND = {"fly": ["air"], "ground": ["train", "bus", "car"]}


@pytest.fixture(scope="module")
def tm() -> pd.DataFrame:
    return travelmode()


def _by_group(data: pd.DataFrame, n: int) -> object:
    """A Dask DataFrame with whole groups in each of ``n`` partitions."""
    cuts = np.array_split(np.unique(data["id"]), n)
    parts = [data[data["id"].isin(c)].reset_index(drop=True) for c in cuts]
    return dd.concat([dd.from_pandas(p, npartitions=1, sort=False) for p in parts])


class _Count(dask.callbacks.Callback):
    """Counts the Dask computations started while active."""

    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    def _start(self, dsk: object) -> None:
        self.n += 1


@pytest.mark.parametrize("nests", [None, GROUND], ids=["conditional", "nested"])
def test_dask_equals_in_memory(tm: pd.DataFrame, nests: dict | None) -> None:
    data = tm[_unbalanced(tm)].reset_index(drop=True)
    ref = ConditionalLogit(["gc", "ttme"], ["hinc"], base="car", nests=nests).fit(data)
    model = ConditionalLogit(["gc", "ttme"], ["hinc"], base="car", nests=nests)
    ddf = _by_group(data, 5)
    assert ddf.npartitions == 5
    with _Count() as count:
        model.fit(ddf)
    np.testing.assert_allclose(model.params_, ref.params_, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(model.bse_, ref.bse_, rtol=1e-10)
    assert model.llf_ == pytest.approx(ref.llf_, rel=1e-13)
    assert model.llnull_ == pytest.approx(ref.llnull_, rel=1e-13)
    assert model.n_iter_ == ref.n_iter_ and model.nobs_ == ref.nobs_
    # The setup is three computations (labels, reading the partitions, their statistics);
    # after that one computation per pass over the data, each an iteration or a trial.
    passes = count.n - 3
    assert passes >= model.n_iter_ + 1
    assert passes <= 3 * (model.n_iter_ + 2)


def test_one_pass_is_one_computation(tm: pd.DataFrame) -> None:
    from softmaxkit.choice import _data, _likelihood

    cols = _data._Columns("choice", "alt", "id", ("gc", "ttme"), ("hinc",), None)
    source = _dask.DaskSource(_by_group(tm, 7), cols, "test")
    lay = _likelihood._Layout(4, 2, True, 2, 1, None, None)
    theta = np.linspace(-0.1, 0.1, lay.n_beta)
    with _Count() as count:
        sums = source.sums(theta, lay, True)
    assert count.n == 1 and source.passes == 1
    long, _ = _data.read_long(tm, cols, None, "test")
    ref = _likelihood.block_sums(long, theta, lay, True)
    assert sums.llf == pytest.approx(ref.llf, rel=1e-13)
    np.testing.assert_allclose(sums.grad, ref.grad, rtol=1e-12)
    np.testing.assert_allclose(sums.info, ref.info, rtol=1e-12)


def test_group_split_between_partitions(tm: pd.DataFrame) -> None:
    ddf = dd.from_pandas(tm, chunksize=250, sort=False)  # cuts inside groups of 4 rows
    bounds = np.cumsum([len(p) for p in ddf.partitions])
    assert any(b % 4 for b in bounds[:-1])
    with pytest.raises(ChoiceDataError, match=r"group \d+ is split between partitions 0 and 1; "
                       "a Dask DataFrame must hold each group in one partition") as info:
        ConditionalLogit(["gc"], base="car").fit(ddf)
    assert info.value.kind == "partition"


def test_bad_row_named_in_its_partition(tm: pd.DataFrame) -> None:
    data = tm.copy()
    data.loc[data.index[data["id"] == 150][2], "ttme"] = np.nan
    ddf = _by_group(data, 4)  # ids 107..158 in partition 2: id 150 starts at its row 172
    with pytest.raises(ChoiceDataError, match=r"row 174 of partition 2 \(group 150\), column "
                       "'ttme' is nan") as info:
        ConditionalLogit(["gc", "ttme"], base="car").fit(ddf)
    assert (info.value.partition, info.value.row, info.value.group) == (2, 174, 150)
    data = tm.copy()
    data.loc[data["id"] == 30, "choice"] = 0
    with pytest.raises(ChoiceDataError, match="group 30 has no chosen row"):
        ConditionalLogit(["gc"], base="car").fit(_by_group(data, 4))


def test_lazy_predictions(tm: pd.DataFrame) -> None:
    model = ConditionalLogit(["gc", "ttme"], ["hinc"], base="car", nests=GROUND).fit(tm)
    ddf = _by_group(tm, 3)
    lazy = model.predict_proba(ddf)
    assert isinstance(lazy, dd.Series)
    np.testing.assert_array_equal(lazy.compute().to_numpy(), model.predict_proba(tm))
    np.testing.assert_array_equal(model.predict(ddf).compute().to_numpy(), model.predict(tm))
