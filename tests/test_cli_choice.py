"""``softmaxkit choice``: the TravelMode example against its peers, options, and bad data.

Peer values recorded here were printed by the committed scripts (every digit):
``python benchmarks/peers/choice_xlogit.py`` (xlogit 0.2.7) and
``python benchmarks/peers/choice_biogeme.py`` (Biogeme 3.3.2, not a test extra). Greene's
published conditional logit (Econometric Analysis, 5th ed., 2003, p. 729, Table 21.11) is
recorded with R mlogit's digits for that table.
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from softmaxkit import io as sio
from softmaxkit.cli import main
from softmaxkit.cli.choice import nest

pd = pytest.importorskip("pandas")

ARGS = ["--alternative", "mode", "--alternative-vars", "gc", "ttme",
        "--individual-vars", "hinc", "--base", "car"]
NESTS = ["--nest", "fly=air", "--nest", "ground=train,bus,car"]

# benchmarks/peers/choice_xlogit.py, model "clogit" (xlogit 0.2.7, its BFGS run to gtol 1e-14).
XLOGIT_CLOGIT = {
    "const:air": (5.874813350228246, 0.8020900426703975),
    "const:bus": (4.13028384822572, 0.6763626037644284),
    "const:train": (5.549857272424882, 0.6404241897434204),
    "gc": (-0.010927352807461023, 0.004587751055663195),
    "ttme": (-0.09546055168246963, 0.010473196391721892),
    "hinc:air": (-0.005373491468687283, 0.011529402313569359),
    "hinc:bus": (-0.028584181164717854, 0.015444177840517164),
    "hinc:train": (-0.056561862660599836, 0.013973347291203001),
}
XLOGIT_CLOGIT_LLF = -189.5251525799339
# benchmarks/peers/choice_xlogit.py, model "clogit_unbalanced" (avail=0 for the removed rows).
XLOGIT_UNBALANCED = {
    "const:air": (5.6502344559621624, 0.7970223428922415),
    "const:bus": (4.139662478304035, 0.6881275878635126),
    "const:train": (5.361549194896324, 0.6332982846916273),
    "gc": (-0.010184840687743946, 0.004566499897195211),
    "ttme": (-0.09185049495285018, 0.010400761613717386),
    "hinc:air": (-0.005395310991329041, 0.011440880282140336),
    "hinc:bus": (-0.024189141819520785, 0.016194214187906678),
    "hinc:train": (-0.05544270739267756, 0.013802637531920025),
}
XLOGIT_UNBALANCED_LLF = -184.09825672589426
# benchmarks/peers/choice_biogeme.py, model "nested" (Biogeme 3.3.2; Rao-Cramér errors).
BIOGEME_NESTED = {
    "const:air": (3.8845326341944495, 1.1962978239955315),
    "const:bus": (3.0458637304114444, 0.7285337608757206),
    "const:train": (4.058935918100299, 0.8701837021713343),
    "gc": (-0.012308741165539485, 0.0037474807883450902),
    "ttme": (-0.07099829983186805, 0.015043432494392397),
    "hinc:air": (0.0023502884195690664, 0.01087198340881921),
    "hinc:bus": (-0.016212787124524834, 0.011687367348520938),
    "hinc:train": (-0.034654388581116, 0.013287031610152619),
    "lambda:ground": (0.6366357897704366, 0.15395315411163674),
}
BIOGEME_NESTED_LLF = -187.68245715740662
# Greene (2003), Table 21.11, with R mlogit's digits: gc, ttme, hinc*[air] generic, base car.
GREENE = {
    "gc": (-0.0155015067043374, 0.00440799307835216),
    "ttme": (-0.0961246217793847, 0.0104398465313473),
    "hinc_air": (0.0132870137736127, 0.0102624069997369),
    "const:air": (5.20743292761953, 0.779055142508082),
    "const:train": (3.86903570401292, 0.443126852001293),
    "const:bus": (3.16319033000995, 0.450265930527341),
}
GREENE_LLF = -199.1284


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def table(path) -> dict[str, list[float]]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["param", "coef", "std_err", "z", "p_value", "ci_lower", "ci_upper"]
    return {r["param"]: [float(r[k]) for k in list(r)[1:]] for r in rows}


def summary_value(out: str, label: str) -> float:
    """A number of the summary's header: the text after ``label`` on its line."""
    line = next(line for line in out.splitlines() if label in line)
    return float(line.split(label)[1].split()[0])


