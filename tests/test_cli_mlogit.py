"""``softmaxkit mlogit``: the summary against statsmodels, labels, options and errors."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from softmaxkit import io as sio
from softmaxkit.cli import main
from softmaxkit.mlogit import MultinomialLogit

sm = pytest.importorskip("statsmodels.api")
pd = pytest.importorskip("pandas")

FEATURES = ["logpopul", "selfLR", "age", "educ", "income"]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def coef_rows(out: str, category: str) -> dict[str, list[float]]:
    """The numbers of one category's block of the summary, by parameter name."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == [category])
    rows = {}
    for line in lines[start + 2:]:
        if line.startswith(("-", "=")):
            break
        name, *values = line.split()
        rows[name] = [float(v) for v in values]
    return rows


@pytest.fixture(scope="module")
def anes_ref():
    d = sm.datasets.anes96.load_pandas()
    return sm.MNLogit(d.endog, sm.add_constant(d.exog)).fit(disp=0, method="newton")


def test_example_prints_statsmodels_numbers(capsys, anes_ref):
    code, out, err = run(["mlogit", "--example"], capsys)
    assert code == 0, err
    assert "Dep. Variable:                     PID" in out
    assert "Base category:                       0" in out
    assert f"{'Log-Likelihood:':<18}{anes_ref.llf:>19.5g}" in out
    for k in range(1, 7):
        rows = coef_rows(out, f"PID={k}")
        assert list(rows) == ["const", *FEATURES]  # the order given, statsmodels' order
        for name, values in rows.items():
            coef, se, z, p, lo, hi = values
            ci = anes_ref.conf_int().loc[(str(k), name)]
            assert coef == pytest.approx(anes_ref.params.loc[name, k - 1], abs=5e-5)
            assert se == pytest.approx(anes_ref.bse.loc[name, k - 1], abs=5e-4)
            assert z == pytest.approx(anes_ref.tvalues.loc[name, k - 1], abs=5e-4)
            assert p == pytest.approx(anes_ref.pvalues.loc[name, k - 1], abs=5e-4)
            assert (lo, hi) == pytest.approx((ci["lower"], ci["upper"]), abs=5e-4)


def test_example_other_base_and_marginal_effects(capsys):
    code, out, _ = run(["mlogit", "--example", "--base", "3", "--marginal-effects", "mean"],
                       capsys)
    assert code == 0
    assert "Base category:                       3" in out
    assert "PID=3 " not in out and "PID=0 " in out
    assert "Marginal effects dP/dx (at the feature means)" in out
    # The effect of selfLR on P(PID=0) at the means (statsmodels: -0.1378)
    block = out.split("P(PID=0)")[1]
    assert block.splitlines()[2].split()[:2] == ["logpopul", "0.0115"]
    assert block.splitlines()[3].split()[:2] == ["selfLR", "-0.1378"]


def test_string_target_file_with_output_table(tmp_path, capsys):
    data = pd.read_csv(sio.example_path("anes96.csv"))
    path = tmp_path / "anes.csv"
    data.to_csv(path, index=False)
    table = tmp_path / "coef.csv"
    base = "Independent-Independent"
    code, out, err = run(["mlogit", str(path), "--target", "party", "--base", base,
                          "--features", "logpopul,selfLR", "age", "educ", "income",
                          "-o", str(table)], capsys)
    assert code == 0, err
    assert f"Base category: {base}   Df Residuals:" in out
    assert "party=Weak Republican\n" in out  # a long block title on its own line
    model = MultinomialLogit(base=base).fit(data[FEATURES], data["party"])
    with table.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6 * 6
    got = {(r["category"], r["param"]): r for r in rows}
    ci = model.conf_int()
    for cat in model.params_.columns:
        for name in model.param_names_:
            r = got[(cat, name)]
            assert float(r["coef"]) == model.params_.loc[name, cat]
            assert float(r["std_err"]) == model.bse_.loc[name, cat]
            assert float(r["p_value"]) == model.pvalues_.loc[name, cat]
            assert float(r["ci_lower"]) == ci.loc[(cat, name), "lower"]
    assert "coefficient table ->" in err


