"""Chunked readers and writers: formats, column selection, bad records, atomic writes."""

from __future__ import annotations

import csv
import gzip
import io
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from softmaxkit import io as sio
from softmaxkit.io import _writers as sio_writers  # where the CSV writer asks for pyarrow

ENGINES = ["pyarrow", "python"]

# Values whose text form is easy to get wrong: signed zero, subnormal, huge, extended reals.
AWKWARD = [0.1, -0.0, 5e-324, 1.7976931348623157e308, 1 / 3, -1e-300, np.inf, -np.inf, np.nan]


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def csv_text(names: list[str], rows: list[list[object]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(names)
    w.writerows(rows)
    return out.getvalue()


def values(reader: sio.Reader) -> np.ndarray:
    blocks = list(reader)
    if not blocks:
        return np.empty((0, len(reader.selected)))
    return np.vstack([b.values for b in blocks])


def assert_same_floats(a: np.ndarray, b: np.ndarray) -> None:
    """Bit-for-bit equal, NaN equal to NaN, -0.0 distinct from 0.0."""
    assert a.shape == b.shape
    assert a.dtype == b.dtype == np.float64
    np.testing.assert_array_equal(a.view(np.int64) == b.view(np.int64), True)


# --------------------------------------------------------------------------- columns


class TestSelectColumns:
    names = ("id", "logit_0", "logit_1", "logit_10", "label", "3")

    def test_all_by_default(self) -> None:
        assert sio.select_columns(self.names, None) == [0, 1, 2, 3, 4, 5]

    def test_glob_and_file_order(self) -> None:
        assert sio.select_columns(self.names, ["label", "logit_?"]) == [1, 2, 4]
        assert sio.select_columns(self.names, ["logit_*"]) == [1, 2, 3]
        assert sio.select_columns(self.names, ["logit_[01]"]) == [1, 2]

    def test_commas_positions_and_ranges(self) -> None:
        assert sio.select_columns(self.names, ["id,label"]) == [0, 4]
        assert sio.select_columns(self.names, ["1:3"]) == [1, 2]
        assert sio.select_columns(self.names, [":2", "-2"]) == [0, 1, 4]
        assert sio.select_columns(self.names, ["4:"]) == [4, 5]

    def test_exact_name_beats_position(self) -> None:
        # a header may name a column "3": the name wins over position 3 ("logit_10")
        assert sio.select_columns(self.names, ["3"]) == [5]

    def test_name_with_comma_is_exact(self) -> None:
        assert sio.select_columns(["a,b", "c"], ["a,b"]) == [0]

    @pytest.mark.parametrize(
        ("spec", "fragment"),
        [
            ("nope", "no such column"),
            ("x*", "no column matches"),
            ("17", "out of range"),
            ("5:5", "selects no column"),
        ],
    )
    def test_errors_name_the_spec(self, spec: str, fragment: str) -> None:
        with pytest.raises(sio.InputError) as info:
            sio.select_columns(self.names, [spec], file="f.csv")
        assert info.value.column == spec
        assert fragment in str(info.value)
        assert str(info.value).startswith(f"f.csv: column {spec}: ")


# --------------------------------------------------------------------------- CSV


@pytest.mark.parametrize("engine", ENGINES)
def test_csv_values_and_passthrough(tmp_path: Path, engine: str) -> None:
    path = write_text(
        tmp_path / "a.csv",
        'id,x,y,note\nr1,1.5,-2,"a, quoted ""cell"""\nr2,inf,nan,plain\n\nr3,-inf,1e-300,\n',
    )
    r = sio.open_reader(path, columns=["x", "y"], engine=engine)
    assert (r.selected, r.passthrough) == (["x", "y"], ["id", "note"])
    [block] = list(r)
    assert block.start == 0
    assert_same_floats(block.values, np.array([[1.5, -2.0], [np.inf, np.nan], [-np.inf, 1e-300]]))
    assert [str(v) for v in block.passthrough["note"]] == ['a, quoted "cell"', "plain", ""]
    assert [str(v) for v in block.passthrough["id"]] == ["r1", "r2", "r3"]


@pytest.mark.parametrize("engine", ENGINES)
def test_csv_chunk_boundaries(tmp_path: Path, engine: str, rng: np.random.Generator) -> None:
    x = rng.normal(size=(100, 4)) * 30
    path = write_text(
        tmp_path / "x.csv", csv_text(["a", "b", "c", "d"], [list(map(repr, r)) for r in x.tolist()])
    )
    blocks = list(sio.open_reader(path, chunk_rows=7, engine=engine))
    assert [b.start for b in blocks] == list(range(0, 100, 7))
    assert [b.rows for b in blocks] == [7] * 14 + [2]
    assert_same_floats(np.vstack([b.values for b in blocks]), x)


def test_csv_engines_agree_and_fall_back_exactly(tmp_path: Path) -> None:
    # pyarrow rejects "1_000" and "١٢" (Python's float accepts both): the reader must
    # continue with the csv module from exactly the first row of the rejected batch.
    rows = [[f"{i}.25", f"{-i}"] for i in range(100)]
    rows[60][1] = "1_000"
    rows[61][0] = "١٢"
    path = write_text(tmp_path / "x.csv", csv_text(["a", "b"], rows))
    expect = np.array([[i + 0.25, -i] for i in range(100)], dtype=np.float64)
    expect[60, 1], expect[61, 0] = 1000.0, 12.0
    for engine in ENGINES:
        blocks = list(sio.open_reader(path, chunk_rows=7, engine=engine))
        assert [b.start for b in blocks] == list(range(0, 100, 7))
        assert_same_floats(np.vstack([b.values for b in blocks]), expect)


def test_csv_no_header_and_delimiter(tmp_path: Path) -> None:
    path = write_text(tmp_path / "x.csv", "1;2;3\n4;5;6\n")
    r = sio.open_reader(path, header=False, delimiter=";", columns=["0:2"])
    assert r.names == ["0", "1", "2"] and not r.header
    assert_same_floats(values(r), np.array([[1.0, 2.0], [4.0, 5.0]]))


def test_csv_gzip(tmp_path: Path) -> None:
    path = tmp_path / "x.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("a,b\n1,2\n3,4\n")
    for engine in ENGINES:
        assert_same_floats(
            values(sio.open_reader(path, engine=engine)), np.array([[1.0, 2], [3, 4]])
        )


def test_csv_header_after_blank_lines(tmp_path: Path) -> None:
    # a header of numbers after a blank line must not be read as data by any engine
    path = write_text(tmp_path / "x.csv", "\n\n0,1\n5,6\n\n7,8\n")
    for engine in ENGINES:
        r = sio.open_reader(path, engine=engine)
        assert r.names == ["0", "1"]
        assert_same_floats(values(r), np.array([[5.0, 6.0], [7.0, 8.0]]))


def test_csv_bom_is_not_part_of_the_first_name(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xef\xbb\xbfa,b\n1,2\n")
    assert sio.open_reader(path).names == ["a", "b"]


def test_csv_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"a,b\n1,2\n3,4\n5,6\n"), encoding="utf-8")
    monkeypatch.setattr("sys.stdin", stdin)
    r = sio.open_reader("-", chunk_rows=2)
    assert r.path == "<stdin>" and not r.repeatable
    assert_same_floats(values(r), np.array([[1.0, 2], [3, 4], [5, 6]]))
    with pytest.raises(sio.InputError, match="only once"):
        list(r)


def test_default_chunk_rows_bounds_cells() -> None:
    assert sio.default_chunk_rows(10) == 65536
    assert sio.default_chunk_rows(1000) == 1048
    assert sio.default_chunk_rows(10**7) == 1


# --------------------------------------------------------------------------- bad records


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("body", "row", "column", "fragment"),
    [
        ("1,2,3\n4,abc,6\n", 2, "b", "'abc' is not a number"),
        ("1,2,3\n4,,6\n", 2, "b", "missing value"),
        ("1,2,3\n4,  ,6\n", 2, "b", "missing value"),
        ("1,2,3\n4,5\n", 2, "c", "expected 3 fields, found 2"),
        ("1,2,3\n4,5,6,7\n", 2, "(extra field 4)", "expected 3 fields, found 4"),
        # the earliest row is reported even when a later column fails in an earlier row
        ("1,2,3\n4,5,x\n7,y,9\n", 2, "c", "'x' is not a number"),
        # a bad cell before a ragged row is reported first
        ("1,z,3\n4,5\n", 1, "b", "'z' is not a number"),
    ],
)
def test_csv_bad_records(
    tmp_path: Path, engine: str, body: str, row: int, column: str, fragment: str
) -> None:
    path = write_text(tmp_path / "bad.csv", "a,b,c\n" + "\n".join(["0,0,0"] * 10) + "\n" + body)
    with pytest.raises(sio.BadRecordError) as info:
        values(sio.open_reader(path, engine=engine, chunk_rows=4))
    err = info.value
    assert (err.file, err.row, err.column) == (str(path), row + 10, column)
    assert fragment in err.message
    assert str(err).startswith(f"{path}: row {row + 10}, column {column}: ")