@pytest.fixture
def travel() -> pd.DataFrame:
    return pd.read_csv(sio.example_path("travelmode.csv"))


# ----------------------------------------------------------------------- the shipped data


def test_shipped_data_is_statsmodels_modechoice(travel):
    sm_data = pytest.importorskip("statsmodels.datasets.modechoice").load_pandas().data
    assert travel.shape == (840, 9)
    assert list(travel.columns) == ["id", "mode", "choice", "ttme", "invc", "invt", "gc",
                                    "hinc", "psize"]
    codes = {"air": 1, "train": 2, "bus": 3, "car": 4}  # statsmodels' data.py
    assert np.array_equal(travel["mode"].map(codes).to_numpy(), sm_data["mode"].to_numpy())
    assert np.array_equal(travel["id"].to_numpy(), sm_data["individual"].to_numpy())
    for col in ["choice", "ttme", "invc", "invt", "gc", "hinc", "psize"]:
        assert np.array_equal(travel[col].to_numpy(), sm_data[col].to_numpy()), col
    # Greene's sample shares: air 58, train 63, bus 30, car 59 of 210.
    shares = travel[travel["choice"] == 1]["mode"].value_counts().to_dict()
    assert shares == {"train": 63, "car": 59, "air": 58, "bus": 30}


# ----------------------------------------------------------------------- peers


def test_example_equals_xlogit(tmp_path, capsys):
    out_csv = tmp_path / "coef.csv"
    code, out, err = run(["choice", "--example", "-o", str(out_csv)], capsys)
    assert code == 0, err
    assert "Conditional Logit Results" in out and "Base alternative:                  car" in out
    assert summary_value(out, "Log-likelihood:") == pytest.approx(XLOGIT_CLOGIT_LLF, abs=5e-5)
    got = table(out_csv)
    assert list(got) == ["const:air", "const:bus", "const:train", "gc", "ttme", "hinc:air",
                         "hinc:bus", "hinc:train"]
    for name, (coef, se) in XLOGIT_CLOGIT.items():
        assert got[name][0] == pytest.approx(coef, rel=1e-6, abs=1e-8), name
        assert got[name][1] == pytest.approx(se, rel=1e-6), name
        lo, hi = got[name][4:]
        assert (lo, hi) == pytest.approx((coef - 1.959963984540054 * se,
                                          coef + 1.959963984540054 * se), rel=1e-5)
    # the printed table rounds the same numbers
    line = next(x for x in out.splitlines() if x.startswith("hinc:train"))
    assert line.split()[1:3] == ["-0.0566", "0.014"]


def test_nested_example_equals_biogeme(tmp_path, capsys):
    out_csv = tmp_path / "nested.csv"
    code, out, err = run(["choice", "--example", *NESTS, "-o", str(out_csv)], capsys)
    assert code == 0, err
    assert "Nested Logit Results (RU2)" in out
    assert "Nest ground:           bus, car, train" in out
    got = table(out_csv)
    for name, (coef, se) in BIOGEME_NESTED.items():
        assert got[name][0] == pytest.approx(coef, abs=1e-5), name
        assert got[name][1] == pytest.approx(se, rel=1e-5), name
    assert summary_value(out, "Log-likelihood:") == pytest.approx(BIOGEME_NESTED_LLF, abs=5e-5)