def test_penalty_and_no_intercept(tmp_path, capsys):
    rng = np.random.default_rng(1)
    n = 300
    x = rng.normal(size=(n, 2))
    y = np.where(x[:, 0] + rng.logistic(size=n) > 0.5, "up",
                 np.where(x[:, 1] + rng.logistic(size=n) > 0, "flat", "down"))
    path = tmp_path / "d.csv"
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": y}).to_csv(path, index=False)
    code, out, _ = run(["mlogit", str(path), "--target", "y", "--penalty", "l2", "--alpha",
                        "2", "--no-intercept", "--base", "flat"], capsys)
    assert code == 0
    ref = MultinomialLogit(base="flat", penalty="l2", alpha=2.0, fit_intercept=False).fit(
        pd.DataFrame({"a": x[:, 0], "b": x[:, 1]}), y)
    rows = coef_rows(out, "y=up")
    assert list(rows) == ["a", "b"]
    assert rows["a"][0] == pytest.approx(ref.params_.loc["a", "up"], abs=5e-5)
    assert "Method:             Newton, L2 penalty" in out
    assert "Penalty alpha:" in out


def test_missing_values_error_or_drop(tmp_path, capsys):
    path = tmp_path / "m.csv"
    path.write_text("a,y\n0.1,u\n,v\n0.3,\n0.5,u\n0.2,v\n0.9,u\n0.4,v\n")
    code, _, err = run(["mlogit", str(path), "--target", "y"], capsys)
    assert code == 2 and "row 2" in err and "column a" in err
    path.write_text("a,y\n0.1,u\n0.2,v\n0.3,\n0.5,u\n0.2,v\n0.9,u\n0.4,v\n")
    code, _, err = run(["mlogit", str(path), "--target", "y"], capsys)
    assert code == 2 and "row 3" in err and "missing category" in err
    path.write_text("a,y\n0.1,u\n,v\n0.3,\n0.5,u\n0.2,v\n0.9,u\n0.4,v\n")
    code, out, err = run(["mlogit", str(path), "--target", "y", "--na", "drop"], capsys)
    assert code == 0, err
    assert "dropped 2 records" in err
    assert "No. Observations:                   5" in out


def test_npy_input(tmp_path, capsys):
    d = sm.datasets.modechoice.load_pandas().data
    w = d[d["choice"] == 1]
    arr = np.column_stack([w["hinc"], w["psize"], w["mode"]])
    path = tmp_path / "m.npy"
    np.save(path, arr)
    code, out, _ = run(["mlogit", str(path), "--target", "2", "--base", "4"], capsys)
    assert code == 0
    ref = MultinomialLogit(base=4).fit(arr[:, :2], arr[:, 2].astype(int))
    rows = coef_rows(out, "2=1")
    assert rows["0"][0] == pytest.approx(ref.params_.loc["x1", 1], abs=5e-5)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["mlogit"], "FILE (or --example)"),
        (["mlogit", "x.csv"], "--target"),
        (["mlogit", "--example", "--alpha", "1"], "--alpha needs --penalty l2"),
        (["mlogit", "--example", "--conf-level", "1.5"], "--conf-level must be in (0, 1)"),
        (["mlogit", "--example", "-o", "t.npy"], "use .csv or .parquet"),
    ],
)
def test_usage_errors(args, message, capsys):
    code, _, err = run(args, capsys)
    assert code == 2 and message in err


def test_input_errors(tmp_path, capsys):
    code, _, err = run(["mlogit", "--example", "--base", "9"], capsys)
    assert code == 2
    assert "--base '9' is not a label of this column; its labels are [0, 1, 2, 3, 4, 5, 6]" \
        in err
    code, _, err = run(["mlogit", "--example", "--target", "nope"], capsys)
    assert code == 2 and "nope" in err
    code, _, err = run(["mlogit", "--example", "--features", "party"], capsys)
    assert code == 2 and "party" in err  # a text column is not a feature
    # all other columns of the example include PID's own label column: complete separation
    code, _, err = run(["mlogit", "--example", "--target", "party"], capsys)
    assert code == 2
    assert "maximum-likelihood estimate does not exist" in err
    assert "complete separation" in err and "'PID'" in err
    path = tmp_path / "one.csv"
    path.write_text("a,y\n1,u\n2,u\n3,u\n")
    code, _, err = run(["mlogit", str(path), "--target", "y"], capsys)
    assert code == 2 and "at least 2 categories" in err


def test_help_lists_the_command(capsys):
    code, out, _ = run(["--help"], capsys)
    assert code == 0 and "mlogit" in out
    code, out, _ = run(["mlogit", "--help"], capsys)
    assert code == 0 and "--target" in out and "--base" in out and "anes96" in out.lower()


def test_shipped_data_reproduces_statsmodels_example(anes_ref):
    data = pd.read_csv(io.StringIO(sio.example_path("anes96.csv").read_text()))
    assert data.shape == (944, 12)
    model = MultinomialLogit().fit(data[FEATURES], data["PID"])
    np.testing.assert_allclose(np.asarray(model.params_), np.asarray(anes_ref.params),
                               rtol=1e-6)
    assert model.llf_ == pytest.approx(anes_ref.llf, rel=1e-12)
