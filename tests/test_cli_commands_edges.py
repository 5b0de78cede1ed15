"""The commands' own edges (issue 14, cases 5-8): every error names the file's 1-based data
row and column, on one line, exit status 2, and the help offers only what works.

* ``calibrate``: NaN / +inf logits, fully masked rows and labels with a ``-inf`` logit are
  refused wherever the row falls (fit or held-out part), naming the file row; the library's
  warnings are ``softmaxkit calibrate: warning: ...`` lines.
* ``mlogit``: non-finite features named by the file's 1-based row; a continuous
  ``--target`` refused at once; the library's advice in option names.
* The map commands: outputs named for what they hold (``p_*``, ``logp_*``, ``logit_*``);
  ``inverse`` has no ``--example`` and takes finite T > 0 only; row-wise-only commands do
  not offer ``--axis``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest

from softmaxkit.cli import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def header_of(text: str) -> list[str]:
    return next(csv.reader(io.StringIO(text)))


# --------------------------------------------------------------------------- calibrate (5, 7)

N_ROWS = 12


def logits_rows(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """12 rows x 3 classes that fit a finite temperature (some labels are not the top class)."""
    z = rng.normal(size=(N_ROWS, 3)) * 2
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2])
    return z, y


def calibrate_file(path: Path, z: np.ndarray, y: np.ndarray) -> Path:
    rows = [[repr(float(v)) for v in r] + [int(lab)] for r, lab in zip(z, y, strict=True)]
    return write(path, ["a", "b", "c", "label"], rows)


@pytest.mark.parametrize("row", range(1, N_ROWS + 1))
def test_calibrate_bad_logits_name_the_file_row(
    row: int, tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    # Half the rows are fitted, half held out (seed 0): each bad row is named, in either part.
    z, y = logits_rows(rng)
    i = row - 1
    cases = []
    nan = z.copy()
    nan[i, 1] = np.nan
    cases.append((nan, f"row {row}, column b: the logit is NaN; logits must be finite (or "
                       "-inf for an excluded class)"))
    pos = z.copy()
    pos[i, 2] = np.inf
    cases.append((pos, f"row {row}, column c: the logit is +inf; logits must be finite (or "
                       "-inf for an excluded class)"))
    masked = z.copy()
    masked[i] = -np.inf
    cases.append((masked, f"row {row}: every logit is -inf (a fully masked row): it has no "
                          "probabilities to calibrate and its label's likelihood is 0; "
                          "remove the row"))
    excluded = z.copy()
    excluded[i, y[i]] = -np.inf
    column = "abc"[y[i]]
    cases.append((excluded, f"row {row}, column {column}: the logit of the label (class "
                            f"{y[i]}) is -inf: its probability is 0 at every temperature, so "
                            "the likelihood is 0; check the labels and this row"))
    for k, (bad, message) in enumerate(cases):
        path = calibrate_file(tmp_path / f"z{k}.csv", bad, y)
        out = tmp_path / f"out{k}.csv"
        code, stdout, err = run(["calibrate", str(path), "--labels", "label", "-o", str(out)],
                                capsys)
        assert (code, stdout) == (2, "")
        assert err == f"softmaxkit: error: {path}: {message}\n"
        assert not out.exists()


def test_calibrate_excluded_classes_and_binary_infinities(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    # -inf on a class that is not the label: an excluded class, in both parts; the metrics
    # stay finite and the excluded class gets probability exactly 0.
    z, y = logits_rows(rng)
    for i in range(N_ROWS):
        z[i, (y[i] + 1) % 3] = -np.inf
    path = calibrate_file(tmp_path / "z.csv", z, y)
    out = tmp_path / "p.csv"
    code, stdout, err = run(["calibrate", str(path), "--labels", "label", "-o", str(out)],
                            capsys)
    assert code == 0, err
    nll = next(ln for ln in stdout.splitlines() if ln.startswith("negative log-likelihood"))
    assert all(np.isfinite(float(v)) for v in nll.split()[2:4])
    rows = list(csv.reader(io.StringIO(out.read_text())))[1:]
    probs = np.array([[float(c) for c in r[1:4]] for r in rows])
    assert np.all(probs[np.arange(N_ROWS), (y + 1) % 3] == 0.0)
    # Binary: -inf is P(class 1) = 0, fine with label 0, refused with label 1; +inf refused.
    b = write(tmp_path / "b.csv", ["z", "label"],
              [[-1.5, 0], [2.0, 1], [0.5, 0], [-0.2, 1], ["-inf", 0], [1.0, 0], [-2, 1], [0.1, 1]])
    code, _, err = run(["calibrate", str(b), "--labels", "label", "-q"], capsys)
    assert code == 0 and "error" not in err
    lines = b.read_text().splitlines()
    lines[5] = "-inf,1"  # data row 5
    b.write_text("\n".join(lines) + "\n")
    code, _, err = run(["calibrate", str(b), "--labels", "label", "-q"], capsys)
    assert code == 2
    assert err == (f"softmaxkit: error: {b}: row 5, column z: the logit of the label (class 1) "
                   "is -inf: its probability is 0 at every temperature, so the likelihood is "
                   "0; check the labels and this row\n")


def test_calibrate_warnings_are_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Logits unrelated to the labels: the optimal temperature is infinite (a warning).
    rng = np.random.default_rng(3)
    z = rng.normal(size=(60, 3))
    y = rng.integers(0, 3, 60)
    path = calibrate_file(tmp_path / "r.csv", z, y)
    code, out, err = run(["calibrate", str(path), "--labels", "label"], capsys)
    assert code == 0
    assert err == (
        "softmaxkit calibrate: warning: the logits are no better than uniform guessing on "
        "these labels (dNLL/d(1/T) = 0.245 >= 0 at T = inf): the optimal temperature is "
        "infinite and the calibrated probabilities are uniform\n"
    )
    assert "temperature T = inf" in out


def test_calibrate_on_dask_refuses_bad_logits_naming_partition_and_row(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: NaN metrics and exit 0 (a NaN logit), or an infinite NLL (a masked row).
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("dask.dataframe")
    z, y = logits_rows(rng)
    nan, masked = z.copy(), z.copy()
    nan[5, 1] = np.nan
    masked[8] = -np.inf
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cl:
        for k, (bad, message) in enumerate([
            (nan, "partition 0, row 6, column b: the logit is NaN; logits must be finite (or "
                  "-inf for an excluded class)"),
            (masked, "partition 0, row 9: every logit is -inf (a fully masked row): it has no "
                     "probabilities to calibrate and its label's likelihood is 0; remove the "
                     "row"),
        ]):
            path = calibrate_file(tmp_path / f"z{k}.csv", bad, y)
            out = tmp_path / f"out{k}"
            code, stdout, err = run(["calibrate", str(path), "--labels", "label", "--engine",
                                     "dask", "--scheduler", cl.scheduler_address, "-o",
                                     str(out)], capsys)
            assert (code, stdout) == (2, "")
            assert err.endswith(f"softmaxkit: error: {path}: {message}\n")
            assert not out.exists()


def test_calibrate_advice_names_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    # Vector scaling on the shipped digits logits: class 0 is separated, so the unpenalised
    # fit does not exist; the advice is the command's --alpha, not VectorScaling(alpha=...).
    code, out, err = run(["calibrate", "--example", "--method", "vector"], capsys)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "separation" in err
    assert "--alpha" in err and "--method temperature" in err
    for python in ("VectorScaling", "TemperatureScaling", "alpha=", "fit_bias="):
        assert python not in err
    code, out, err = run(["calibrate", "--example", "--method", "vector", "--alpha", "1"],
                         capsys)
    assert code == 0
    assert err.startswith("softmaxkit calibrate: warning: ") and err.count("\n") == 1
    assert "the penalty (--alpha)" in err
    assert "vector scaling (--alpha 1): per-class temperatures" in out
    code, _, err = run(["calibrate", "--example", "--alpha", "1"], capsys)
    assert code == 2
    assert err.endswith("error: --alpha applies to --method vector (the penalty of its "
                        "per-class parameters)\n")


# --------------------------------------------------------------------------- mlogit (6, 7)


def mlogit_rows(n: int, seed: int = 1) -> list[list[object]]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = rng.integers(0, 3, n)
    return [[float(a), float(b), int(c)] for (a, b), c in zip(x, y, strict=True)]


@pytest.mark.parametrize(("text", "shown"), [("inf", "+inf"), ("-inf", "-inf"), ("nan", "NaN")])
def test_mlogit_non_finite_feature_names_the_file_row(
    text: str, shown: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = mlogit_rows(30)
    rows[6][1] = text  # data row 7, column x2
    path = write(tmp_path / "m.csv", ["x1", "x2", "y"], rows)
    code, out, err = run(["mlogit", str(path), "--target", "y"], capsys)
    assert (code, out) == (2, "")
    assert err == (
        f"softmaxkit: error: {path}: row 7, column x2: {shown} is not a finite number; every "
        "feature value must be finite (use --na drop to skip such records)\n"
    )
    code, out, err = run(["mlogit", str(path), "--target", "y", "--na", "drop"], capsys)
    assert code == 0
    assert "No. Observations:                  29" in out


def test_mlogit_continuous_target_is_refused_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = mlogit_rows(2000)
    path = write(tmp_path / "c.csv", ["x1", "x2", "y"], rows)
    code, out, err = run(["mlogit", str(path), "--target", "x1"], capsys)
    assert (code, out) == (2, "")
    assert err == (
        f"softmaxkit: error: {path}: column x1: --target x1 has 2000 distinct values in 2000 "
        "records, so it is not a column of categories (a multinomial logit needs several "
        "records per category); did you mean --target y (3 categories)?\n"
    )
    # Explicit features that hold no category column: the advice says what --target is.
    code, _, err = run(["mlogit", str(path), "--target", "x1", "--features", "x2"], capsys)
    assert code == 2
    assert err.endswith("; --target names the column of categories; numeric predictors go in "
                        "--features\n")
    # Many categories, each seen often, are not refused: 30 categories in 300 records.
    many = write(tmp_path / "k.csv", ["x1", "y"],
                 [[float(v), i % 30] for i, v in enumerate(np.random.default_rng(2).normal(
                     size=300))])
    code, out, err = run(["mlogit", str(many), "--target", "y", "--penalty", "l2"], capsys)
    assert code == 0, err


def test_mlogit_advice_names_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [[r[0], 1.0, r[2]] for r in mlogit_rows(60)]
    path = write(tmp_path / "const.csv", ["x1", "c", "y"], rows)
    code, _, err = run(["mlogit", str(path), "--target", "y"], capsys)
    assert code == 2
    assert err == (
        f"softmaxkit: error: {path}: the features (with the intercept) are rank deficient: "
        "the columns 'const', 'c' are linearly dependent, so their coefficients are not "
        "identified (a constant column duplicates the intercept: drop it, or use "
        "--no-intercept)\n"
    )
    x = np.random.default_rng(1).normal(size=60)
    sep = write(tmp_path / "sep.csv", ["x1", "y"], [[float(v), int(v > 0)] for v in x])
    code, _, err = run(["mlogit", str(sep), "--target", "y"], capsys)
    assert code == 2
    assert "Use --penalty l2 (with --alpha > 0), or merge the category" in err
    assert "MultinomialLogit" not in err and "penalty='l2'" not in err
    code, _, err = run(["mlogit", str(sep), "--target", "y", "--penalty", "l2"], capsys)
    assert code == 0
    assert err.startswith("softmaxkit mlogit: warning: complete separation: ")
    assert "determined by the penalty (--alpha), not by the data" in err
    code, _, err = run(["mlogit", "--example", "--max-iter", "1"], capsys)
    assert code == 0
    assert err.startswith("softmaxkit mlogit: warning: Newton's method did not converge "
                          "(--max-iter 1 iterations were reached; Newton decrement ")
    assert "> --tol 1e-08)" in err and "max_iter" not in err


# --------------------------------------------------------------------------- maps (8)


def test_output_columns_are_named_for_what_they_hold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "z.csv", ["id", "logit_0", "logit_1", "score"],
                 [["r0", 0.0, 1.0, 2.0], ["r1", -1.0, 0.0, 1.0]])
    expect = {
        "softmax": ["id", "p_0", "p_1", "p_score"],
        "log-softmax": ["id", "logp_0", "logp_1", "logp_score"],
        "sparsemax": ["id", "p_0", "p_1", "p_score"],
        "entmax15": ["id", "p_0", "p_1", "p_score"],
        "entmax": ["id", "p_0", "p_1", "p_score"],
        "logsumexp": ["id", "logsumexp"],
    }
    for command, names in expect.items():
        code, out, err = run([command, str(path), "--columns", "1:4"], capsys)
        assert (code, err) == (0, ""), command
        assert header_of(out) == names, command
    probs = tmp_path / "p.csv"
    assert main(["softmax", str(path), "--columns", "1:4", "-o", str(probs), "-q"]) == 0
    code, out, _ = run(["inverse", str(probs), "--columns", "p_*"], capsys)
    assert code == 0 and header_of(out) == ["id", "logit_0", "logit_1", "logit_score"]
    # A renamed column that would take the name of a column passed through is refused.
    clash = write(tmp_path / "clash.csv", ["logit_0", "logit_1", "p_0"], [[0.0, 1.0, 0.5]])
    code, out, err = run(["softmax", str(clash), "--columns", "logit_*"], capsys)
    assert (code, out) == (2, "")
    assert err == (
        f"softmaxkit: error: {clash}: column logit_0: the output column 'p_0' (from "
        "'logit_0') would clash with the input column 'p_0', passed through; rename it, or "
        "use --no-passthrough\n"
    )
    code, out, _ = run(["softmax", str(clash), "--columns", "logit_*", "--no-passthrough"],
                       capsys)
    assert code == 0 and header_of(out) == ["p_0", "p_1"]
    both = write(tmp_path / "both.csv", ["logit_a", "a"], [[0.0, 1.0]])
    code, _, err = run(["softmax", str(both)], capsys)
    assert code == 2
    assert err == (
        f"softmaxkit: error: {both}: column logit_a: the selected columns 'logit_a' and 'a' "
        "would both be written as 'p_a'; rename one of them\n"
    )


@pytest.mark.parametrize("command", ["inverse", "sparsemax", "entmax15", "entmax"])
def test_row_wise_only_commands_do_not_offer_axis(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--help"]) == 0
    text = capsys.readouterr().out
    assert "--axis" not in text and "'column'" not in text
    path = write(tmp_path / "p.csv", ["a", "b"], [[0.5, 0.5]])
    code, out, err = run([command, str(path), "--axis", "column"], capsys)
    assert (code, out) == (2, "")
    assert err.endswith(f"error: {command} works row-wise only (each record is one "
                        "distribution)\n")
    code, _, _ = run([command, str(path), "--axis", "row"], capsys)  # still accepted
    assert code == 0


def test_inverse_help_promises_only_what_works(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inverse", "--help"]) == 0
    text = capsys.readouterr().out
    assert "--example" not in text and "hardmax" not in text
    assert "finite and > 0" in text
    code, out, err = run(["inverse", "--example"], capsys)
    assert (code, out) == (2, "")
    assert err.endswith("error: unrecognized arguments: --example\n")
    for t in ("0", "inf"):
        code, _, err = run(["inverse", "x.csv", "-T", t], capsys)
        assert code == 2
        assert err.endswith(
            "softmaxkit inverse: error: argument --temperature/-T: must be finite and > 0 "
            f"(softmax is not invertible at T = 0 or T = inf), got '{t}'\n"
        )


def test_inverse_of_softmax_output_without_columns_says_how(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    probs = tmp_path / "probs.csv"
    assert main(["softmax", "--example", "-o", str(probs), "-q"]) == 0
    code, _, err = run(["inverse", str(probs), "-o", str(tmp_path / "l.csv")], capsys)
    assert code == 2
    assert err == (
        f"softmaxkit: error: {probs}: row 1, column label: 6.0 is greater than 1; "
        "probabilities must be in [0, 1] (leave out a column that holds no probabilities "
        "with --columns, e.g. --columns 'p_*'; use --normalize for weights or counts)\n"
    )


def test_mlogit_on_dask_numbers_rows_and_checks_the_target_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("dask.dataframe")
    rows = mlogit_rows(30)
    rows[6][0] = "inf"  # data row 7, column x1
    path = write(tmp_path / "m.csv", ["x1", "x2", "y"], rows)
    wide = write(tmp_path / "c.csv", ["x1", "x2", "y"], mlogit_rows(100))
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cl:
        dask = ["--engine", "dask", "--scheduler", cl.scheduler_address]
        code, out, err = run(["mlogit", str(path), "--target", "y", *dask], capsys)
        assert (code, out) == (2, "")
        assert err == (
            f"softmaxkit: error: {path}: row 7, column x1: +inf is not a finite number; every "
            "feature value must be finite (use --na drop to skip such records)\n"
        )
        code, out, err = run(["mlogit", str(path), "--target", "y", "--na", "drop", *dask],
                             capsys)
        assert code == 0, err
        assert "No. Observations:                  29" in out
        code, out, err = run(["mlogit", str(wide), "--target", "x2", *dask], capsys)
        assert (code, out) == (2, "")
        assert err == (
            f"softmaxkit: error: {wide}: column x2: --target x2 has 100 distinct values in 100 "
            "records, so it is not a column of categories (a multinomial logit needs several "
            "records per category); --target names the column of categories; numeric "
            "predictors go in --features\n"
        )


# --------------------------------------------------------------------------- boltzmann


def test_boltzmann_bad_values_say_what_they_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "e.csv"
    path.write_text("name,energy,g\na,0,1\nb,nan,1\nc,1,-2\n")
    code, _, err = run(["boltzmann", str(path), "--units", "kcal/mol"], capsys)
    assert code == 2
    assert err == (f"softmaxkit: error: {path}: row 2, column energy: the energy is nan; it must "
                   "be a number or +inf (a state that is never occupied)\n")
    path.write_text("name,energy,g\na,0,1\nb,2,1\nc,1,-2\n")
    code, _, err = run(["boltzmann", str(path), "--units", "kcal/mol", "--degeneracy-column",
                        "g"], capsys)
    assert code == 2
    assert err == (f"softmaxkit: error: {path}: row 3, column g: the degeneracy is -2.0; it "
                   "must be finite and >= 0 (0 removes the state)\n")