@pytest.mark.parametrize("engine", ENGINES)
def test_csv_missing_values_policy(tmp_path: Path, engine: str) -> None:
    path = write_text(tmp_path / "na.csv", "a,b\n1,\n,2\n")
    assert_same_floats(
        values(sio.open_reader(path, na="nan", engine=engine)),
        np.array([[1.0, np.nan], [np.nan, 2.0]]),
    )
    assert_same_floats(
        values(sio.open_reader(path, na="mask", engine=engine)),
        np.array([[1.0, -np.inf], [-np.inf, 2.0]]),
    )


def test_unselected_bad_cells_are_passed_through(tmp_path: Path) -> None:
    path = write_text(tmp_path / "x.csv", "a,name\n1,not a number\n2,\n")
    for engine in ENGINES:
        [block] = list(sio.open_reader(path, columns=["a"], engine=engine))
        assert [str(v) for v in block.passthrough["name"]] == ["not a number", ""]


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(sio.MissingFileError) as info:
        sio.open_reader(tmp_path / "absent.csv")
    assert str(info.value) == f"{tmp_path / 'absent.csv'}: no such file"
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(sio.InputError, match="unknown file type"):
        sio.open_reader(write_text(tmp_path / "x.txt", "a\n1\n"))
    with pytest.raises(sio.InputError, match="empty file"):
        sio.open_reader(write_text(tmp_path / "e.csv", ""))
    with pytest.raises(sio.InputError, match="appears twice"):
        sio.open_reader(write_text(tmp_path / "d.csv", "a,b,a\n1,2,3\n"))
    np.save(tmp_path / "v.npy", np.zeros(3))
    with pytest.raises(sio.InputError, match="expected a 2-D array"):
        sio.open_reader(tmp_path / "v.npy")
    np.save(tmp_path / "s.npy", np.array([["a"]]))
    with pytest.raises(sio.InputError, match="not a real number type"):
        sio.open_reader(tmp_path / "s.npy")
    with pytest.raises(ValueError, match="chunk_rows"):
        sio.open_reader(write_text(tmp_path / "ok.csv", "a\n1\n"), chunk_rows=0)


