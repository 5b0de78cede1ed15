"""``--engine dask``: the command line on a two-worker local cluster.

Results must equal the single-process stream exactly (the maps are batch-invariant), the
output must be a Parquet dataset written atomically, and a worker lost in the middle of a job
must neither corrupt nor half-write the output.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

from softmaxkit.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        host="127.0.0.1",
    ) as c:
        yield c


def dataset(root: Path, rng: np.random.Generator, *, parts: int, rows: int, k: int = 6) -> Path:
    """A directory of Parquet parts: id, x_0..x_{k-1} (a wide spread, some -inf), tag."""
    root.mkdir()
    for i in range(parts):
        x = rng.normal(size=(rows, k)) * np.geomspace(0.1, 300.0, k)
        x[rng.random((rows, k)) < 0.02] = -np.inf
        frame = pd.DataFrame(x, columns=[f"x_{j}" for j in range(k)])
        frame.insert(0, "id", [f"p{i}r{r}" for r in range(rows)])
        frame["tag"] = rng.integers(0, 5, rows)
        frame.to_parquet(root / f"part-{i:03d}.parquet", index=False)
    return root


def probabilities(root: Path, rng: np.random.Generator, *, parts: int, rows: int) -> Path:
    root.mkdir()
    for i in range(parts):
        p = rng.dirichlet(np.full(4, 0.7), size=rows)
        p[0, 2] = 0.0  # a zero maps to -inf
        p[0] /= p[0].sum()
        pd.DataFrame(p, columns=["a", "b", "c", "d"]).to_csv(root / f"p{i}.csv", index=False)
    return root


def local(args: list[str], out: Path) -> pd.DataFrame:
    assert main([*args, "-o", str(out), "-q"]) == 0
    return pd.read_parquet(out)


def on_cluster(args: list[str], out: Path, cluster: Any) -> pd.DataFrame:
    code = main(
        [*args, "--engine", "dask", "--scheduler", cluster.scheduler_address, "-o", str(out), "-q"]
    )
    assert code == 0
    assert out.is_dir()
    assert not [p for p in out.parent.iterdir() if ".softmaxkit-" in p.name]
    return pd.read_parquet(out)


def concatenated(root: Path, out: Path) -> Path:
    files = sorted(root.iterdir())
    if files[0].suffix == ".csv":
        pd.concat([pd.read_csv(f) for f in files]).to_csv(out, index=False)
    else:
        pd.concat([pd.read_parquet(f) for f in files]).to_parquet(out, index=False)
    return out


@pytest.mark.parametrize(
    "command",
    [
        ["softmax"],
        ["log-softmax", "--temperature", "2.5"],
        ["logsumexp"],
        ["sparsemax"],
        ["entmax15", "--temperature", "0.5"],
        ["entmax", "--alpha", "1.3"],
    ],
)
def test_maps_equal_single_process(
    command: list[str], tmp_path: Path, rng: np.random.Generator, cluster: Any
) -> None:
    data = dataset(tmp_path / "in", rng, parts=3, rows=400)
    whole = concatenated(data, tmp_path / "whole.parquet")
    # INPUT first: --columns takes every word that follows it.
    expected = local([*command, str(whole), "--columns", "x_*"], tmp_path / "local.parquet")
    got = on_cluster([*command, str(data), "--columns", "x_*"], tmp_path / "out", cluster)
    assert list(got.columns) == list(expected.columns)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"part-{i:06d}.parquet" for i in range(3)
    ]  # one part per partition
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_exact=True)


def test_inverse_on_csv_glob(tmp_path: Path, rng: np.random.Generator, cluster: Any) -> None:
    data = probabilities(tmp_path / "in", rng, parts=2, rows=300)
    whole = concatenated(data, tmp_path / "whole.csv")
    args = ["inverse", "--gauge", "reference", "--reference", "1"]
    expected = local([*args, str(whole)], tmp_path / "local.parquet")
    got = on_cluster([*args, str(data / "*.csv")], tmp_path / "out", cluster)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_exact=True)
    # inverse names its outputs logit_* (cli/maps.output_name)
    assert np.isneginf(got["logit_c"].iloc[0]) and (got["logit_b"] == 0).all()


@pytest.mark.parametrize("command", [["clr"], ["alr", "--reference", "b"], ["ilr"]])
def test_compositions(
    command: list[str], tmp_path: Path, rng: np.random.Generator, cluster: Any
) -> None:
    data = probabilities(tmp_path / "in", rng, parts=2, rows=200)
    whole = concatenated(data, tmp_path / "whole.csv")
    args = [*command, "--replace-zeros"]
    expected = local([args[0], str(whole), *args[1:]], tmp_path / "local.parquet")
    got = on_cluster([args[0], str(data), *args[1:]], tmp_path / "out", cluster)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_exact=True)


def test_composition_error_located(
    tmp_path: Path, rng: np.random.Generator, cluster: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    data = probabilities(tmp_path / "in", rng, parts=2, rows=10)
    code = main(
        [
            "ilr",
            str(data),
            "--engine",
            "dask",
            "--scheduler",
            cluster.scheduler_address,
            "-o",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    # Every partition's first record has a zero part; whichever task fails first is reported.
    assert re.search(r"partition [01], row 1, column c: ", err) and "--replace-zeros" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_replaces_a_previous_dataset(
    tmp_path: Path, rng: np.random.Generator, cluster: Any
) -> None:
    data = dataset(tmp_path / "in", rng, parts=2, rows=50)
    out = tmp_path / "out"
    first = on_cluster(["softmax", str(data), "--columns", "x_*"], out, cluster)
    second = on_cluster(["softmax", str(data), "-T", "3", "--columns", "x_*"], out, cluster)
    assert len(second) == len(first) == 100
    assert not np.array_equal(first["p_x_0"], second["p_x_0"])  # probabilities: p_*
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]


def test_bad_record_fails_cleanly(
    tmp_path: Path, rng: np.random.Generator, cluster: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    data = probabilities(tmp_path / "in", rng, parts=3, rows=20)
    frame = pd.read_csv(data / "p1.csv")
    frame.loc[4, "b"] = 0.9  # record 5 of the second partition no longer sums to 1
    frame.to_csv(data / "p1.csv", index=False)
    out = tmp_path / "out"
    code = main(
        [
            "inverse",
            str(data),
            "--engine",
            "dask",
            "--scheduler",
            cluster.scheduler_address,
            "-o",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "partition 1, " in err and "row 5" in err and "--normalize" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # nothing half-written


def test_missing_value_policy(
    tmp_path: Path, rng: np.random.Generator, cluster: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "in"
    root.mkdir()
    (root / "a.csv").write_text("u,v,w\n1,2,3\n4,,6\n")
    code = main(
        [
            "softmax",
            str(root),
            "--engine",
            "dask",
            "--scheduler",
            cluster.scheduler_address,
            "-o",
            str(tmp_path / "out"),
        ]
    )
    assert code == 2
    assert "partition 0, row 2, column v" in capsys.readouterr().err
    got = on_cluster(["softmax", "--na", "mask", str(root)], tmp_path / "out", cluster)
    np.testing.assert_array_equal(got["p_v"], [np.exp(2) / np.exp([1, 2, 3]).sum(), 0.0])


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["softmax", "--example", "--engine", "dask"]) == 2
    assert "-o DIRECTORY" in capsys.readouterr().err
    assert (
        main(
            [
                "softmax",
                "--example",
                "--engine",
                "dask",
                "--axis",
                "column",
                "-o",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "--axis row" in capsys.readouterr().err
    assert main(["softmax", "--example", "--workers", "2"]) == 2
    assert "--engine dask" in capsys.readouterr().err
    assert (
        main(
            [
                "softmax",
                str(tmp_path / "nothing-*.csv"),
                "--engine",
                "dask",
                "-o",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "no file matches" in capsys.readouterr().err


def test_worker_killed_mid_job(tmp_path: Path, rng: np.random.Generator) -> None:
    """Kill a worker process while partitions are being written: Dask reruns its tasks on
    the survivor (and the restarted worker); the output is complete and exact."""
    data = dataset(tmp_path / "in", rng, parts=40, rows=40000, k=16)
    whole = concatenated(data, tmp_path / "whole.parquet")
    args = ["log-softmax", "--temperature", "0.7"]
    expected = local([*args, str(whole), "--columns", "x_*"], tmp_path / "local.parquet")
    out = tmp_path / "out"
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            host="127.0.0.1",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        pids = client.run(os.getpid)
        codes: list[int] = []
        job = threading.Thread(
            target=lambda: codes.append(
                main(
                    [
                        *args,
                        str(data),
                        "--engine",
                        "dask",
                        "--scheduler",
                        cluster.scheduler_address,
                        "-o",
                        str(out),
                        "-q",
                        "--columns",
                        "x_*",
                    ]
                )
            )
        )
        job.start()
        deadline = time.monotonic() + 60
        tmp = None
        while time.monotonic() < deadline:
            tmp = next((p for p in tmp_path.iterdir() if ".softmaxkit-" in p.name), None)
            if tmp is not None and len(list(tmp.glob("*.parquet"))) >= 2:
                break
            time.sleep(0.02)
        assert tmp is not None, "the job never started writing"
        written = len(list(tmp.glob("*.parquet")))
        assert written < 40 and not out.exists(), "the job ended before the kill"
        victim = next(iter(pids.values()))
        os.kill(victim, signal.SIGKILL)
        job.join(timeout=120)
    assert codes == [0]
    got = pd.read_parquet(out)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_exact=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "in",
        "local.parquet",
        "out",
        "whole.parquet",
    ]


# --------------------------------------------------------------------------------------------
# issue 14 leftovers: worker logs, 1e999, stale temporary directories
# --------------------------------------------------------------------------------------------


def test_bad_record_on_a_local_cluster_is_one_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # The worker processes write to this process's stderr: before, distributed logged
    # "Compute Failed ... Traceback" there ahead of our line.
    data = tmp_path / "na.csv"
    data.write_text("a,b\n1,2\n,3\n")
    out = tmp_path / "out"
    code = main(["softmax", str(data), "--engine", "dask", "--workers", "1", "-o", str(out)])
    _, err = capfd.readouterr()
    assert code == 2
    assert err == (
        f"softmaxkit: error: {data}: partition 0, row 2, column a: missing or NaN value "
        "(use --na nan or --na mask)\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["na.csv"]


def test_overflow_is_a_bad_record(tmp_path: Path, cluster: Any, capsys: Any) -> None:
    data = tmp_path / "big.csv"
    data.write_text("a,b\n1,2\ninf,1\n1e999,3\n-Infinity,0\n")
    out = tmp_path / "out"
    args = ["softmax", str(data), "--engine", "dask", "--scheduler", cluster.scheduler_address]
    code = main([*args, "-o", str(out)])
    assert code == 2
    assert capsys.readouterr().err == (
        f"softmaxkit: error: {data}: partition 0, row 3, column a: '1e999' is too large for a "
        "float64, whose largest value is 1.8e308 (use --allow-overflow to read it as an "
        "infinity)\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.csv"]
    # opted in: read as +inf, the same as the single-process command
    assert main([*args, "-o", str(out), "-q", "--allow-overflow"]) == 0
    got = pd.read_parquet(out)
    assert got["p_a"].tolist() == [1.0 / (1.0 + np.exp(1.0)), 1.0, 1.0, 0.0]
    local_out = str(tmp_path / "l.csv")
    assert main(["softmax", str(data), "--allow-overflow", "-q", "-o", local_out]) == 0
    assert pd.read_csv(tmp_path / "l.csv")["p_a"].tolist() == got["p_a"].tolist()


def test_overflow_located_in_later_partitions(tmp_path: Path) -> None:
    # Small partitions (read in this process): the reread text must be the same partition.
    from softmaxkit.cli import _dask

    lines = ["a,b"] + [f"{i},{-i}" for i in range(200)]
    lines[151] = "1e400,5"  # data row 151
    data = tmp_path / "big.csv"
    data.write_text("\n".join(lines) + "\n")
    frame = _dask.read_frame(str(data), header=True, delimiter=",", blocksize=300)
    assert frame.npartitions > 3
    result = _dask.map_rows(
        frame, path="big.csv", selected=["a", "b"], out_names=["a", "b"],
        layout=[("value", 0), ("value", 1)], fn=lambda v: v, na="error",
    )
    counts = frame.map_partitions(len).compute(scheduler="sync").tolist()
    before = np.cumsum([0, *counts])
    k = int(np.searchsorted(before, 151, side="left")) - 1
    with pytest.raises(_dask.PartitionError) as info:
        result.compute(scheduler="sync")
    assert str(info.value) == (
        f"big.csv: partition {k}, row {151 - before[k]}, column a: '1e400' is too large for a "
        "float64, whose largest value is 1.8e308 (use --allow-overflow to read it as an "
        "infinity)"
    )
    inf = _dask.map_rows(
        frame, path="big.csv", selected=["a", "b"], out_names=["a", "b"],
        layout=[("value", 0), ("value", 1)], fn=lambda v: v, na="error", overflow="inf",
    ).compute(scheduler="sync")
    assert inf["a"].tolist()[150] == np.inf


def test_stale_temporary_directories_are_removed(
    tmp_path: Path, cluster: Any, capsys: Any
) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = int(done.stdout)
    stale = tmp_path / f".out.softmaxkit-{dead}-0123abcd.tmp"
    stale.mkdir()
    (stale / "part-000000.parquet").write_bytes(b"half")
    live = tmp_path / f".out.softmaxkit-{os.getpid()}-4567ef.tmp"  # a run still writing
    live.mkdir()
    data = tmp_path / "x.csv"
    data.write_text("a,b\n1,2\n")
    out = tmp_path / "out"
    args = ["softmax", str(data), "--engine", "dask", "--scheduler", cluster.scheduler_address]
    assert main([*args, "-o", str(out), "-q"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, "out", "x.csv"]
