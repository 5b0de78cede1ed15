"""``softmaxkit weights``: run in-process through ``softmaxkit.cli.main``."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pytest

from softmaxkit import io as sio
from softmaxkit.cli import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def table(out: str) -> dict[str, list[float]]:
    """The printed table: model -> its numbers."""
    rows = [line.split() for line in out.splitlines()[1:] if not line.startswith("method:")]
    return {r[0]: [float(v) for v in r[1:]] for r in rows}


def test_example_is_stacking_on_the_eight_schools(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["weights", "--example"], capsys)
    assert code == 0 and err == ""
    assert out.splitlines()[0].split() == ["model", "elpd", "weight"]
    assert out.splitlines()[-1] == "method: stacking (8 observations, 4 models)"
    got = table(out)
    lpd = np.loadtxt(sio.example_path("eight_schools_loo.csv"), delimiter=",", skiprows=1)
    # the optimum is the vertex of the pooled model (ArviZ: 0.99999999999999822)
    assert {k: v[1] for k, v in got.items()} == {
        "centered": 0.0, "non_centered": 0.0, "pooled": 1.0, "pooled_zero": 0.0}
    np.testing.assert_allclose([v[0] for v in got.values()], lpd.sum(axis=0), rtol=1e-5)


def test_pseudo_bma_and_bootstrap(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["weights", "--example", "--method", "pseudo-bma"], capsys)
    assert code == 0
    # ArviZ 0.23.4 az.compare(method="pseudo-BMA") on the same models, to the 6 printed digits
    np.testing.assert_allclose([v[1] for v in table(out).values()],
                               [0.267690, 0.285377, 0.310594, 0.136339], atol=5e-7)
    args = ["weights", "--example", "-m", "bb-pseudo-bma", "--seed", "7", "--n-bootstrap", "300"]
    first = run(args, capsys)[1]
    assert run(args, capsys)[1] == first  # seeded: the same draws
    w = [v[1] for v in table(first).values()]
    assert sum(w) == pytest.approx(1.0, abs=4e-6) and all(0 < x < 1 for x in w)


def test_akaike_column_with_labels_and_output(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    src, dst = tmp_path / "models.csv", tmp_path / "w.csv"
    src.write_text("model,df,AICc\nlinear,3,204.1\nquadratic,4,202.3\ncubic,5,210.0\n")
    code, out, err = run(["weights", str(src), "--method", "akaike", "-o", str(dst)], capsys)
    assert code == 0 and "table ->" in err
    aic = np.array([204.1, 202.3, 210.0])
    delta = aic - aic.min()
    ref = np.exp(-delta / 2) / np.exp(-delta / 2).sum()
    got = table(out)
    assert list(got) == ["linear", "quadratic", "cubic"]
    np.testing.assert_allclose([v[2] for v in got.values()], ref, atol=5e-7)
    rows = list(csv.reader(io.StringIO(dst.read_text())))
    assert rows[0] == ["model", "aic", "weight"]
    np.testing.assert_allclose([float(r[2]) for r in rows[1:]], ref, rtol=1e-15)
    # BIC weights: the same formula; an explicit column, and +inf is a model of weight 0
    src.write_text("name,BIC\na,10\nb,12\nc,inf\n")
    code, out, _ = run(["weights", str(src), "--method", "bic", "--score-column", "BIC"], capsys)
    assert code == 0
    w = [v[2] for v in table(out).values()]
    assert w[2] == 0 and w[0] == pytest.approx(1 / (1 + math.exp(-1)), abs=5e-7)


def test_lpd_matrix_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "lpd.csv"
    rows = [[-1.0, -1.2, -3.0, 7], [-2.0, -0.9, -3.1, 8], [-0.5, -1.5, -3.2, 9]]
    src.write_text("model_a,model_b,model_c,id\n" + "".join(
        ",".join(str(v) for v in r) + "\n" for r in rows))
    code, out, _ = run(["weights", str(src), "--columns", "model_*"], capsys)
    assert code == 0
    got = table(out)
    assert list(got) == ["model_a", "model_b", "model_c"]
    assert got["model_c"][1] == 0.0  # exactly 0: the optimum is on a face
    np.testing.assert_allclose([got["model_a"][1], got["model_b"][1]], [0.563938, 0.436062],
                               atol=5e-7)


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("a,b\n-1,-2\nnan,-1\n", [], "row 2, column a: NaN is not a usable log predictive "
         "density"),
        ("a,b\n-1,-2\n-1,inf\n", [], "row 2, column b: +inf is not a usable log predictive "
         "density; stacking needs numbers or -inf"),
        ("m,aic\nx,1\ny,-inf\n", ["--method", "akaike"], "row 2, column aic: -inf is not a "
         "usable AIC"),
        ("a,b\n-1,x\n", [], "row 1, column b"),
        ("x,y\n3,1\n4,2\n", ["--method", "bic"], "which column holds the scores?"),
        ("a,b\n", [], "no records"),
    ],
)
def test_bad_records_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str,
                            args: list[str], message: str) -> None:
    src = tmp_path / "in.csv"
    src.write_text(content)
    code, _, err = run(["weights", str(src), *args], capsys)
    assert code == 2
    assert err.startswith("softmaxkit: error: ") and message in err, err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--example", "--method", "akaike"], "the example holds pointwise log predictive"),
        (["--example", "--seed", "1"], "--seed, --n-bootstrap and --alpha go with"),
        (["--example", "--n-bootstrap", "1000"], "--seed, --n-bootstrap and --alpha go with"),
        (["--example", "--score-column", "a"], "--score-column and --label-column go with"),
        (["x.csv", "--method", "bic", "--columns", "a"], "--columns selects the models"),
        (["-"], "FILE must be a file"),
        ([], "the following arguments are required: FILE (or --example)"),
        (["--example", "-o", "w.npy"], "-o writes a table with a text column"),
        (["--example", "--alpha", "0"], "must be a finite number > 0"),
    ],
)
def test_usage_errors(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, _, err = run(["weights", *args], capsys)
    assert code == 2 and message in err, err
