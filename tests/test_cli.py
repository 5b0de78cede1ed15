"""The ``softmaxkit`` command line, run in-process through ``main`` and once as a process."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

import softmaxkit
from softmaxkit import io as sio
from softmaxkit.cli import main

# Row-wise the stream calls the same maps on the same rows: identical results. Column-wise
# it maps each block against the other blocks' logsumexp, in a frame shifted by the column
# maximum; that shift's rounding leaves a relative error of about |log p| * 2**-53.
EXACT = {"rtol": 0, "atol": 0}
COLUMNWISE = {"rtol": 1e-13, "atol": 1e-300}


def write_csv(path: Path, names: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(names)
        w.writerows([[repr(v) if isinstance(v, float) else v for v in r] for r in rows])
    return path


def read_csv(source: Path | str) -> tuple[list[str], list[list[str]]]:
    text = source.read_text() if isinstance(source, Path) else source
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def numbers(rows: list[list[str]], cols: slice | list[int]) -> np.ndarray:
    return np.array([[float(v) for v in np.asarray(r)[cols]] for r in rows], dtype=np.float64)


def logits_file(tmp_path: Path, rng: np.random.Generator, n: int = 100) -> tuple[Path, np.ndarray]:
    """id, logit_0..logit_4, label: 100 records with a wide spread of values."""
    x = rng.normal(size=(n, 5)) * np.array([1.0, 10.0, 100.0, 0.1, 30.0])
    rows = [[f"r{i}", *x[i].tolist(), i % 5] for i in range(n)]
    names = ["id", *(f"logit_{k}" for k in range(5)), "label"]
    return write_csv(tmp_path / "logits.csv", names, rows), x


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def direct_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    z = np.exp(x - x.max(axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


# --------------------------------------------------------------------------- numbers


def test_softmax_rows_to_stdout(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    path, x = logits_file(tmp_path, rng)
    code, out, err = run(["softmax", str(path), "--columns", "logit_*"], capsys)
    assert (code, err) == (0, "")  # no summary when writing to standard output
    names, rows = read_csv(out)
    assert names == ["id", "p_0", "p_1", "p_2", "p_3", "p_4", "label"]
    assert [r[0] for r in rows] == [f"r{i}" for i in range(100)]
    assert [r[6] for r in rows] == [str(i % 5) for i in range(100)]
    p = numbers(rows, slice(1, 6))
    np.testing.assert_allclose(p, softmaxkit.softmax(x), **EXACT)
    np.testing.assert_allclose(p, direct_softmax(x, axis=1), rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)


@pytest.mark.parametrize(
    ("command", "fn"),
    [("log-softmax", softmaxkit.log_softmax), ("logsumexp", softmaxkit.logsumexp)],
)
def test_log_softmax_and_logsumexp_rows(
    tmp_path: Path,
    rng: np.random.Generator,
    capsys: pytest.CaptureFixture[str],
    command: str,
    fn: object,
) -> None:
    path, x = logits_file(tmp_path, rng)
    out = tmp_path / "out.csv"
    code, _, err = run(
        [command, str(path), "--columns", "logit_*", "-T", "2.5", "-o", str(out)], capsys
    )
    assert code == 0 and err.startswith(f"softmaxkit {command}: 100 rows x 5 columns")
    names, rows = read_csv(out)
    want = fn(x, temperature=2.5)  # type: ignore[operator]
    if command == "logsumexp":
        assert names == ["id", "label", "logsumexp"]
        np.testing.assert_allclose(numbers(rows, [2])[:, 0], want, **EXACT)
        direct = 2.5 * np.log(np.exp(x / 2.5).sum(axis=1))
        np.testing.assert_allclose(want, direct, rtol=1e-13)
    else:
        np.testing.assert_allclose(numbers(rows, slice(1, 6)), want, **EXACT)
        z = x / 2.5 - (x / 2.5).max(axis=1, keepdims=True)
        direct = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        # absolute error is what a log-probability's rounding leaves near 0
        np.testing.assert_allclose(want, direct, rtol=1e-12, atol=1e-14)


def test_chunk_boundaries_do_not_change_the_output(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = logits_file(tmp_path, rng)
    outputs = []
    for chunk in ["7", "100", "13"]:
        for axis in ["row", "column"]:
            out = tmp_path / f"o{chunk}{axis}.csv"
            args = ["softmax", str(path), "--columns", "logit_*", "--axis", axis]
            assert main([*args, "--chunk-rows", chunk, "-q", "-o", str(out)]) == 0
            outputs.append((axis, out.read_bytes()))
    row = {b for a, b in outputs if a == "row"}
    assert len(row) == 1  # row-wise: byte-identical whatever the chunking
    _, rows7 = read_csv(tmp_path / "o7column.csv")
    _, rows100 = read_csv(tmp_path / "o100column.csv")
    np.testing.assert_allclose(
        numbers(rows7, slice(1, 6)), numbers(rows100, slice(1, 6)), **COLUMNWISE
    )


def special_columns() -> np.ndarray:
    """Columns that exercise each limit rule of a column-wise softmax, 23 records."""
    inf, nan = np.inf, np.nan
    n = 23
    rng = np.random.default_rng(7)
    cols = [
        rng.normal(size=n) * 40,  # ordinary, wide
        np.where(np.arange(n) % 4 == 0, -inf, rng.normal(size=n)),  # some -inf
        np.full(n, -inf),  # empty column
        np.where(np.isin(np.arange(n), [3, 15]), inf, rng.normal(size=n)),  # two +inf
        np.where(np.arange(n) == 9, nan, rng.normal(size=n)),  # a NaN
        np.where(np.isin(np.arange(n), [2, 8, 20]), 5.0, rng.integers(-3, 4, n)),  # tied max
        np.full(n, 700.0),  # exp overflows without the shift
    ]
    return np.column_stack(cols).astype(np.float64)


@pytest.mark.parametrize("temperature", [0.0, 0.5, 1.0, 3.0, np.inf])
@pytest.mark.parametrize("command", ["softmax", "log-softmax", "logsumexp"])
def test_column_axis_two_pass_equals_whole_array(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], temperature: float, command: str
) -> None:
    x = special_columns()
    path = tmp_path / "x.npy"
    np.save(path, x)
    out = tmp_path / "o.npy"
    code, _, err = run(
        [command, str(path), "--axis", "column", "--chunk-rows", "7", "-T", str(temperature),
         "-o", str(out)],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    got = np.load(out)
    fn = {"softmax": softmaxkit.softmax, "log-softmax": softmaxkit.log_softmax}.get(
        command, softmaxkit.logsumexp
    )
    want = fn(x, axis=0, temperature=temperature)
    if command == "logsumexp":
        want = want[None, :]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, **COLUMNWISE)
    # the limit columns are exact: same non-finite pattern, same shares
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    if command == "softmax":
        sums = got.sum(axis=0)
        np.testing.assert_allclose(sums[[0, 1, 3, 5, 6]], 1.0, rtol=1e-14)
        assert sums[2] == 0.0 and np.isnan(sums[4])
        np.testing.assert_array_equal(got[[3, 15], 3], [0.5, 0.5])


def test_column_axis_against_direct_numpy(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    path, x = logits_file(tmp_path, rng)
    code, out, _ = run(
        ["softmax", str(path), "--columns", "logit_*", "--axis", "column", "--chunk-rows", "9"],
        capsys,
    )
    assert code == 0
    _, rows = read_csv(out)
    np.testing.assert_allclose(numbers(rows, slice(1, 6)), direct_softmax(x, axis=0), rtol=1e-12)
    assert [r[0] for r in rows] == [f"r{i}" for i in range(100)]  # passthrough kept


@pytest.mark.parametrize("axis", ["row", "column"])
def test_temperature_limits(tmp_path: Path, capsys: pytest.CaptureFixture[str], axis: str) -> None:
    x = np.array([[1.0, 3.0, 3.0, -2.0], [0.5, -np.inf, 7.0, 6.5], [2.0, 2.0, 2.0, 2.0]])
    path = tmp_path / "x.csv"
    write_csv(path, ["a", "b", "c", "d"], x.tolist())
    third = 1 / 3
    if axis == "row":  # T = 0: the maxima share the mass; T = inf: uniform over finite entries
        hard = [[0, 0.5, 0.5, 0], [0, 0, 1, 0], [0.25] * 4]
        flat = [[0.25] * 4, [third, 0, third, third], [0.25] * 4]
    else:
        hard = [[0, 1, 0, 0], [0, 0, 1, 1], [1, 0, 0, 0]]
        flat = [[third, 0.5, third, third], [third, 0, third, third], [third, 0.5, third, third]]
    for t, want in [("0", hard), ("inf", flat)]:
        code, out, _ = run(
            ["softmax", str(path), "-T", t, "--axis", axis, "--chunk-rows", "2"], capsys
        )
        assert code == 0
        got = numbers(read_csv(out)[1], slice(0, 4))
        np.testing.assert_array_equal(got, want)
        core = softmaxkit.softmax(x, axis=-1 if axis == "row" else 0, temperature=float(t))
        np.testing.assert_array_equal(got, core)


def test_mask_missing_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1,,1\n0,0,0\n")
    code, out, _ = run(["softmax", str(path), "--na", "mask"], capsys)
    assert code == 0
    got = numbers(read_csv(out)[1], slice(0, 3))
    np.testing.assert_array_equal(got[0], [0.5, 0.0, 0.5])
    np.testing.assert_allclose(got[1], 1 / 3, rtol=1e-15)


# --------------------------------------------------------------------------- formats


def test_formats_round_trip(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    path, x = logits_file(tmp_path, rng)
    want = softmaxkit.softmax(x)
    pq_out, npy_out, gz_out = tmp_path / "p.parquet", tmp_path / "p.npy", tmp_path / "p.csv.gz"
    base = ["softmax", "--columns", "logit_*", "-q", "--chunk-rows", "13"]
    assert main([*base[:1], str(path), *base[1:], "-o", str(pq_out)]) == 0
    table = pq.read_table(pq_out)
    assert table.column_names == ["id", *(f"p_{k}" for k in range(5)), "label"]
    got = np.column_stack([table.column(f"p_{k}").to_numpy() for k in range(5)])
    np.testing.assert_array_equal(got, want)
    assert table.column("id").to_pylist() == [f"r{i}" for i in range(100)]

    # Parquet in, .npy out: the passthrough label is numeric text, so it fits a .npy
    assert main(["softmax", str(pq_out), "--columns", "p_*", "--no-passthrough", "-q",
                 "-o", str(npy_out)]) == 0  # fmt: skip
    np.testing.assert_array_equal(np.load(npy_out), softmaxkit.softmax(want))

    # .npy in (column ranges), gzip CSV out
    assert main(["softmax", str(npy_out), "--columns", "0:3", "-q", "-o", str(gz_out)]) == 0
    names, got = (
        sio.open_reader(gz_out).names,
        np.vstack(list(b.values for b in sio.open_reader(gz_out))),
    )
    assert names == ["p_0", "p_1", "p_2", "3", "4"]
    np.testing.assert_array_equal(got[:, :3], softmaxkit.softmax(np.load(npy_out)[:, :3]))
    np.testing.assert_array_equal(got[:, 3:], np.load(npy_out)[:, 3:])  # passed through


def test_npy_output_rejects_text_passthrough(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = logits_file(tmp_path, rng)
    out = tmp_path / "o.npy"
    code, _, err = run(["softmax", str(path), "--columns", "logit_*", "-o", str(out)], capsys)
    assert code == 2
    assert err == (
        f"softmaxkit: error: {out}: row 1, column id: 'r0' is not a number: a .npy file holds "
        "numbers only (drop the column with --no-passthrough or write CSV/Parquet)\n"
    )
    assert os.listdir(tmp_path) == ["logits.csv"]


def test_stdin_input(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"a,b\n0,0\n1,1\n"), encoding="utf-8")
    monkeypatch.setattr("sys.stdin", stdin)
    code, out, _ = run(["log-softmax", "-"], capsys)
    assert code == 0
    np.testing.assert_allclose(numbers(read_csv(out)[1], slice(0, 2)), np.log(0.5), rtol=1e-15)
    code, _, err = run(["softmax", "-", "--axis", "column"], capsys)
    assert code == 2 and "give a file, not standard input" in err


# --------------------------------------------------------------------------- example


def test_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "probs.csv"
    code, stdout, err = run(["softmax", "--example", "-o", str(out), "--no-progress"], capsys)
    assert (code, stdout) == (0, "")
    assert err == (
        f"softmaxkit softmax: 899 rows x 10 columns (row-wise, T=1) -> {out}; "
        "1 column passed through\n"
    )
    names, rows = read_csv(out)
    assert names == [*(f"p_{k}" for k in range(10)), "label"]
    logits, labels = sio.load_example()
    np.testing.assert_array_equal(numbers(rows, slice(0, 10)), softmaxkit.softmax(logits))
    assert [int(r[10]) for r in rows] == labels.tolist()


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("1,2\nx,4\n", "row 2, column a: 'x' is not a number"),
        ("1,2\n3,\n", "row 2, column b: missing value"),
        ("1,2\n3\n", "row 2, column b: expected 2 fields, found 1"),
        ("1,2\n3,4,5\n", "row 2, column (extra field 3): expected 2 fields, found 3"),
    ],
)
@pytest.mark.parametrize("axis", ["row", "column"])
def test_bad_records_exit_2_and_leave_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, where: str, axis: str
) -> None:
    # 60 good records first, in blocks of 7: the error comes after output was written
    path = tmp_path / "in.csv"
    path.write_text("a,b\n" + "0.5,1.5\n" * 60 + body)
    out = tmp_path / "out.csv"
    code, _, err = run(
        ["softmax", str(path), "--chunk-rows", "7", "--axis", axis, "-o", str(out)], capsys
    )
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1
    row = int(where.split()[1].rstrip(",")) + 60
    assert lines[0].startswith(f"softmaxkit: error: {path}: row {row}, ")
    assert where.split(", ", 1)[1] in lines[0]
    assert os.listdir(tmp_path) == ["in.csv"]  # no output, no temporary file


def test_failed_run_keeps_previous_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "in.csv"
    path.write_text("a,b\n1,2\n3,x\n")
    out = tmp_path / "out.parquet"
    out.write_bytes(b"old")
    assert main(["softmax", str(path), "-o", str(out)]) == 2
    assert out.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["in.csv", "out.parquet"]
    capsys.readouterr()


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["softmax", str(tmp_path / "nope.csv")], capsys)
    assert (code, out, err) == (
        2,
        "",
        f"softmaxkit: error: {tmp_path / 'nope.csv'}: no such file\n",
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["softmax", "x.csv", "-T", "-1"], "must be >= 0"),
        (["softmax", "x.csv", "-T", "nan"], "must be >= 0"),
        (["softmax", "x.csv", "-T", "warm"], "not a number"),
        (["softmax", "x.csv", "--chunk-rows", "0"], "must be >= 1"),
        (["softmax", "x.csv", "--axis", "diagonal"], "invalid choice"),
        (["softmax"], "INPUT (or --example)"),
        (["softmax", "x.csv", "--example"], "not both"),
        (["sparsest", "x.csv"], "invalid choice"),
        ([], "required"),
    ],
)
def test_usage_errors_exit_2(
    args: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(args, capsys)
    assert code == 2 and out == ""
    assert fragment in err and "usage: softmaxkit" in err


def test_unknown_columns_and_extensions_exit_2(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = logits_file(tmp_path, rng)
    code, _, err = run(["softmax", str(path), "--columns", "score_*"], capsys)
    assert code == 2 and err.startswith(f"softmaxkit: error: {path}: column score_*: no column")
    code, _, err = run(["softmax", str(path), "-o", str(tmp_path / "o.xlsx")], capsys)
    assert code == 2 and "unknown file type" in err
    assert sorted(os.listdir(tmp_path)) == ["logits.csv"]


# --------------------------------------------------------------------------- progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("tty", "flag", "shown"), [(False, [], False), (True, [], True),
                                                    (True, ["--no-progress"], False),
                                                    (True, ["-q"], False)])  # fmt: skip
def test_progress_bar_only_on_a_terminal(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tty: bool,
    flag: list[str],
    shown: bool,
) -> None:
    stderr = FakeTerminal() if tty else io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    out = tmp_path / "p.csv"
    assert main(["softmax", "--example", "--chunk-rows", "100", "-o", str(out), *flag]) == 0
    text = stderr.getvalue()
    assert ("\x1b[" in text) is shown  # the bar draws with terminal control sequences
    assert ("softmax" in text.split("softmaxkit softmax:")[0]) is shown
    assert text.endswith(f"-> {out}; 1 column passed through\n") is (flag != ["-q"])


# --------------------------------------------------------------------------- as a process


def test_python_dash_m(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    proc = subprocess.run(
        [sys.executable, "-m", "softmaxkit", "logsumexp", "--example", "-T", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert (proc.returncode, proc.stderr) == (0, "")  # stderr is not a terminal: no bar
    names, rows = read_csv(proc.stdout)
    assert names == ["label", "logsumexp"] and len(rows) == 899
    logits, labels = sio.load_example()
    np.testing.assert_array_equal(numbers(rows, [1])[:, 0], logits.max(axis=1))  # T=0: max
    assert [int(r[0]) for r in rows] == labels.tolist()
    script = (
        "import sys; from softmaxkit.cli import main; code = main(sys.argv[1:]); "
        "print(code, 'rich' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, "softmax", "--example", "-o", str(tmp_path / "p.csv")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.stdout == "0 False\n"  # rich is imported only to draw a bar
    proc = subprocess.run(
        [sys.executable, "-m", "softmaxkit", "softmax", str(tmp_path / "absent.npy")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr == f"softmaxkit: error: {tmp_path / 'absent.npy'}: no such file\n"


def test_without_pyarrow(
    tmp_path: Path,
    rng: np.random.Generator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ["pyarrow", "pyarrow.csv", "pyarrow.parquet", "pyarrow.compute"]:
        monkeypatch.setitem(sys.modules, name, None)  # `import pyarrow` now fails
    path, x = logits_file(tmp_path, rng)
    code, out, _ = run(["softmax", str(path), "--columns", "logit_*", "--chunk-rows", "30"], capsys)
    assert code == 0  # CSV needs only the standard library
    names, rows = read_csv(out)
    assert names == ["id", *(f"p_{k}" for k in range(5)), "label"]
    np.testing.assert_array_equal(numbers(rows, slice(1, 6)), softmaxkit.softmax(x))
    cells = [c for r in rows for c in r[1:6]]
    assert all(c == repr(float(c)) for c in cells)  # the csv module's text: Python's repr
    assert any("e-" in c for c in cells)  # (pyarrow would write 0.0000123, not 1.23e-05)
    code, out, err = run(["softmax", str(path), "-o", str(tmp_path / "p.parquet")], capsys)
    assert (code, out) == (1, "")
    assert err == (
        "softmaxkit: error: writing Parquet files needs pyarrow: pip install softmaxkit[cli]\n"
    )
    assert sorted(os.listdir(tmp_path)) == ["logits.csv"]


# --------------------------------------------------------------------------- inverse


def probabilities_file(tmp_path: Path, rng: np.random.Generator) -> tuple[Path, np.ndarray]:
    """id, p_0..p_3, label: 30 distributions, some with exact zeros (never in column p_0)."""
    p = rng.dirichlet(np.ones(4), size=30)
    p[::4, 2] = 0.0
    p /= p.sum(axis=1, keepdims=True)
    rows = [[f"r{i}", *p[i].tolist(), i % 3] for i in range(30)]
    names = ["id", *(f"p_{k}" for k in range(4)), "label"]
    return write_csv(tmp_path / "probs.csv", names, rows), p


@pytest.mark.parametrize(
    ("options", "kwargs"),
    [
        ([], {}),
        (["--gauge", "reference", "--reference", "-4", "--value", "1.5"],
         {"gauge": "reference", "reference": -4, "value": 1.5}),
        (["--gauge", "sum", "--value", "2", "-T", "0.5"],
         {"gauge": "sum", "value": 2.0, "temperature": 0.5}),
        (["--gauge", "logsumexp", "--temperature", "3"],
         {"gauge": "logsumexp", "temperature": 3.0}),
    ],
)  # fmt: skip
def test_inverse_rows(
    tmp_path: Path,
    rng: np.random.Generator,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    kwargs: dict[str, Any],
) -> None:
    path, p = probabilities_file(tmp_path, rng)
    args = ["inverse", str(path), "--columns", "p_*", "--chunk-rows", "7", *options]
    code, out, err = run(args, capsys)
    assert (code, err) == (0, "")
    names, rows = read_csv(out)
    assert names == ["id", "logit_0", "logit_1", "logit_2", "logit_3", "label"]
    assert [r[0] for r in rows] == [f"r{i}" for i in range(30)]
    x = numbers(rows, slice(1, 5))
    np.testing.assert_array_equal(x, softmaxkit.inverse_softmax(p, **kwargs))
    assert np.array_equal(np.isneginf(x), p == 0)
    t = kwargs.get("temperature", 1.0)
    np.testing.assert_allclose(softmaxkit.softmax(x, temperature=t), p, rtol=1e-14, atol=0)


def test_inverse_normalize_and_missing_cells(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "counts.csv"
    path.write_text("a,b,c\n1,3,0\n2,,2\n")
    code, out, err = run(["inverse", str(path), "--normalize", "--na", "mask", "-q"], capsys)
    assert (code, err) == (0, "")
    got = numbers(read_csv(out)[1], slice(0, 3))
    half_log3 = np.log(3.0) / 2
    np.testing.assert_allclose(got[0, :2], [-half_log3, half_log3], rtol=1e-15)
    np.testing.assert_array_equal(got[1], [0.0, -np.inf, 0.0])  # the missing cell is excluded
    assert got[0, 2] == -np.inf
    code, _, err = run(["inverse", str(path), "--na", "mask"], capsys)
    assert code == 2
    assert err == (
        f"softmaxkit: error: {path}: row 1, column b: 3.0 is greater than 1; probabilities "
        "must be in [0, 1] (leave out a column that holds no probabilities with --columns, "
        "e.g. --columns 'p_*'; use --normalize for weights or counts)\n"
    )


@pytest.mark.parametrize(
    ("body", "options", "where"),
    [
        ("0.5,-0.25,0.75\n", [], "row 61, column b: -0.25 is negative"),
        ("0.5,0.25,nan\n", [], "row 61, column c: nan is NaN"),
        ("0.5,0.25,0.125\n", [], "row 61: the probabilities sum to 0.875, not 1"),
        ("0,0.5,0.5\n", ["--gauge", "reference"], "row 61, column a: probability 0 in the "
         "reference column: its logit would be -inf; use --gauge center"),
        ("0,0,0\n", ["--normalize"], "row 61: the entries sum to 0"),
    ],
)  # fmt: skip
def test_inverse_bad_probabilities_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, options: list[str], where: str
) -> None:
    # 60 good records first, in blocks of 7: the bad one is in the ninth block
    path = tmp_path / "in.csv"
    path.write_text("a,b,c\n" + "0.25,0.25,0.5\n" * 60 + body)
    out = tmp_path / "out.csv"
    code, _, err = run(
        ["inverse", str(path), "--chunk-rows", "7", "-o", str(out), *options], capsys
    )
    assert code == 2
    assert err.startswith(f"softmaxkit: error: {path}: {where}")
    assert err.count("\n") == 1
    assert os.listdir(tmp_path) == ["in.csv"]  # no output, no temporary file


def test_inverse_sum_error_names_the_remedy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "in.csv"
    path.write_text("a,b\n0.5,0.5\n0.5,0.5000001\n")
    code, _, err = run(["inverse", str(path)], capsys)
    assert code == 2
    total = 0.5 + 0.5000001  # the sum as computed, printed exactly
    assert err == (
        f"softmaxkit: error: {path}: row 2: the probabilities sum to {total!r}, not 1 "
        "(|sum - 1| = 1e-07 > atol = 1.78e-15); use --normalize to divide each record by "
        "its sum, or a larger --atol\n"
    )
    code, out, _ = run(["inverse", str(path), "--atol", "1e-6", "--gauge", "logsumexp"], capsys)
    assert code == 0
    np.testing.assert_allclose(numbers(read_csv(out)[1], slice(0, 2))[0], np.log(0.5))


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-T", "0"], "-T: must be finite and > 0 (softmax is not invertible at T = 0 or "
                      "T = inf), got '0'"),
        (["-T", "inf"], "-T: must be finite and > 0 (softmax is not invertible at T = 0 or "
                        "T = inf), got 'inf'"),
        (["--axis", "column"], "inverse works row-wise only"),
        (["--gauge", "clr"], "invalid choice: 'clr'"),
        (["--value", "nan"], "--value: must be finite"),
        (["--atol", "-1"], "--atol: must be >= 0"),
        (["--reference", "first"], "--reference: not an integer"),
    ],
)
def test_inverse_usage_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], fragment: str
) -> None:
    path = write_csv(tmp_path / "p.csv", ["a", "b"], [[0.5, 0.5]])
    code, out, err = run(["inverse", str(path), *args], capsys)
    assert (code, out) == (2, "")
    assert fragment in err and "usage: softmaxkit" in err


def test_inverse_reference_out_of_range_and_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "p.csv", ["a", "b"], [[0.5, 0.5]])
    code, _, err = run(["inverse", str(path), "--gauge", "reference", "--reference", "2"], capsys)
    assert code == 2
    assert err == (
        f"softmaxkit: error: {path}: --reference 2 is out of range for 2 selected columns; "
        "expected an integer in [-2, 1]\n"
    )
    code, _, err = run(["inverse", "--example"], capsys)  # inverse has no --example
    assert code == 2 and "unrecognized arguments: --example" in err


# --------------------------------------------------------------------------- sparse maps


@pytest.mark.parametrize(
    ("command", "extra", "fn", "kw"),
    [
        ("sparsemax", [], softmaxkit.sparsemax, {}),
        ("entmax15", ["-T", "3"], softmaxkit.entmax15, {"temperature": 3.0}),
        ("entmax", ["--alpha", "1.7"], softmaxkit.entmax, {"alpha": 1.7}),
    ],
)
def test_sparse_commands_rows(
    tmp_path: Path,
    rng: np.random.Generator,
    capsys: pytest.CaptureFixture[str],
    command: str,
    extra: list[str],
    fn: Any,
    kw: dict[str, Any],
) -> None:
    path, x = logits_file(tmp_path, rng)
    code, out, err = run([command, str(path), "--columns", "logit_*", *extra], capsys)
    assert (code, err) == (0, "")
    names, rows = read_csv(out)
    assert names == ["id", "p_0", "p_1", "p_2", "p_3", "p_4", "label"]
    p = numbers(rows, slice(1, 6))
    np.testing.assert_array_equal(p, fn(x, **kw))
    assert (p == 0).any()  # sparse: exact zeros
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)


def test_sparse_commands_usage_errors(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = logits_file(tmp_path, rng)
    code, _, err = run(["sparsemax", str(path), "--columns", "logit_*", "--axis", "column"], capsys)
    assert code == 2 and "row-wise only" in err
    code, _, err = run(["entmax", str(path), "--columns", "logit_*", "--alpha", "0.5"], capsys)
    assert code == 2 and "--alpha must be a number >= 1" in err
