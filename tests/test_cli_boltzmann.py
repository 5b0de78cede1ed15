"""``softmaxkit boltzmann``: run in-process through ``softmaxkit.cli.main``."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.constants as C

from softmaxkit.cli import main

R_KCAL = C.k * C.N_A / 4184  # kcal/(mol K)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def by_hand(e: np.ndarray, t: float, g: np.ndarray | None = None) -> np.ndarray:
    """p ∝ g exp(-(E - E_min)/RT), E in kcal/mol, computed here independently."""
    w = np.exp(-(e - e.min()) / (R_KCAL * t)) * (1.0 if g is None else g)
    return w / w.sum()


def read(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(path.read_text())))
    return rows[0], rows[1:]


def states_file(tmp_path: Path) -> Path:
    path = tmp_path / "levels.csv"
    path.write_text("name,E,g\nanti,0.0,1\ngauche,0.6,2\neclipsed,3.5,1\n")
    return path


def test_example_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["boltzmann", "--example"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["state", "E", "(kcal/mol)", "p(298.15", "K)"]
    assert len(lines) == 14
    first = lines[1].split()
    assert first[0] == "A120" and float(first[2]) == pytest.approx(0.929966, abs=1e-6)


def test_output_file_with_degeneracies_matches_by_hand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, out = states_file(tmp_path), tmp_path / "p.csv"
    args = ["boltzmann", str(src), "--units", "kcal/mol", "--energy-column", "E"]
    code, _, err = run([*args, "--degeneracy-column", "g", "-T", "300", "-o", str(out)], capsys)
    assert code == 0 and "3 states" in err
    names, rows = read(out)
    assert names == ["name", "E", "g", "population"]
    assert [r[0] for r in rows] == ["anti", "gauche", "eclipsed"]
    got = np.array([float(r[3]) for r in rows])
    np.testing.assert_allclose(
        got, by_hand(np.array([0, 0.6, 3.5]), 300.0, np.array([1, 2, 1])), rtol=1e-14
    )


def test_scan_thermo_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, out, th, png = (
        states_file(tmp_path),
        tmp_path / "p.csv",
        tmp_path / "t.csv",
        tmp_path / "p.png",
    )
    code, stdout, _ = run(
        [
            "boltzmann",
            str(src),
            "--units",
            "kcal/mol",
            "--energy-column",
            "E",
            "--degeneracy-column",
            "g",
            "-T",
            "100:400:100",
            "--thermo",
            "--output-units",
            "K",
            "--thermo-output",
            str(th),
            "--plot",
            str(png),
            "-o",
            str(out),
        ],
        capsys,
    )
    assert code == 0
    names, rows = read(out)
    assert names[3:] == [f"population_{t}K" for t in (100, 200, 300, 400)]
    p400 = np.array([float(r[6]) for r in rows])
    np.testing.assert_allclose(
        p400, by_hand(np.array([0, 0.6, 3.5]), 400.0, np.array([1, 2, 1])), rtol=1e-14
    )
    t_names, t_rows = read(th)
    assert t_names == ["T (K)", "log Z", "F (K)", "U (K)", "S (k_B)", "Cv (k_B)"]
    assert [float(r[0]) for r in t_rows] == [100.0, 200.0, 300.0, 400.0]
    # S/k at 400 K against -Σ p log(p/g), by hand
    g = np.array([1.0, 2.0, 1.0])
    s_ref = -np.sum(p400 * np.log(p400 / g))
    assert float(t_rows[3][4]) == pytest.approx(s_ref, rel=1e-12)
    assert "Cv (k_B)" in stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_usage_and_input_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = states_file(tmp_path)
    code, _, err = run(["boltzmann", str(src), "--energy-column", "E"], capsys)
    assert code == 2 and "--units is required" in err
    code, _, err = run(["boltzmann", str(src), "--units", "kJ/mol"], capsys)
    assert code == 2 and "--energy-column" in err  # no column starts with 'energy'
    code, _, err = run(["boltzmann", "--example", "-T", "300:100:10"], capsys)
    assert code == 2 and "START <= STOP" in err
    code, _, err = run(["boltzmann", "--example", "-T", "-5"], capsys)
    assert code == 2 and ">= 0" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("energy,g\n0.0,1\n1.0,-2\n")
    code, _, err = run(["boltzmann", str(bad), "--units", "K", "--degeneracy-column", "g"], capsys)
    assert code == 2 and "row 2" in err and "column g" in err and "degeneracy" in err
    nan = tmp_path / "nan.csv"
    nan.write_text("energy\n0.0\nnan\n")
    code, _, err = run(["boltzmann", str(nan), "--units", "K"], capsys)
    assert code == 2 and "row 2" in err


def test_zero_temperature_ground_states_by_degeneracy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "deg.csv"
    src.write_text("energy,g\n1.0,1\n0.0,1\n0.0,3\n")
    code, out, _ = run(
        ["boltzmann", str(src), "--units", "eV", "--degeneracy-column", "g", "-T", "0", "--thermo"],
        capsys,
    )
    assert code == 0
    table = out.split("\n\n")[0].splitlines()[1:]
    assert [float(r.split()[-1]) for r in table] == [0.0, 0.25, 0.75]
    thermo = out.split("\n\n")[1].splitlines()[1].split()
    assert float(thermo[4]) == pytest.approx(C.k / C.e * math.log(4), rel=1e-9)  # S = k log 4