def test_greene_published_table(tmp_path, travel, capsys):
    data = travel.assign(hinc_air=travel["hinc"] * (travel["mode"] == "air"))
    path, out_csv = tmp_path / "greene.csv", tmp_path / "coef.csv"
    data.to_csv(path, index=False)
    code, out, err = run(["choice", str(path), "--alternative", "mode", "--alternative-vars",
                          "gc,ttme,hinc_air", "--base", "car", "-o", str(out_csv)], capsys)
    assert code == 0, err
    got = table(out_csv)
    for name, (coef, se) in GREENE.items():
        # R's stopping rule leaves ~1e-5 in the constants; Greene prints 4-5 digits.
        assert got[name][0] == pytest.approx(coef, rel=5e-5, abs=1e-7), name
        assert got[name][1] == pytest.approx(se, rel=1e-5), name
    assert summary_value(out, "Log-likelihood:") == pytest.approx(GREENE_LLF, abs=1e-4)
    # Our LL-Null is equal shares (the definition); Greene's -283.7588 is the
    # constants-only model, the log-likelihood of the sample shares 58, 63, 30, 59 of 210.
    assert summary_value(out, "LL-Null:") == pytest.approx(-210 * math.log(4), abs=5e-5)
    shares = sum(n * math.log(n / 210) for n in (58, 63, 30, 59))
    assert shares == pytest.approx(-283.7588, abs=5e-5)


def test_unbalanced_choice_sets_equal_xlogit_avail(tmp_path, travel, capsys):
    drop = (travel["mode"] == "bus") & (travel["id"] % 3 == 0) & (travel["choice"] == 0)
    path, out_csv = tmp_path / "unbalanced.csv", tmp_path / "coef.csv"
    travel[~drop].to_csv(path, index=False)
    code, out, err = run(["choice", str(path), *ARGS, "-o", str(out_csv)], capsys)
    assert code == 0, err
    got = table(out_csv)
    for name, (coef, se) in XLOGIT_UNBALANCED.items():
        assert got[name][0] == pytest.approx(coef, rel=1e-6, abs=1e-8), name
        assert got[name][1] == pytest.approx(se, rel=1e-6), name
    assert summary_value(out, "Log-likelihood:") == pytest.approx(XLOGIT_UNBALANCED_LLF,
                                                                  abs=5e-5)
    # LL-Null: equal shares among each group's available alternatives (3 or 4 of them)
    n3 = int(drop.sum())
    assert summary_value(out, "LL-Null:") == pytest.approx(
        -(n3 * math.log(3) + (210 - n3) * math.log(4)), abs=5e-5)


# ----------------------------------------------------------------------- options and labels


def test_integer_labels_parquet_and_shuffled_rows(tmp_path, travel, capsys):
    """Alternatives coded 1-4 (statsmodels' coding), rows shuffled, read from Parquet: the
    same fit as the example; --base and --nest members match the integer labels."""
    pytest.importorskip("pyarrow")
    codes = {"air": 1, "train": 2, "bus": 3, "car": 4}
    data = travel.assign(mode=travel["mode"].map(codes)).rename(
        columns={"id": "person", "choice": "chosen"})
    data = data.sample(frac=1.0, random_state=0)
    path, out_csv = tmp_path / "coded.parquet", tmp_path / "coef.csv"
    data.to_parquet(path, index=False)
    code, _out, err = run(["choice", str(path), "--choice", "chosen", "--alternative", "mode",
                          "--group", "person", "--alternative-vars", "gc", "ttme",
                          "--individual-vars", "hinc", "--base", "4", "--nest", "fly=1",
                          "--nest", "ground=2,3,4", "-o", str(out_csv)], capsys)
    assert code == 0, err
    got = table(out_csv)
    assert got["lambda:ground"][0] == pytest.approx(BIOGEME_NESTED["lambda:ground"][0], abs=1e-5)
    assert got["const:1"][0] == pytest.approx(BIOGEME_NESTED["const:air"][0], abs=1e-5)
    assert "hinc:4" not in got and "const:4" not in got


