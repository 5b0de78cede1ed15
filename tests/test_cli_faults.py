"""Fault injection on the command line: damaged inputs, signals, outputs that would destroy the
input or cannot be written, numbers a float cannot hold, and hints that name only the
running command's options (issue 14, cases 1-4, 7 and 9).

Each fault must end in one line on stderr, a fixed exit status, and nothing left behind.
"""

from __future__ import annotations

import argparse
import gzip
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from softmaxkit import io as sio
from softmaxkit.cli import _stream, main

ROOT = Path(__file__).resolve().parents[1]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def logits_csv(path: Path, n: int = 50, k: int = 4, *, seed: int = 0) -> Path:
    """``x0..x{k-1}`` standard normal logits and an integer ``label``."""
    x = np.random.default_rng(seed).normal(size=(n, k))
    lines = [",".join([*(f"x{j}" for j in range(k)), "label"])]
    lines += [",".join([*map(repr, row.tolist()), str(i % k)]) for i, row in enumerate(x)]
    path.write_text("\n".join(lines) + "\n")
    return path


def leftovers(directory: Path) -> list[str]:
    """Temporary files of writers (``.<target>.softmaxkit-<pid>-<random>.tmp``)."""
    return sorted(p.name for p in directory.iterdir() if ".softmaxkit-" in p.name)


# --------------------------------------------------------------------------- case 1