# --------------------------------------------------------------------------- Parquet


def test_parquet_reader(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": pa.array(["a", "b", "c", "d", "e"]),
            "x": pa.array([1.0, 2.0, None, 4.0, 5.0]),
            "k": pa.array([1, 2, 3, 4, 5], pa.int32()),
            "s": pa.array(["1.5", "2", "3", "x", "5"]),
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path, row_group_size=2)
    r = sio.open_reader(path, columns=["k"], chunk_rows=3)
    assert r.num_rows == 5 and r.passthrough == ["id", "x", "s"]
    blocks = list(r)
    assert all(b.rows <= 3 for b in blocks)
    assert_same_floats(np.concatenate([b.values[:, 0] for b in blocks]), np.arange(1.0, 6.0))
    assert pa.concat_arrays([b.passthrough["id"] for b in blocks]).to_pylist() == list("abcde")

    with pytest.raises(sio.BadRecordError) as info:
        values(sio.open_reader(path, columns=["x"]))
    assert (info.value.row, info.value.column) == (3, "x")
    assert "missing value" in info.value.message
    got = values(sio.open_reader(path, columns=["x"], na="mask"))[:, 0]
    assert_same_floats(got, np.array([1.0, 2.0, -np.inf, 4.0, 5.0]))
    with pytest.raises(sio.BadRecordError) as info:
        values(sio.open_reader(path, columns=["s"]))
    assert (info.value.row, info.value.column) == (4, "s")
    with pytest.raises(sio.InputError, match="not a readable Parquet"):
        sio.open_reader(write_text(tmp_path / "fake.parquet", "not parquet"))


# --------------------------------------------------------------------------- .npy


def test_npy_reader_is_memory_mapped_and_chunked(tmp_path: Path) -> None:
    x = np.arange(60, dtype=np.int16).reshape(20, 3)
    np.save(tmp_path / "x.npy", x)
    r = sio.open_reader(tmp_path / "x.npy", columns=["0", "2"], chunk_rows=6)
    assert isinstance(r._arr, np.memmap)  # type: ignore[attr-defined]
    assert r.names == ["0", "1", "2"] and r.passthrough == ["1"]
    blocks = list(r)
    assert [b.start for b in blocks] == [0, 6, 12, 18]
    assert_same_floats(np.vstack([b.values for b in blocks]), x[:, [0, 2]].astype(np.float64))
    column_1 = np.concatenate([b.passthrough["1"] for b in blocks])
    assert column_1.dtype == np.int16
    np.testing.assert_array_equal(column_1, x[:, 1])


# --------------------------------------------------------------------------- writers


def read_back(path: Path) -> tuple[list[str], np.ndarray]:
    r = sio.open_reader(path)
    return r.names, values(r)