def test_lambda_outside_unit_interval_is_a_warning(capsys):
    code, out, err = run(["choice", "--example", "--nest", "ac=air,car"], capsys)
    assert code == 0
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("softmaxkit choice: warning: lambda:ac = 1.683 outside (0, 1]")
    assert "lambda:ac" in out


def test_conf_level_and_no_intercept(tmp_path, capsys):
    out_csv = tmp_path / "coef.csv"
    code, out, err = run(["choice", "--example", "--conf-level", "0.9", "--no-intercept",
                          "--alternative-vars", "gc", "ttme", "-o", str(out_csv)], capsys)
    assert code == 0, err
    got = table(out_csv)
    assert list(got) == ["gc", "ttme"]
    coef, se, *_, lo, hi = got["ttme"]
    assert (lo, hi) == pytest.approx((coef - 1.6448536269514722 * se,
                                      coef + 1.6448536269514722 * se), rel=1e-9)
    assert "[0.05" in out and "0.95]" in out


def test_nest_type():
    assert nest(" ground = train, bus ,car") == ("ground", ("train", "bus", "car"))
    for bad in ("fly", "=air", "fly=", "fly=,"):
        with pytest.raises(Exception, match="expected NAME=ALT1,ALT2"):
            nest(bad)


# ----------------------------------------------------------------------- faults


def _faulty(travel: pd.DataFrame, fault: str) -> pd.DataFrame:
    data = travel.copy()
    if fault == "two-chosen":
        data.loc[5, "choice"] = 1          # group 2's train (file row 6) besides its car (row 8)
    elif fault == "choice-2":
        data.loc[5, "choice"] = 2
    elif fault == "not-a-number":
        data["gc"] = data["gc"].astype(object)
        data.loc[6, "gc"] = "abc"
    elif fault == "nan":
        data["gc"] = data["gc"].astype(float)
        data.loc[6, "gc"] = math.nan
    elif fault == "no-chosen":
        data.loc[3, "choice"] = 0
    elif fault == "duplicate":
        data.loc[1, "mode"] = "air"
    elif fault == "income-varies":
        data.loc[7, "hinc"] = 99
    elif fault == "missing-label":
        data["mode"] = data["mode"].astype(object)
        data.loc[7, "mode"] = None
    return data


FAULTS = {
    "two-chosen": ("row 8, column choice: group 2 has 2 chosen rows (rows 6, 8); each group "
                   "needs exactly one row with choice 1"),
    "choice-2": ("row 6, column choice: group 2: choice = 2.0 (column 'choice') is not 0 or 1; "
                 "the chosen alternative of each group has 1, the others 0"),
    "not-a-number": "row 7, column gc: 'abc' is not a number",
    "nan": ("row 7, column gc: group 2, column 'gc' is nan; every covariate must be finite "
            "(drop or impute missing values first)"),
    "no-chosen": ("row 1, column choice: group 1 has no chosen row (choice is 0 on all its 4 "
                  "rows: 1, 2, 3, 4); each group needs exactly one row with choice 1"),
    "duplicate": ("row 1, column mode: group 1 has 2 rows for alternative 'air' (rows 1, 2); "
                  "each alternative appears at most once per group"),
    "income-varies": ("row 8, column hinc: individual variable 'hinc' takes different values "
                      "within group 2 (30.0 at row 5, 99.0 at row 8); an individual variable "
                      "is constant within each group (one that varies by alternative belongs "
                      "in --alternative-vars)"),
    "missing-label": "row 8, column mode: missing alternative label; every record needs one",
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_bad_record_is_one_line_exit_2_nothing_written(fault, tmp_path, travel, capsys):
    path, out_csv = tmp_path / "trips.csv", tmp_path / "coef.csv"
    _faulty(travel, fault).to_csv(path, index=False, na_rep="nan" if fault == "nan" else "")
    code, out, err = run(["choice", str(path), *ARGS, "-o", str(out_csv)], capsys)
    assert code == 2
    assert out == ""
    assert err == f"softmaxkit: error: {path}: {FAULTS[fault]}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trips.csv"]  # no output, no temp


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--alternative-vars", "cost"],
         "column cost: no such column; columns are 'id', 'mode', 'choice', 'ttme', 'invc', "
         "'invt', 'gc', 'hinc', ... (9 in all)"),
        (["--group", "traveller"],
         "column traveller: no such column (--group); columns are 'id', 'mode', 'choice', "
         "'ttme', 'invc', 'invt', 'gc', 'hinc', 'psize'"),
        (["--base", "plane"],
         "column mode: --base 'plane' is not an alternative; the alternatives are "
         "[air, bus, car, train]"),
        (["--nest", "fly=plane"],
         "column mode: --nest fly: 'plane' is not an alternative; the alternatives are "
         "[air, bus, car, train]"),
        (["--nest", "a=air", "--nest", "a=bus"],
         "column mode: --nest 'a' is given twice; each nest once, with all its alternatives"),
        (["--nest", "a=air,train", "--nest", "b=train,bus"],
         "alternative 'train' is in two nests ('a' and 'b'); nests must not overlap"),
        (["--individual-vars", "gc"],
         "column gc: column 'gc' is given twice (as --alternative-vars and --individual-vars); "
         "a column has one role"),
    ],
    ids=["missing-variable", "missing-group", "base", "nest-member", "nest-twice",
         "nests-overlap", "two-roles"],
)
def test_bad_options_name_the_column(extra, message, tmp_path, travel, capsys):
    path, out_csv = tmp_path / "trips.csv", tmp_path / "coef.csv"
    travel.to_csv(path, index=False)
    code, _out, err = run(["choice", str(path), *ARGS, *extra, "-o", str(out_csv)], capsys)
    assert code == 2
    assert err == f"softmaxkit: error: {path}: {message}\n"
    assert not out_csv.exists()


