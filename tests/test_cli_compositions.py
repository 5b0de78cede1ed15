"""``softmaxkit clr | alr | ilr``: streamed log-ratio transforms, run in-process via ``main``."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from softmaxkit import compositions as comp
from softmaxkit.cli import main

# The command calls the library on blocks of rows; a row's result does not depend on the rows
# it is computed with, so the output equals the library's on the whole array exactly.
EXACT = {"rtol": 0, "atol": 0}


def write_csv(path: Path, names: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(names)
        w.writerows([[repr(v) if isinstance(v, float) else v for v in r] for r in rows])
    return path


def read_csv(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def numbers(rows: list[list[str]], cols: slice) -> np.ndarray:
    return np.array([[float(v) for v in r[cols]] for r in rows])


def parts_file(tmp_path: Path, rng: np.random.Generator, n: int = 50) -> tuple[Path, np.ndarray]:
    """id, a, b, c, d, label: positive parts with random totals."""
    x = rng.dirichlet(np.ones(4), size=n) * rng.uniform(1, 500, size=(n, 1))
    rows = [[f"r{i}", *x[i].tolist(), i % 3] for i in range(n)]
    return write_csv(tmp_path / "parts.csv", ["id", "a", "b", "c", "d", "label"], rows), x


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_clr_to_stdout_keeps_names_and_passthrough(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    path, x = parts_file(tmp_path, rng)
    code, out, err = run(["clr", str(path), "--columns", "a", "b", "c", "d"], capsys)
    assert (code, err) == (0, "")
    names, rows = read_csv(out)
    assert names == ["id", "a", "b", "c", "d", "label"]
    assert [r[0] for r in rows] == [f"r{i}" for i in range(50)]
    assert [r[5] for r in rows] == [str(i % 3) for i in range(50)]
    z = numbers(rows, slice(1, 5))
    np.testing.assert_allclose(z, comp.clr(x), **EXACT)
    skc = pytest.importorskip("skbio.stats.composition")
    np.testing.assert_allclose(z, skc.clr(x), rtol=1e-12, atol=1e-12)


def test_alr_reference_by_name_or_position(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    path, x = parts_file(tmp_path, rng)
    for ref, k in (("c", 2), ("-1", 3), ("0", 0)):
        code, out, _ = run(["alr", str(path), "--columns", "1:5", "--reference", ref], capsys)
        assert code == 0
        names, rows = read_csv(out)
        kept = [n for j, n in enumerate("abcd") if j != k]
        assert names == ["id", *kept, "label"]
        np.testing.assert_allclose(numbers(rows, slice(1, 4)), comp.alr(x, reference=k), **EXACT)


def test_ilr_parquet_and_npy_outputs(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    path, x = parts_file(tmp_path, rng)
    out = tmp_path / "ilr.parquet"
    code, _, err = run(["ilr", str(path), "--columns", "a,b,c,d", "-o", str(out)], capsys)
    assert code == 0 and "50 rows x 4 parts" in err
    table = pq.read_table(out)
    assert table.column_names == ["id", "ilr_1", "ilr_2", "ilr_3", "label"]
    y = np.column_stack([table.column(f"ilr_{c}").to_numpy() for c in (1, 2, 3)])
    np.testing.assert_allclose(y, comp.ilr(x), **EXACT)
    npy = tmp_path / "ilr.npy"
    code, _, _ = run(
        ["ilr", str(path), "--columns", "1:5", "--no-passthrough", "-o", str(npy)], capsys
    )
    assert code == 0
    np.testing.assert_allclose(np.load(npy), comp.ilr(x), **EXACT)


def test_ilr_user_basis_file(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    path, x = parts_file(tmp_path, rng)
    sbp = np.array([[1, 1, -1, -1], [1, -1, 0, 0], [0, 0, 1, -1]]) / np.array(
        [[2.0], [math.sqrt(2)], [math.sqrt(2)]]
    )
    np.save(tmp_path / "basis.npy", sbp)
    np.savetxt(tmp_path / "basis.csv", sbp, delimiter=",")
    for name in ("basis.npy", "basis.csv"):
        code, out, _ = run(
            ["ilr", str(path), "--columns", "1:5", "--basis", str(tmp_path / name)], capsys
        )
        assert code == 0
        got = numbers(read_csv(out)[1], slice(1, 4))
        np.testing.assert_allclose(got, comp.ilr(x, basis=sbp), rtol=1e-15, atol=1e-15)
    np.save(tmp_path / "bad.npy", sbp * 2)
    code, _, err = run(
        ["ilr", str(path), "--columns", "1:5", "--basis", str(tmp_path / "bad.npy")], capsys
    )
    assert code == 2 and "bad.npy: basis is not orthonormal" in err
    np.save(tmp_path / "wide.npy", np.eye(4))
    code, _, err = run(
        ["ilr", str(path), "--columns", "1:5", "--basis", str(tmp_path / "wide.npy")], capsys
    )
    assert code == 2 and "shape (4, 4); 4 selected parts need (3, 4)" in err


def test_replace_zeros_and_streaming(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    x = rng.integers(0, 5, size=(37, 5)).astype(float)
    x[:, 0] += 1
    path = write_csv(tmp_path / "counts.csv", list("abcde"), x.tolist())
    code, out, _ = run(["ilr", str(path), "--replace-zeros", "--chunk-rows", "4"], capsys)
    assert code == 0
    np.testing.assert_allclose(
        numbers(read_csv(out)[1], slice(0, 4)), comp.ilr(comp.replace_zeros(x)), **EXACT
    )
    code, out, _ = run(["clr", str(path), "--delta", "0.001", "--chunk-rows", "5"], capsys)
    assert code == 0
    np.testing.assert_allclose(
        numbers(read_csv(out)[1], slice(0, 5)),
        comp.clr(comp.replace_zeros(x, delta=0.001)),
        **EXACT,
    )
    # without replacement clr writes -inf at the zeros
    code, out, _ = run(["clr", str(path)], capsys)
    z = numbers(read_csv(out)[1], slice(0, 5))
    assert np.array_equal(z == -np.inf, x == 0)


def test_bad_records_are_located(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    x = rng.uniform(0.1, 1.0, size=(30, 3))
    x[22, 1] = -0.5
    path = write_csv(tmp_path / "neg.csv", ["p", "q", "r"], x.tolist())
    code, _, err = run(["clr", str(path), "--chunk-rows", "8"], capsys)
    assert code == 2
    assert "neg.csv: row 23, column q: -0.5 is negative; the parts of a composition" in err
    x[22, 1] = 0.0
    path = write_csv(tmp_path / "zero.csv", ["p", "q", "r"], x.tolist())
    code, _, err = run(["ilr", str(path), "--chunk-rows", "8"], capsys)
    assert code == 2 and "zero.csv: row 23, column q: part is 0: ilr" in err
    assert "--replace-zeros" in err
    code, _, err = run(["alr", str(path), "--reference", "q"], capsys)
    assert code == 2 and "row 23, column q: part is 0 in the reference column" in err
    code, _, _ = run(["alr", str(path), "--reference", "p"], capsys)
    assert code == 0
    x[5] = 0.0
    path = write_csv(tmp_path / "empty.csv", ["p", "q", "r"], x.tolist())
    code, _, err = run(["clr", str(path)], capsys)
    assert code == 2 and "empty.csv: row 6: every part is 0" in err
    code, _, err = run(["clr", str(path), "--replace-zeros"], capsys)
    assert code == 2 and "row 6: every part is 0" in err


def test_missing_cells(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text("a,b,c\n1,2,4\n2,,8\n")
    code, _, err = run(["clr", str(path)], capsys)
    assert code == 2 and "row 2, column b: missing value" in err
    code, out, _ = run(["clr", str(path), "--na", "mask"], capsys)
    assert code == 0
    z = numbers(read_csv(out)[1], slice(0, 3))
    l2 = math.log(2.0)
    np.testing.assert_allclose(z, [[-l2, 0.0, l2], [-l2, -np.inf, l2]], rtol=1e-15)
    code, _, err = run(["ilr", str(path), "--na", "mask"], capsys)
    assert code == 2 and "row 2, column b: part is missing (an absent part" in err


def test_usage_errors_and_atomic_output(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = parts_file(tmp_path, rng)
    cols = ["--columns", "1:5"]
    code, _, err = run(["alr", str(path), *cols, "--reference", "4"], capsys)
    assert code == 2 and "--reference 4 is out of range for 4 selected columns" in err
    code, _, err = run(["alr", str(path), *cols, "--reference", "id"], capsys)
    assert code == 2 and "neither a selected column nor an integer" in err
    code, _, err = run(["clr", str(path), *cols, "--delta", "1.5"], capsys)
    assert code == 2 and "must be a number in (0, 1)" in err
    for option in (["--temperature", "2"], ["--axis", "column"], ["--example"]):
        code, _, err = run(["clr", str(path), *cols, *option], capsys)
        assert code == 2 and "unrecognized arguments" in err
    code, _, err = run(["clr"], capsys)
    assert code == 2 and "INPUT" in err
    code, _, err = run(["ilr", str(path), "--columns", "a"], capsys)
    assert code == 2 and "ilr needs at least 2 parts" in err
    # a passthrough column named like an output column
    clash = write_csv(tmp_path / "clash.csv", ["a", "b", "ilr_1"], [[1.0, 2.0, "x"]])
    code, _, err = run(["ilr", str(clash), "--columns", "a,b"], capsys)
    assert code == 2 and "column ilr_1: an output column of ilr would have this name" in err
    # a failed run leaves an existing output untouched
    target = tmp_path / "out.csv"
    target.write_text("previous\n")
    bad = write_csv(tmp_path / "bad.csv", ["a", "b"], [[1.0, 2.0]] * 10 + [[1.0, 0.0]])
    code, _, _ = run(["ilr", str(bad), "--chunk-rows", "3", "-o", str(target)], capsys)
    assert code == 2 and target.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == []
