"""``--engine dask``: the command line's row-wise commands on a Dask cluster.

The input is read as a partitioned Dask DataFrame (a CSV or Parquet file, a directory of
them, or a glob), each partition is mapped by the same NumPy function the single-process
stream uses, and the result is written as a partitioned Parquet dataset: one file per input
partition, into a temporary directory beside the target that is renamed over it only when
every partition has been written. Dask does the scheduling, the retries of tasks lost with a
worker, and the progress bar; nothing here schedules on its own.

Because every record is mapped by the same function on the same values, the results are
bit-identical to the single-process command (the maps are batch-invariant: a record's
result does not depend on the records it is computed with).
"""

from __future__ import annotations

import contextlib
import functools
import glob
import logging
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from softmaxkit import io as sio

__all__ = [
    "NA_HINT",
    "OVERFLOW_HINT",
    "PartitionError",
    "client",
    "input_files",
    "map_rows",
    "read_frame",
    "require",
    "write_parquet",
]

RowFunction = Callable[[np.ndarray], np.ndarray]
# The advice for a missing value met by a worker (the local reader gives its own).
NA_HINT = "use --na nan or --na mask"
# The advice for a number beyond the float64 range met by a worker (the local reader's).
OVERFLOW_HINT = "use --allow-overflow to read it as an infinity"


class PartitionError(ValueError):
    """A bad record met by a worker, located by partition and row within the partition."""


def require() -> None:
    """Fail early, and say what to install, when Dask is missing."""
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"--engine dask needs dask[dataframe] and distributed ({exc}): "
            "pip install 'softmaxkit[dask]'"
        ) from None


class _DropPartitionErrors(logging.Filter):
    """Drop a worker's ``Compute Failed`` record (with its traceback) when the task raised
    our :class:`PartitionError`: that is a bad record, which the command reports in one line;
    every other failure is still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("Compute Failed"):
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        return not any(str(a).startswith(f"{PartitionError.__name__}(") for a in args)


def _quiet_partition_errors(logger: str = "distributed.worker") -> None:
    """Install :class:`_DropPartitionErrors` on ``logger`` (in this process), once."""
    log = logging.getLogger(logger)
    if not any(isinstance(f, _DropPartitionErrors) for f in log.filters):
        log.addFilter(_DropPartitionErrors())


def _worker_plugin() -> Any:
    """A worker plugin that quiets the bad-record logs in each worker process, including
    workers started (or restarted by their nanny) after it was registered."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class QuietPartitionErrors(WorkerPlugin):
        name = "softmaxkit-quiet-partition-errors"

        def setup(self, worker: Any) -> None:
            _quiet_partition_errors()

    return QuietPartitionErrors()