def test_usage_errors(tmp_path, capsys):
    path = tmp_path / "trips.csv"
    path.write_text("id,alt,choice,x\n1,a,1,0\n1,b,0,1\n")
    cases = [
        (["choice"], "FILE (or --example)"),
        (["choice", str(path), "--example"], "give FILE or --example, not both"),
        (["choice", str(path)], "give --alternative-vars or --individual-vars (or both)"),
        (["choice", "--example", "--conf-level", "1"], "--conf-level must be in (0, 1)"),
        (["choice", "--example", "-o", str(tmp_path / "t.npy")], "use .csv or .parquet"),
        (["choice", "--example", "--nest", "fly"], "expected NAME=ALT1,ALT2"),
    ]
    for argv, words in cases:
        code, _out, err = run(argv, capsys)
        assert code == 2, argv
        assert words in err, (argv, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trips.csv"]


def test_output_over_input_is_refused(tmp_path, travel, capsys):
    path = tmp_path / "trips.csv"
    travel.to_csv(path, index=False)
    before = path.read_bytes()
    code, _, err = run(["choice", str(path), *ARGS, "-o", str(path)], capsys)
    assert code == 2
    assert "would replace the input" in err
    assert path.read_bytes() == before


def test_weights_column(tmp_path, travel, capsys):
    """Every group weighted 2: the same estimates, the log-likelihood doubled, the standard
    errors divided by sqrt(2) (the information doubles)."""
    path, out_csv = tmp_path / "weighted.csv", tmp_path / "coef.csv"
    travel.assign(w=2.0).to_csv(path, index=False)
    code, out, err = run(["choice", str(path), *ARGS, "--weights", "w", "-o", str(out_csv)],
                         capsys)
    assert code == 0, err
    got = table(out_csv)
    for name, (coef, se) in XLOGIT_CLOGIT.items():
        assert got[name][0] == pytest.approx(coef, rel=1e-6, abs=1e-8), name
        assert got[name][1] == pytest.approx(se / math.sqrt(2.0), rel=1e-6), name
    assert summary_value(out, "Log-likelihood:") == pytest.approx(2 * XLOGIT_CLOGIT_LLF,
                                                                  abs=5e-5)
