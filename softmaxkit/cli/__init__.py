"""The ``softmaxkit`` command: the softmax maps and the readings on CSV, Parquet and ``.npy`` files.

::

    softmaxkit COMMAND INPUT [-o OUTPUT] [options]      (softmaxkit COMMAND --help)

The commands are the modules of :data:`COMMANDS`, in the order of the help: each has
``NAMES`` (the commands it adds), ``TEXTS`` (their help, examples and hints, see
:class:`softmaxkit.cli._args.Text`), ``add_parsers(sub)`` and ``run(args, parser) -> int``.
They import their optional dependencies (pyarrow, rich, matplotlib, pandas, Dask) only when
they run, so building the parser stays cheap. The row-wise commands share their streaming
(``_stream``: blocks of ``--chunk-rows`` records, the progress bar, ``--engine``, atomic
output) and ``_dask`` (``--engine dask``); ``_args`` holds the argument types.

Files are streamed in blocks, so memory stays bounded for inputs larger than RAM. Output
files are written to a temporary file beside the target and renamed over it only when the
whole run succeeded; standard output (no ``-o``) is streamed as results come, so a failed run
may have written part of it.

Before a command runs, every output it names (``-o``, ``--plot``, ``--...-output``) is
checked: one that is the input file (by path, hard or symbolic link) or cannot be written
(its directory missing or read-only, a directory itself) is refused before anything is read
(:func:`softmaxkit.cli._stream.check_paths`). An error of :mod:`softmaxkit.io` is printed on
one line, with the advice the command's own options allow
(:func:`softmaxkit.cli._stream.explain`).

Exit status: 0 on success, 2 for a usage error, a missing, unreadable or truncated file, a
bad record (the message names the file, the 1-based data row and the column) or an output
that cannot be written; 1 for anything else (e.g. a missing optional dependency); 130 when
interrupted (Ctrl-C), 128 + n when ended by SIGTERM (143) or SIGHUP (129): the temporary
output is removed and one line says so.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from softmaxkit import __version__
from softmaxkit import io as sio
from softmaxkit.cli import (
    _stream,
    bayes,
    boltzmann,
    calibrate,
    choice,
    compositions,
    inverse,
    maps,
    mlogit,
    sparse,
)

__all__ = ["COMMANDS", "build_parser", "main"]

# Every command module, in the order of `softmaxkit --help`. A new command is added here.
COMMANDS = (maps, inverse, sparse, boltzmann, calibrate, compositions, mlogit, choice, bayes)


def _epilog() -> str:
    """The top-level epilog: each command's first example, then the formats."""
    examples = [m.TEXTS[name].examples[0] for m in COMMANDS for name in m.NAMES]
    return "\n".join(["examples:", *(f"  {e}" for e in examples), "", _stream.NOTES])


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``softmaxkit`` command."""
    return _build()[0]


def _build() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The parser, and each command's own parser by name (whose options the hints name)."""
    parser = argparse.ArgumentParser(
        prog="softmaxkit",
        description="Apply the softmax family to CSV, Parquet and .npy files, streaming.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_parsers(sub)
    return parser, dict(sub.choices)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 2 for usage errors and bad input, 1 otherwise; 130 if interrupted,
        128 + n if ended by signal n (SIGTERM, SIGHUP).
    """
    parser, commands = _build()
    command: argparse.ArgumentParser | None = None
    try:
        with _stream.signals():
            args = parser.parse_args(argv)
            command = commands.get(args.command)
            _stream.check_paths(args, command)
            return _run(args, parser)
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else 2
    except sio.InputError as exc:
        _stream.error(_stream.explain(exc, command))
        return 2
    except _stream.Terminated as exc:
        # The writer has removed its temporary file on the way out, as for Ctrl-C.
        _stream.error(f"terminated by {exc.name}")
        return 128 + exc.signum
    except ImportError as exc:
        _stream.error(str(exc))
        return 1
    except BrokenPipeError:
        # The reader of our standard output went away (e.g. `| head`): stop quietly.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 1
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _stream.error(f"{where}{exc.strerror or exc}")
        return 1
    except KeyboardInterrupt:
        # The writer has removed its temporary file on the way out (it is a context manager).
        _stream.error("interrupted")
        return 130


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Hand the parsed command to the module that added it."""
    for module in COMMANDS:
        if args.command in module.NAMES:
            return int(module.run(args, parser))
    raise AssertionError(f"no module runs {args.command!r}")  # argparse allows only these