@pytest.mark.parametrize(
    ("name", "arrow_text"),
    [
        ("o.csv", True),
        ("o.csv.gz", True),
        ("o.parquet", True),
        ("o.npy", True),
        ("o.csv", False),  # CSV text made by the csv module, not pyarrow
        ("o.csv.gz", False),
    ],
)
def test_round_trip_is_exact(
    tmp_path: Path, name: str, arrow_text: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not arrow_text:
        monkeypatch.setattr(sio_writers, "_have_pyarrow", lambda: False)
    x = np.array(AWKWARD).reshape(3, 3)
    out = tmp_path / name
    with sio.open_writer(out, ["a", "b", "c"]) as w:
        w.write([x[:2, 0], x[:2, 1], x[:2, 2]])
        w.write([x[2:, 0], x[2:, 1], x[2:, 2]])
    assert w.rows == 3
    names, got = read_back(out)
    assert names == (["0", "1", "2"] if name.endswith(".npy") else ["a", "b", "c"])
    assert_same_floats(got, x)
    if name.endswith(".npy"):
        assert_same_floats(np.load(out), x)


@pytest.mark.parametrize("arrow_text", [True, False])
def test_csv_writer_quotes_text_like_the_csv_module(
    tmp_path: Path, arrow_text: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not arrow_text:
        monkeypatch.setattr(sio_writers, "_have_pyarrow", lambda: False)
    notes = ["plain", 'say "hi"', "a,b", "two\nlines", ""]
    out = tmp_path / "o.csv"
    with sio.open_writer(out, ["p", "note"]) as w:
        w.write([np.array([0.5, 1.0, 2.0, 0.0, -1.0]), notes])
    with out.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["p", "note"]
    assert [r[1] for r in rows[1:]] == notes
    assert [float(r[0]) for r in rows[1:]] == [0.5, 1.0, 2.0, 0.0, -1.0]


def test_writer_to_stream_without_buffer() -> None:
    stream = io.StringIO()
    with sio.open_writer(None, ["a"], stream=stream) as w:
        w.write([np.array([0.25, 0.75])])
    assert stream.getvalue().splitlines() == ["a", "0.25", "0.75"]


def test_writer_is_atomic(tmp_path: Path) -> None:
    out = tmp_path / "o.parquet"
    out.write_text("previous contents")
    with pytest.raises(RuntimeError, match="boom"), sio.open_writer(out, ["a"]) as w:
        w.write([np.arange(3.0)])
        assert len(os.listdir(tmp_path)) == 2  # the target and one temporary file
        raise RuntimeError("boom")
    assert out.read_text() == "previous contents"
    assert os.listdir(tmp_path) == ["o.parquet"]
    with sio.open_writer(out, ["a"]) as w:
        w.write([np.arange(3.0)])
    assert os.listdir(tmp_path) == ["o.parquet"]
    assert pq.read_table(out).column("a").to_pylist() == [0.0, 1.0, 2.0]
    # a new file gets the usual permissions, not the temporary file's 0600
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_npy_writer_rejects_text_naming_row_and_column(tmp_path: Path) -> None:
    out = tmp_path / "o.npy"
    with pytest.raises(sio.BadRecordError) as info, sio.open_writer(out, ["p", "id"]) as w:
        w.write([np.array([0.5, 0.5]), ["7", "seven"]], start=10)
    assert (info.value.row, info.value.column) == (12, "id")
    assert "numbers only" in info.value.message
    assert os.listdir(tmp_path) == []


def test_empty_outputs_are_valid(tmp_path: Path) -> None:
    for name in ["e.csv", "e.parquet", "e.npy"]:
        with sio.open_writer(tmp_path / name, ["a", "b"]):
            pass
        names, got = read_back(tmp_path / name)
        assert got.shape == (0, 2)
        assert names == (["0", "1"] if name.endswith(".npy") else ["a", "b"])
    assert (tmp_path / "e.csv").read_text() == "a,b\n"


# --------------------------------------------------------------------------- example data


def test_example_data_is_real_overconfident_logits() -> None:
    path = sio.example_path()
    assert path.name == "digits_logits.csv" and path.stat().st_size < 200_000
    logits, labels = sio.load_example()
    assert logits.shape == (899, 10) and labels.shape == (899,)
    np.testing.assert_array_equal(np.bincount(labels), [89, 91, 88, 92, 91, 91, 91, 89, 87, 90])
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    accuracy = np.mean(p.argmax(axis=1) == labels)
    confidence = p.max(axis=1).mean()
    assert accuracy == pytest.approx(0.96997, abs=1e-5)  # 872 of 899 right
    assert confidence == pytest.approx(0.99036, abs=1e-5)
    assert confidence > accuracy + 0.015  # over-confident: what temperature scaling fixes
    with pytest.raises(FileNotFoundError, match="shipped"):
        sio.example_path("nope.csv")