@contextlib.contextmanager
def client(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """A ``distributed.Client``: to ``scheduler`` if given, else to a new local cluster.

    The local cluster runs ``workers`` single-threaded worker processes (default: one per
    core), so the NumPy work of different partitions runs in parallel without sharing a GIL.
    Its workers do not log the bad records they meet (:class:`PartitionError`, reported by
    the command in one line); a cluster given by ``scheduler`` is left as it is configured.
    """
    require()
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as c:
            yield c
        return
    n = workers or max(1, os.cpu_count() or 1)
    with (
        LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as c,
    ):
        _quiet_partition_errors()  # threads of this process, should a task run here
        c.register_plugin(_worker_plugin())
        yield c


def input_files(path: str) -> tuple[list[str], sio.Format]:
    """The files of a dataset: one file, a directory of CSV or Parquet files, or a glob."""
    if any(c in path for c in "*?["):
        files = sorted(glob.glob(path))
        if not files:
            raise sio.MissingFileError(path, None, None, "no file matches this pattern")
    elif os.path.isdir(path):
        files = sorted(
            str(p)
            for p in Path(path).iterdir()
            if p.is_file() and not p.name.startswith((".", "_"))
        )
        if not files:
            raise sio.InputError(path, None, None, "the directory holds no data file")
    elif os.path.exists(path):
        files = [path]
    else:
        raise sio.MissingFileError(path, None, None, "no such file or directory")
    formats = {sio.file_format(f) for f in files}
    if len(formats) != 1:
        raise sio.InputError(path, None, None, f"mixed file formats {sorted(formats)}")
    fmt = formats.pop()
    if fmt == "npy":
        raise sio.InputError(
            path, None, None, "--engine dask reads CSV and Parquet datasets, not .npy"
        )
    return files, fmt


def read_frame(
    path: str, *, header: bool, delimiter: str, blocksize: str | int | None = "64MiB"
) -> Any:
    """The dataset as a Dask DataFrame: partitions of at most ``blocksize`` of CSV text,
    or the row groups of the Parquet files."""
    require()
    import dask.dataframe as dd

    files, fmt = input_files(path)
    if fmt == "parquet":
        # Row groups gathered up to ``blocksize`` a partition: a worker holds a few copies of
        # one partition (values, result, the frame written), so this bounds its memory.
        return dd.read_parquet(files, split_row_groups="adaptive", blocksize=blocksize)
    gz = any(f.endswith(".gz") for f in files)
    options = {
        "header": 0 if header else None,
        "sep": delimiter,
        "blocksize": None if gz else blocksize,
        "keep_default_na": False,
        "na_values": [""],
    }
    frame = dd.read_csv(files, assume_missing=True, **options)
    if not header:
        frame.columns = [str(i) for i in range(len(frame.columns))]
    # pandas reads '1e999' as inf, and the text is gone by then: map_rows rereads the text
    # of a partition in which it meets an infinity (rare), through this recipe.
    object.__setattr__(
        frame, "_softmaxkit_text", functools.partial(_text_partition, files, header, options)
    )
    return frame


def _text_partition(
    files: Sequence[str], header: bool, options: dict[str, Any], number: int
) -> Any:
    """Partition ``number`` of the CSV dataset as text (the partitions are byte ranges, the
    same as :func:`read_frame`'s whatever the dtype), read in the calling process."""
    import dask.dataframe as dd

    frame = dd.read_csv(list(files), dtype=str, **options)
    if not header:
        frame.columns = [str(i) for i in range(len(frame.columns))]
    return frame.get_partition(number).compute(scheduler="sync")


# The texts pandas reads as an infinity and that mean one (after blanks and one sign).
_INF_WORDS = frozenset({"inf", "infinity"})


def _overflow_text(text: Any) -> str | None:
    """``text`` stripped when it is a finite number too large for a float64, else None."""
    word = str(text).strip()
    bare = word.lower()
    bare = bare[1:] if bare[:1] in "+-" else bare
    return None if bare in _INF_WORDS else word


def _check_numeric(frame: Any, selected: Sequence[str], path: str) -> None:
    bad = [c for c in selected if frame[c].dtype.kind not in "fiub"]
    if bad:
        raise sio.InputError(
            path,
            None,
            bad[0],
            f"not numeric (read as {frame[bad[0]].dtype}); select number columns",
        )


def map_rows(
    frame: Any,
    *,
    path: str,
    selected: Sequence[str],
    out_names: Sequence[str],
    layout: Sequence[tuple[str, Any]],
    fn: RowFunction,
    na: str,
    overflow: str = "error",
) -> Any:
    """Map each partition's selected columns with ``fn``; lay out values and passthrough.

    ``overflow="error"`` (the default, as the single-process reader): a selected cell whose
    text is a finite number beyond the float64 range (``1e999``, which pandas reads as inf)
    is a bad record; ``"inf"`` (``--allow-overflow``) takes it as an infinity. ``inf`` and
    ``-inf`` written as such are always read.
    """
    import pandas as pd

    _check_numeric(frame, selected, path)
    text = getattr(frame, "_softmaxkit_text", None) if overflow == "error" else None

    def _check_overflow(values: np.ndarray, cells: Any, number: int) -> None:
        for r, c in np.argwhere(np.isinf(values)):  # row by row: the first bad record
            word = _overflow_text(cells[selected[c]].iloc[r])
            if word is not None:
                raise PartitionError(
                    f"{path}: partition {number}, row {r + 1}, column {selected[c]}: "
                    f"{word!r} is too large for a float64, whose largest value is 1.8e308 "
                    f"({OVERFLOW_HINT})"
                )

    meta = pd.DataFrame(
        {
            name: (pd.Series(dtype=np.float64) if kind == "value" else frame._meta[key])
            for name, (kind, key) in zip(out_names, layout, strict=True)
        }
    )

    def apply(part: Any, partition_info: dict[str, Any] | None = None) -> Any:
        number = (partition_info or {}).get("number", 0)
        values = part[list(selected)].to_numpy(dtype=np.float64, na_value=np.nan)
        if text is not None and np.isinf(values).any():
            _check_overflow(values, text(number), number)
        if na != "nan":
            missing = np.isnan(values)
            if missing.any():
                if na == "error":
                    r, c = np.argwhere(missing)[0]
                    raise PartitionError(
                        f"{path}: partition {number}, row {r + 1}, column {selected[c]}: "
                        f"missing or NaN value ({NA_HINT})"
                    )
                values[missing] = -np.inf
        try:
            result = fn(values)
        except sio.InputError as exc:  # located within the partition by the row function
            where = [f"partition {number}"]
            if exc.row is not None:
                where.append(f"row {exc.row}")
            if exc.column is not None:
                where.append(f"column {exc.column}")
            raise PartitionError(f"{path}: {', '.join(where)}: {exc.message}") from None
        cols = {}
        for name, (kind, key) in zip(out_names, layout, strict=True):
            cols[name] = result[:, key] if kind == "value" else part[key].to_numpy()
        return pd.DataFrame(cols, index=part.index)

    return frame.map_partitions(apply, meta=meta)


def _part_name(i: int) -> str:
    return f"part-{i:06d}.parquet"


def _temporary(target: Path, kind: str) -> Path:
    """A hidden directory beside ``target`` named as :mod:`softmaxkit.io` names its
    temporary files, ``.<target>.softmaxkit-<pid>-<random>.tmp`` (``kind`` starts the
    random part: ``old`` for the dataset being replaced), so that the leftovers of a run that
    was killed are recognised by :func:`softmaxkit.io.stale_temporary_files`."""
    random = f"{kind}{uuid.uuid4().hex[:12]}"
    return target.parent / f".{target.name}.softmaxkit-{os.getpid()}-{random}.tmp"


def _remove_stale(output: str) -> list[str]:
    """Remove the temporary directories that killed runs (their pid no longer runs) left
    beside ``output``; return them. Files of that name are the single-process writer's,
    which removes its own."""
    removed = []
    for path in sio.stale_temporary_files(output):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def write_parquet(result: Any, output: str, dask_client: Any, *, progress: bool) -> int:
    """Write ``result`` as a Parquet dataset at ``output`` atomically; return the row count.

    The parts go to a temporary directory beside ``output``; it replaces ``output`` (a
    previous dataset there is removed) only when all were written. On any failure the
    temporary directory is removed and nothing at ``output`` changes. The temporary
    directories of runs that were killed outright (SIGKILL), recognised by the pid in their
    name, are removed first.
    """
    target = Path(output)
    if target.exists() and not target.is_dir():
        raise sio.InputError(output, None, None, "exists and is not a directory")
    _remove_stale(output)
    tmp = _temporary(target, "")
    try:
        # Zero-padded part names: readers that sort file names keep the input's order.
        floats = {c for c, t in result.dtypes.items() if t.kind == "f"}
        write = result.to_parquet(
            str(tmp),
            write_index=False,
            compute=False,
            name_function=_part_name,
            use_dictionary=[c for c in result.columns if c not in floats],
        )
        rows = result.map_partitions(len).sum()
        futures = dask_client.compute([write, rows])
        if progress:
            from distributed import progress as show

            # Dask's text progress bar writes to standard output; ours goes to stderr.
            with contextlib.redirect_stdout(sys.stderr):
                show(futures, notebook=False)
        _, n = dask_client.gather(futures)
        old = None
        if target.exists():
            old = _temporary(target, "old")
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return int(n)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