@pytest.fixture(scope="module")
def truncated_gz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A gzip CSV cut in half: small, so that pyarrow meets the end in its first block (the
    case that used to abort the process with `terminate called`)."""
    directory = tmp_path_factory.mktemp("gz")
    x = np.random.default_rng(1).normal(size=(4000, 5))
    text = "a,b,c,d,e\n" + "\n".join(",".join(map(repr, r)) for r in x.tolist()) + "\n"
    data = gzip.compress(text.encode())
    path = directory / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    return path


def test_truncated_gzip_in_process_every_time(
    truncated_gz: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "p.csv"
    for _ in range(30):
        code, _, err = run(["softmax", str(truncated_gz), "-o", str(out)], capsys)
        assert code == 2
        assert err == (
            f"softmaxkit: error: {truncated_gz}: truncated or corrupt gzip data "
            "(Truncated compressed stream)\n"
        )
        assert list(tmp_path.iterdir()) == []


def test_truncated_gzip_as_processes_never_aborts(truncated_gz: Path, tmp_path: Path) -> None:
    # The abort came when the process exited with pyarrow's read-ahead thread still in a
    # Python file object: only a real process exit shows it. 8 processes at once, and one
    # that runs the command 30 times before it exits.
    loop = (
        "import sys\nfrom softmaxkit.cli import main\n"
        f"codes = {{main(['softmax', {str(truncated_gz)!r}, '-q']) for _ in range(30)}}\n"
        "sys.exit(0 if codes == {2} else 1)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "softmaxkit", "softmax", str(truncated_gz), "-o"]
    procs = [
        subprocess.Popen(
            [*cmd, str(tmp_path / f"o{i}.csv")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        for i in range(8)
    ]
    procs.append(
        subprocess.Popen(
            [sys.executable, "-c", loop],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
    )
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    for code, _, err in results[:-1]:
        assert code == 2, err
        assert err.count("\n") == 1 and f"{truncated_gz}: truncated or corrupt gzip" in err
    assert results[-1][0] == 0, results[-1][2][-2000:]
    assert "terminate called" not in "".join(err for _, _, err in results)
    assert list(tmp_path.iterdir()) == []


def test_truncated_gzip_python_engine(truncated_gz: Path) -> None:
    with pytest.raises(sio.InputError) as info:
        for _ in sio.open_reader(truncated_gz, engine="python"):
            pass
    assert info.value.reason == "read"
    assert str(info.value).startswith(f"{truncated_gz}: truncated or corrupt gzip data")


def test_parquet_read_error_mid_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "x.parquet"
    x = np.random.default_rng(2).normal(size=(100, 3))
    pq.write_table(pa.table({f"c{i}": x[:, i] for i in range(3)}), src, row_group_size=10)
    real = pq.ParquetFile.iter_batches

    def failing(self: pq.ParquetFile, *a: object, **kw: object) -> object:
        batches = real(self, *a, **kw)
        yield next(batches)
        raise OSError("Input/output error")

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", failing)
    out = tmp_path / "p.csv"
    code, _, err = run(["softmax", str(src), "-o", str(out), "--chunk-rows", "10"], capsys)
    assert code == 2
    assert err == (f"softmaxkit: error: {src}: cannot read the Parquet data (Input/output error)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.parquet"]


def test_truncated_npy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "x.npy"
    np.save(src, np.zeros((1000, 4)))
    src.write_bytes(src.read_bytes()[:5000])
    code, _, err = run(["softmax", str(src), "-o", str(tmp_path / "p.csv")], capsys)
    assert code == 2
    assert err.startswith(f"softmaxkit: error: {src}: not a readable .npy array (")
    assert err.count("\n") == 1


# --------------------------------------------------------------------------- case 2


_SOFTMAX = [sys.executable, "-m", "softmaxkit", "softmax"]
SIGNALS = (
    [(signal.SIGTERM, "SIGTERM"), (signal.SIGHUP, "SIGHUP")] if hasattr(signal, "SIGHUP") else []
)


def _start_and_signal(tmp_path: Path, signum: int) -> tuple[int, str]:
    """Run softmax on a file large enough to stream for a while; send ``signum`` as soon as
    the temporary output exists (the handlers are in place by then)."""
    src = tmp_path / "big.csv"
    if not src.exists():
        x = np.random.default_rng(3).normal(size=(100_000, 4))
        src.write_text("a,b,c,d\n" + "\n".join(",".join(map(repr, r)) for r in x.tolist()))
    proc = subprocess.Popen(
        [*_SOFTMAX, str(src), "-o", str(tmp_path / "out.csv"), "--chunk-rows", "7"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        text=True,
    )
    try:
        for _ in range(6000):  # up to a minute for the start (imports), polled
            if leftovers(tmp_path) or proc.poll() is not None:
                break
            time.sleep(0.01)
        assert leftovers(tmp_path), "the run never opened its output"
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


@pytest.mark.parametrize(("signum", "name"), SIGNALS)
def test_signal_mid_stream_leaves_nothing(tmp_path: Path, signum: int, name: str) -> None:
    code, err = _start_and_signal(tmp_path, signum)
    assert code == 128 + signum  # 143 for SIGTERM, 129 for SIGHUP
    assert err == f"softmaxkit: error: terminated by {name}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.csv"]


def test_handlers_restored_after_main(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = signal.getsignal(signal.SIGTERM)
    assert run(["softmax", str(logits_csv(tmp_path / "x.csv")), "-q"], capsys)[0] == 0
    assert signal.getsignal(signal.SIGTERM) is before


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporary_files_of_killed_runs_are_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = logits_csv(tmp_path / "x.csv")
    dead = tmp_path / f".p.csv.softmaxkit-{_dead_pid()}-k1ll3d.tmp"
    alive = tmp_path / f".p.csv.softmaxkit-{os.getpid()}-runn1n.tmp"  # a run in progress
    other = tmp_path / f".q.csv.softmaxkit-{_dead_pid()}-0ther.tmp"  # another target's
    for p in (dead, alive, other):
        p.write_text("partial")
    assert sio.stale_temporary_files(tmp_path / "p.csv") == [str(dead)]
    code, _, err = run(["softmax", str(src), "-o", str(tmp_path / "p.csv")], capsys)
    assert code == 0
    assert f"removed 1 temporary file of killed runs: {dead}" in err
    assert leftovers(tmp_path) == sorted([alive.name, other.name])


def test_sigkill_leaves_a_recognisable_file_the_next_run_removes(tmp_path: Path) -> None:
    src = tmp_path / "big.csv"
    x = np.random.default_rng(4).normal(size=(50_000, 4))
    src.write_text("a,b,c,d\n" + "\n".join(",".join(map(repr, r)) for r in x.tolist()))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "softmaxkit", "softmax", str(src), "-o", str(tmp_path / "o.csv")]
    proc = subprocess.Popen([*cmd, "--chunk-rows", "7"], env=env, stderr=subprocess.DEVNULL)
    for _ in range(6000):
        if leftovers(tmp_path) or proc.poll() is not None:
            break
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    (left,) = leftovers(tmp_path)
    assert left.startswith(f".o.csv.softmaxkit-{proc.pid}-") and left.endswith(".tmp")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert leftovers(tmp_path) == []
    assert "removed 1 temporary file of killed runs" in done.stderr


# --------------------------------------------------------------------------- case 3

SAME_FILE = "writing it would replace the input (give another output)"


@pytest.mark.parametrize(
    "command",
    [
        ["softmax"],
        ["log-softmax", "--columns", "x*"],
        ["clr", "--columns", "x*"],
        ["calibrate", "--labels", "label"],
        ["mlogit", "--target", "label"],
    ],
    ids=lambda c: c[0],
)
@pytest.mark.parametrize("via", ["path", "symlink", "hardlink", "dotted"])
def test_output_is_the_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], via: str
) -> None:
    src = logits_csv(tmp_path / "x.csv")
    before = src.read_bytes()
    out = {
        "path": src,
        "symlink": tmp_path / "link.csv",
        "hardlink": tmp_path / "hard.csv",
        "dotted": tmp_path / "." / "x.csv",
    }[via]
    if via == "symlink":
        out.symlink_to(src)
    elif via == "hardlink":
        os.link(src, out)
    code, stdout, err = run([command[0], str(src), *command[1:], "-o", str(out)], capsys)
    assert code == 2
    assert err == f"softmaxkit: error: {out}: -o is the input {src}; {SAME_FILE}\n"
    assert stdout == ""  # refused before any work: no report either
    assert src.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_boltzmann_thermo_output_is_the_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "e.csv"
    src.write_text("state,energy\nA,0\nB,1.5\n")
    code, _, err = run(
        ["boltzmann", str(src), "--units", "kJ/mol", "--thermo-output", str(src)], capsys
    )
    assert code == 2
    assert err == f"softmaxkit: error: {src}: --thermo-output is the input {src}; {SAME_FILE}\n"
    assert src.read_text() == "state,energy\nA,0\nB,1.5\n"


def test_dask_output_directory_holding_the_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    src = logits_csv(data / "x.csv")
    code, _, err = run(["softmax", str(data), "--engine", "dask", "-o", str(data)], capsys)
    assert code == 2
    assert err == f"softmaxkit: error: {data}: -o is the input {data}; {SAME_FILE}\n"
    code, _, err = run(
        ["softmax", str(data / "*.csv"), "--engine", "dask", "-o", str(data)], capsys
    )
    assert code == 2
    assert err == f"softmaxkit: error: {data}: -o holds the input {src}; {SAME_FILE}\n"
    assert sorted(p.name for p in data.iterdir()) == ["x.csv"]


# --------------------------------------------------------------------------- case 4


@pytest.mark.parametrize(
    "command",
    [
        ["softmax", "-o", "{out}"],
        ["inverse", "--normalize", "-o", "{out}"],
        ["calibrate", "--labels", "label", "-o", "{out}"],
        ["calibrate", "--labels", "label", "--plot", "{png}"],
        ["mlogit", "--target", "label", "-o", "{out}"],
        ["boltzmann", "--units", "kJ/mol", "--energy-column", "x0", "-o", "{out}"],
        ["boltzmann", "--units", "kJ/mol", "--energy-column", "x0", "--thermo-output", "{out}"],
    ],
    ids=lambda c: "-".join([c[0], c[-2].lstrip("-")]),
)
def test_output_directory_missing_before_any_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    # The input's last record is bad: an error about the output proves nothing was read.
    src = logits_csv(tmp_path / "x.csv", n=60)
    src.write_text(src.read_text() + "oops,1,2,3,0\n")
    out, png = tmp_path / "nodir" / "out.csv", tmp_path / "nodir" / "d.png"
    args = [a.format(out=out, png=png) for a in command]
    code, stdout, err = run([args[0], str(src), *args[1:]], capsys)
    assert code == 2
    target = png if "--plot" in command else out
    assert err == (f"softmaxkit: error: {target}: the directory '{target.parent}' does not exist\n")
    assert stdout == ""


def test_output_is_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = logits_csv(tmp_path / "x.csv")
    (tmp_path / "out.csv").mkdir()
    code, _, err = run(["softmax", str(src), "-o", str(tmp_path / "out.csv")], capsys)
    assert code == 2
    assert err == f"softmaxkit: error: {tmp_path / 'out.csv'}: is a directory; give a file name\n"
    code, _, err = run(["mlogit", str(src), "-y", "label", "-o", str(tmp_path)], capsys)
    assert code == 2
    assert err == f"softmaxkit: error: {tmp_path}: is a directory; give a file name\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_output_directory_not_writable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = logits_csv(tmp_path / "x.csv")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, _, err = run(["softmax", str(src), "-o", str(locked / "p.csv")], capsys)
    finally:
        locked.chmod(0o700)
    assert code == 2
    assert err == (
        f"softmaxkit: error: {locked / 'p.csv'}: the directory '{locked}' is not writable\n"
    )


def test_writer_names_the_users_path(tmp_path: Path) -> None:
    with pytest.raises(sio.InputError) as info:
        sio.open_writer(tmp_path / "nodir" / "p.csv", ["a"])
    assert str(info.value) == (
        f"{tmp_path / 'nodir' / 'p.csv'}: the directory '{tmp_path / 'nodir'}' does not exist"
    )
    assert info.value.reason == "output"


# --------------------------------------------------------------------------- case 9


@pytest.mark.parametrize("engine", ["pyarrow", "python"])
def test_overflow_is_a_bad_record(tmp_path: Path, engine: str) -> None:
    src = tmp_path / "x.csv"
    src.write_text("a,b\n1,-inf\n2,Infinity\n3, -1e999\n")
    with pytest.raises(sio.BadRecordError) as info:
        for _ in sio.open_reader(src, engine=engine):  # type: ignore[arg-type]
            pass
    assert str(info.value) == (
        f"{src}: row 3, column b: '-1e999' is too large for a float64, whose largest value "
        "is 1.8e308"
    )
    assert info.value.reason == "overflow"
    got = np.vstack([b.values for b in sio.open_reader(src, overflow="inf", engine=engine)])  # type: ignore[arg-type]
    np.testing.assert_array_equal(got, [[1, -np.inf], [2, np.inf], [3, -np.inf]])


def test_overflow_located_after_many_masked_batches(tmp_path: Path) -> None:
    # Many -inf entries (masked logits) over several pyarrow batches of 1 MiB: every one is
    # checked against its text, and the overflow far down is located exactly.
    n = 120_000
    rows = [f"{i % 7 - 3}.25,-inf,{i}" for i in range(n)]
    rows[100_000] = "1.5,1e400,100000"
    src = tmp_path / "m.csv"
    src.write_text("a,b,c\n" + "\n".join(rows) + "\n")
    with pytest.raises(sio.BadRecordError) as info:
        for _ in sio.open_reader(src, chunk_rows=5000):
            pass
    assert (info.value.row, info.value.column) == (100_001, "b")
    assert "'1e400' is too large" in info.value.message
    rows[100_000] = "1.5,-inf,100000"
    src.write_text("a,b,c\n" + "\n".join(rows) + "\n")
    got = np.vstack([b.values for b in sio.open_reader(src, chunk_rows=5000)])
    assert got.shape == (n, 3) and np.isneginf(got[:, 1]).all()


def test_overflow_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "x.csv"
    src.write_text("a,b\n1,2\n1e999,3\n")
    code, out, err = run(["softmax", str(src), "-o", str(tmp_path / "p.csv")], capsys)
    assert code == 2
    assert err == (
        f"softmaxkit: error: {src}: row 2, column a: '1e999' is too large for a float64, "
        "whose largest value is 1.8e308 (use --allow-overflow to read it as an infinity)\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv"]
    code, out, _ = run(["softmax", str(src), "--allow-overflow"], capsys)
    assert code == 0 and out.splitlines()[2] == "1,0"
    # a command without the option: the error, no hint
    code, _, err = run(["calibrate", str(src), "--labels", "b"], capsys)
    assert code == 2 and err.endswith("whose largest value is 1.8e308\n")


def test_semicolon_file_suggests_the_delimiter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "s.csv"
    src.write_text("a;b;c\n1;2;3\n")
    code, _, err = run(["softmax", str(src)], capsys)
    assert code == 2
    assert err == (
        f"softmaxkit: error: {src}: row 1, column a;b;c: '1;2;3' is not a number "
        "(the file looks ';'-separated: use --delimiter ';')\n"
    )
    code, _, err = run(["softmax", str(src), "--columns", "b"], capsys)
    assert code == 2
    assert err.endswith("(the file looks ';'-separated: use --delimiter ';')\n")
    assert run(["softmax", str(src), "--delimiter", ";"], capsys)[0] == 0
    tab = tmp_path / "t.csv"
    tab.write_text("a\tb\n1\t2\n")
    code, _, err = run(["clr", str(tab)], capsys)
    assert err.endswith("(the file looks tab-separated: use --delimiter tab)\n")


def test_directory_as_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "d.csv").mkdir()
    for command in (["softmax"], ["mlogit", "-y", "a"], ["calibrate", "--labels", "a"]):
        code, _, err = run([command[0], str(tmp_path / "d.csv"), *command[1:]], capsys)
        assert code == 2
        assert err == f"softmaxkit: error: {tmp_path / 'd.csv'}: is a directory, not a file\n"


# --------------------------------------------------------------------------- case 7 (io hints)


def test_missing_value_hint_names_the_commands_own_na(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "m.csv"
    src.write_text("a,b,label\n1,2,0\n3,,1\n")
    stem = f"softmaxkit: error: {src}: row 2, column b: missing value"
    assert run(["softmax", str(src)], capsys)[2] == (
        f"{stem} (use --na nan or --na mask to accept missing values)\n"
    )
    assert run(["mlogit", str(src), "-y", "label"], capsys)[2] == f"{stem} (use --na drop)\n"
    assert run(["calibrate", str(src), "--labels", "label"], capsys)[2] == f"{stem}\n"


def test_hints_follow_the_parsers_options() -> None:
    err = sio.BadRecordError("f.csv", 2, "b", "missing value", reason="missing")
    bare = argparse.ArgumentParser()
    assert _stream.explain(err, bare) == "f.csv: row 2, column b: missing value"
    bare.add_argument("--na", choices=("error", "mask"))
    assert _stream.explain(err, bare).endswith("(use --na mask to accept missing values)")
    text = sio.BadRecordError("o.npy", 1, "id", "'r0' is not a number", reason="text-output")
    assert _stream.explain(text, bare) == (
        "o.npy: row 1, column id: 'r0' is not a number (write CSV/Parquet)"
    )
    semi = sio.BadRecordError("s.csv", 1, "a;b", "x", reason="delimiter", detail=";")
    assert _stream.explain(semi, bare) == "s.csv: row 1, column a;b: x"
    # a row located within a block keeps its reason when moved to the file's numbering
    moved = err.shifted(40)
    assert (type(moved), moved.row, moved.reason) == (sio.BadRecordError, 42, "missing")


def test_io_messages_name_no_options(tmp_path: Path) -> None:
    src = tmp_path / "m.csv"
    src.write_text("a,b\n1,\n")
    with pytest.raises(sio.BadRecordError) as info:
        list(sio.open_reader(src))
    assert info.value.message == "missing value" and info.value.reason == "missing"
    assert "--" not in str(info.value)


def test_output_directory_removed_after_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A directory removed between the up-front check and the write still names the user's
    # path (not the temporary file), exit 2.
    src = logits_csv(tmp_path / "x.csv")
    gone = tmp_path / "gone"
    gone.mkdir()
    real = sio.open_writer

    def remove_then_open(*a: object, **kw: object) -> sio.Writer:
        shutil.rmtree(gone)
        return real(*a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(sio, "open_writer", remove_then_open)
    code, _, err = run(["softmax", str(src), "-o", str(gone / "p.csv")], capsys)
    assert code == 2
    assert err == f"softmaxkit: error: {gone / 'p.csv'}: the directory '{gone}' does not exist\n"


def test_replace_zeros_with_an_overflowing_total(tmp_path, capsys):
    # Issue 14 leftover: the row's sum overflowed and it was reported as "every part is 0".
    data = tmp_path / "big.csv"
    data.write_text("a,b,c\n1e308,1e308,1\n1,2,0\n")
    code, out, err = run(["ilr", str(data), "--replace-zeros"], capsys)
    assert code == 0, err
    rows = [line.split(",") for line in out.strip().splitlines()]
    assert rows[0] == ["ilr_1", "ilr_2"]
    assert float(rows[1][0]) == 0.0
    # ilr_2 of [1/2, 1/2, 5e-309]: sqrt(2/3) log(sqrt(1/4) / 5e-309)
    assert float(rows[1][1]) == pytest.approx(
        math.sqrt(2.0 / 3.0) * math.log(0.5 / 5e-309), rel=1e-12
    )
