"""The ``softmaxkit boltzmann`` command: Boltzmann populations of the states listed in a file.

::

    softmaxkit boltzmann FILE --temperature 298.15 --units kcal/mol
                         [--energy-column C] [--degeneracy-column C] [--label-column C]
                         [--thermo] [--output-units U] [--thermo-output FILE]
                         [--plot out.png] [-o out.csv] [--example]

Each record of FILE is one state (a conformer, a level); the energy column holds its energy
in ``--units``. ``--temperature`` is one value, a comma list (``100,200,300``) or a scan
``START:STOP:STEP`` (STOP included). Standard output shows the populations (and with
``--thermo`` log Z, F, U, S and Cv per temperature) as aligned tables; ``-o`` writes the input
columns plus one population column per temperature (CSV, Parquet or .npy, written atomically),
``--thermo-output`` the thermodynamic table, ``--plot`` a figure (populations against
temperature for a scan, a bar chart for one temperature; needs matplotlib).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from softmaxkit import io as sio
from softmaxkit.boltzmann import populations, thermodynamics
from softmaxkit.cli._args import Text, add_command, kelvin
from softmaxkit.cli._stream import column_list, looks_numeric, text_table

__all__ = ["NAMES", "TEXTS", "add_parsers", "plot_populations", "run"]

NAMES = ("boltzmann",)

EXAMPLE = "dodecane_conformers.csv"
EXAMPLE_UNITS = "kcal/mol"
_UNIT_CHOICES = ("J", "J/mol", "kJ/mol", "kcal/mol", "eV", "hartree", "cm^-1", "cm-1", "K")

_MAX_SHOWN = 8

# The advice the command gives in its errors.
EXAMPLE_OR_FILE = "give FILE or --example, not both"
REQUIRED = "the following arguments are required: FILE (or --example)"
UNITS_REQUIRED = (
    "--units is required: the energies' unit (J, J/mol, kJ/mol, kcal/mol, eV, "
    "hartree, cm^-1, K); there is no safe default"
)
BAD_DELIMITER = "--delimiter must be one character (or 'tab'), got {text!r}"
BAD_PLOT = "--plot takes a .png, .pdf or .svg file name, got {name!r}"
SAME_COLUMN = "--degeneracy-column and the energy column are the same column"
NOT_ONE_COLUMN = "--{what}-column {spec!r} matches {n} columns; name exactly one"
WHICH_ENERGY = (
    "which column holds the energies? name it with --energy-column (columns: {columns})"
)

TEXTS = {
    "boltzmann": Text(
        "Boltzmann populations g exp(-E/kT) / Z of the states (records) of a file",
        "Each record is one state; populations are computed down the energy column, as "
        "softmax(-E/kT + log g).",
        examples=(
            "softmaxkit boltzmann --example",
            "softmaxkit boltzmann --example --temperature 100:1000:10 --plot populations.png",
            "softmaxkit boltzmann conformers.csv --units kJ/mol --energy-column dG -T 298.15 "
            "-o pops.csv",
            "softmaxkit boltzmann levels.csv --units cm^-1 --degeneracy-column g -T 10:300:10 "
            "--thermo",
        ),
        notes="The example is the ACONFL benchmark's 13 conformers of n-dodecane (kcal/mol); "
        "see\nsoftmaxkit/data/README.md for its source.\n",
        hints=(
            EXAMPLE_OR_FILE, REQUIRED, UNITS_REQUIRED, BAD_DELIMITER, BAD_PLOT, SAME_COLUMN,
            *(NOT_ONE_COLUMN.replace("{what}", w) for w in ("energy", "degeneracy", "label")),
            WHICH_ENERGY,
        ),
    ),
}


def add_parsers(sub: Any) -> None:
    """Add the ``boltzmann`` command (its own options: the states are records, not columns)."""
    p = add_command(sub, "boltzmann", TEXTS["boltzmann"])
    p.add_argument(
        "input",
        nargs="?",
        metavar="FILE",
        help="states, one per record (.csv, .csv.gz, .parquet, .pq, .npy)",
    )
    p.add_argument(
        "-T",
        "--temperature",
        type=kelvin,
        default=np.array([298.15]),
        metavar="T",
        help="kelvin: one value (default 298.15), a list 100,200 or a scan START:STOP:STEP",
    )
    p.add_argument(
        "--units",
        choices=_UNIT_CHOICES,
        default=None,
        help="unit of the energies (required, except with --example: kcal/mol)",
    )
    p.add_argument(
        "--output-units",
        choices=_UNIT_CHOICES,
        default=None,
        metavar="U",
        help="unit of F and U in the thermodynamic table (S, Cv in U/K; 'K' gives S/k and "
        "Cv/k); default --units",
    )
    p.add_argument(
        "--energy-column",
        metavar="C",
        help="column of energies (name or position); default the only column, or the first "
        "whose name starts with 'energy'",
    )
    p.add_argument("--degeneracy-column", metavar="C", help="column of degeneracies g >= 0")
    p.add_argument(
        "--label-column",
        metavar="C",
        help="column naming the states in tables and plots; default the first text column",
    )
    p.add_argument("--thermo", action="store_true", help="also show log Z, F, U, S, Cv")
    p.add_argument("--thermo-output", metavar="FILE", help="write the thermodynamic table to FILE")
    p.add_argument("--plot", metavar="PNG", help="write a figure (needs matplotlib)")
    p.add_argument(
        "-o",
        "--output",
        metavar="OUTPUT",
        help="write the input columns plus the populations (CSV, Parquet, .npy)",
    )
    p.add_argument(
        "--example",
        action="store_true",
        help="run on the shipped conformer energies of n-dodecane (kcal/mol)",
    )
    p.add_argument("--no-header", action="store_true", help="CSV input has no header row")
    p.add_argument(
        "--delimiter", default=",", metavar="D", help="CSV separator (','; 'tab' for a tab)"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")


def _column(reader_names: list[str], spec: str, path: str, what: str) -> str:
    positions = sio.select_columns(reader_names, [spec], file=path)
    if len(positions) != 1:
        message = NOT_ONE_COLUMN.format(what=what, spec=spec, n=len(positions))
        raise sio.InputError(path, None, None, message)
    return reader_names[positions[0]]


def _energy_column(names: list[str], path: str) -> str:
    if len(names) == 1:
        return names[0]
    for n in names:
        if n.lower().startswith("energy"):
            return n
    columns = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    raise sio.InputError(path, None, None, WHICH_ENERGY.format(columns=columns))


def _fmt_t(t: float) -> str:
    return f"{t:g}"


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run ``softmaxkit boltzmann``; returns the exit status."""
    path, units, delimiter = _inputs(args, parser)
    temps: np.ndarray = args.temperature
    states = _read_states(args, parser, path, delimiter)
    energies, degeneracies = states.energies, states.degeneracies
    labels = _labels(args.label_column, states.reader, states.blocks, path)
    pops = populations(energies, temps, units=units, degeneracies=degeneracies)  # (m, n)
    pop_names = ["population"] if len(temps) == 1 else [f"population_{_fmt_t(t)}K" for t in temps]

    thermo = None
    if args.thermo or args.thermo_output:
        thermo = thermodynamics(
            energies,
            temps,
            units=units,
            degeneracies=degeneracies,
            output_units=args.output_units,
        )

    if args.output not in (None, "-"):
        _write_populations(args.output, states, pops, pop_names, path, delimiter)
    else:
        _print_populations(labels, energies, degeneracies, temps, pops, units)
    if thermo is not None:
        _thermo_output(args, thermo, temps, delimiter)
    if args.plot:
        plot_populations(args.plot, labels, temps, pops, energies, units)
    if not args.quiet and (args.output not in (None, "-") or args.plot):
        where = ", ".join(x for x in (args.output, args.plot) if x not in (None, "-"))
        t_text = (
            f"T = {_fmt_t(temps[0])} K"
            if len(temps) == 1
            else f"{len(temps)} temperatures, {_fmt_t(temps[0])}-{_fmt_t(temps[-1])} K"
        )
        print(
            f"softmaxkit boltzmann: {len(energies)} states, {t_text} -> {where}",
            file=sys.stderr,
        )
    return 0


def _inputs(args: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[str, str, str]:
    """(the states' file, the energies' unit, the CSV delimiter), and the outputs checked
    before any work."""
    if args.example:
        if args.input is not None:
            parser.error(EXAMPLE_OR_FILE)
        path = str(sio.example_path(EXAMPLE))
        units = args.units or EXAMPLE_UNITS
    elif args.input is None:
        parser.error(REQUIRED)
    else:
        path = args.input
        units = args.units
        if units is None:
            parser.error(UNITS_REQUIRED)
    delimiter = "\t" if args.delimiter in ("tab", "\\t") else args.delimiter
    if len(delimiter) != 1:
        parser.error(BAD_DELIMITER.format(text=args.delimiter))
    for out in (args.output, args.thermo_output):
        if out not in (None, "-"):
            sio.file_format(out)  # an unknown extension fails before any work
    if args.plot and not args.plot.lower().endswith((".png", ".pdf", ".svg")):
        parser.error(BAD_PLOT.format(name=args.plot))
    return path, units, delimiter


@dataclass(frozen=True)
class _States:
    """The records of the file: read once, held (a file of states is small)."""

    reader: sio.Reader
    blocks: list[sio.Block]
    position: dict[str, int]  # selected column -> its index in Block.values
    energies: np.ndarray
    degeneracies: np.ndarray | None


def _read_states(
    args: argparse.Namespace, parser: argparse.ArgumentParser, path: str, delimiter: str
) -> _States:
    """The energy (and degeneracy) column chosen, read and checked."""
    probe = sio.open_reader(path, header=not args.no_header, delimiter=delimiter, columns=[])
    names = list(probe.names)
    e_col = (
        _column(names, args.energy_column, path, "energy")
        if args.energy_column
        else _energy_column(names, path)
    )
    g_col = (
        _column(names, args.degeneracy_column, path, "degeneracy")
        if args.degeneracy_column
        else None
    )
    if g_col == e_col:
        parser.error(SAME_COLUMN)
    selected = [e_col] if g_col is None else [e_col, g_col]
    reader = sio.open_reader(
        path,
        columns=selected,
        header=not args.no_header,
        delimiter=delimiter,
        passthrough=True,
    )
    blocks = list(reader)
    values = (
        np.concatenate([b.values for b in blocks])
        if blocks
        else np.empty((0, len(reader.selected)))
    )
    if values.shape[0] == 0:
        raise sio.InputError(path, None, None, "no records: there are no states to populate")
    pos = {n: k for k, n in enumerate(reader.selected)}
    energies = values[:, pos[e_col]]
    _check(path, e_col, energies, "energy")
    degeneracies = None
    if g_col is not None:
        degeneracies = values[:, pos[g_col]]
        _check(path, g_col, degeneracies, "degeneracy")
        if not (degeneracies > 0).any():
            raise sio.InputError(path, None, g_col, "every degeneracy is 0: no state exists")
    return _States(reader, blocks, pos, energies, degeneracies)


def _write_populations(
    output: str,
    states: _States,
    pops: np.ndarray,
    pop_names: list[str],
    path: str,
    delimiter: str,
) -> None:
    """The input columns, then one population column per temperature (atomic)."""
    out_names = [*states.reader.names]
    clash = [n for n in pop_names if n in out_names]
    if clash:
        raise sio.InputError(
            path,
            None,
            clash[0],
            "the output column would clash with this input column; rename it",
        )
    pos = states.position
    with sio.open_writer(output, [*out_names, *pop_names], delimiter=delimiter) as w:
        for b in states.blocks:
            cols: list[Any] = []
            for n in out_names:
                cols.append(b.values[:, pos[n]] if n in pos else b.passthrough[n])
            rows = slice(b.start, b.start + b.rows)
            cols.extend(np.ascontiguousarray(pops[k, rows]) for k in range(len(pop_names)))
            w.write(cols, b.start)


def _check(path: str, column: str, v: np.ndarray, what: str) -> None:
    """Energies: no NaN or -inf (+inf is a state never occupied); degeneracies: finite >= 0."""
    if what == "energy":
        bad = np.isnan(v) | (v == -np.inf)
        reason = "the energy is {v}; it must be a number or +inf (a state that is never occupied)"
    else:
        bad = ~(np.isfinite(v) & (v >= 0))
        reason = "the degeneracy is {v}; it must be finite and >= 0 (0 removes the state)"
    if bad.any():
        i = int(np.argmax(bad))
        raise sio.InputError(path, i + 1, column, reason.format(v=v[i]))


def _labels(spec: str | None, reader: sio.Reader, blocks: list[sio.Block], path: str) -> list[str]:
    n = sum(b.rows for b in blocks)
    if spec is not None:
        name = _column(reader.names, spec, path, "label")
    else:
        name = next(
            (c for c in reader.passthrough
             if blocks and not looks_numeric(blocks[0].passthrough[c])),
            None,
        )
    if name is None:
        return [f"state {i + 1}" for i in range(n)]
    if name in reader.selected:
        k = reader.selected.index(name)
        return [f"{v:g}" for b in blocks for v in b.values[:, k]]
    return [str(v) for b in blocks for v in column_list(b.passthrough[name])]


def _print_populations(
    labels: list[str],
    energies: np.ndarray,
    degeneracies: np.ndarray | None,
    temps: np.ndarray,
    pops: np.ndarray,
    units: str,
) -> None:
    header = ["state", f"E ({units})"]
    if degeneracies is not None:
        header.append("g")
    # A long scan is thinned to at most _MAX_SHOWN columns on the terminal (-o writes all).
    shown = list(range(len(temps)))
    if len(temps) > _MAX_SHOWN:
        step = math.ceil((len(temps) - 1) / (_MAX_SHOWN - 1))
        shown = sorted({*range(0, len(temps), step), len(temps) - 1})
    header += [f"p({_fmt_t(temps[k])} K)" for k in shown]
    rows = []
    for i, label in enumerate(labels):
        row = [label, f"{energies[i]:.6g}"]
        if degeneracies is not None:
            row.append(f"{degeneracies[i]:g}")
        row += [f"{pops[k, i]:.6g}" for k in shown]
        rows.append(row)
    print(text_table(header, rows))
    if len(shown) < len(temps):
        print(f"({len(shown)} of {len(temps)} temperatures shown; -o writes them all)")


def _thermo_columns(thermo: Any) -> tuple[list[str], list[np.ndarray]]:
    u = thermo.units
    per_k = "k_B" if u == "K" else f"{u}/K"
    names = ["T (K)", "log Z", f"F ({u})", f"U ({u})", f"S ({per_k})", f"Cv ({per_k})"]
    cols = [
        np.atleast_1d(np.asarray(getattr(thermo, a), dtype=np.float64))
        for a in ("temperature", "log_Z", "F", "U", "S", "Cv")
    ]
    return names, cols


def _thermo_output(args: argparse.Namespace, thermo: Any, temps: np.ndarray, delim: str) -> None:
    names, cols = _thermo_columns(thermo)
    if args.thermo_output:
        target = None if args.thermo_output == "-" else args.thermo_output
        with sio.open_writer(target, names, delimiter=delim) as w:
            w.write(cols, 0)
    if args.thermo:
        rows = [[f"{c[i]:.10g}" for c in cols] for i in range(len(temps))]
        # all rows: a thermodynamic scan is read down the page
        print()
        print(text_table(names, rows))


def plot_populations(
    path: str,
    labels: list[str],
    temps: np.ndarray,
    pops: np.ndarray,
    energies: np.ndarray,
    units: str,
) -> None:
    """Populations against temperature (a scan) or a bar chart (one temperature)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("--plot needs matplotlib: pip install softmaxkit[plot]") from exc

    order = np.argsort(energies, kind="stable")
    if len(temps) == 1:
        fig, ax = plt.subplots(figsize=(7.5, 0.8 + 0.28 * len(order)), layout="constrained")
        values = pops[0, order][::-1]
        ax.barh([labels[i] for i in order][::-1], values, color="tab:blue")
        for y, v in enumerate(values):
            ax.annotate(
                f"{v:.3g}",
                (v, y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize="small",
            )
        ax.set_xlabel(f"population at {_fmt_t(temps[0])} K")
        ax.set_xlim(0, 1.08)
        ax.set_title("Boltzmann populations")
    else:
        # Left: the composition (stacked, sums to 1); right: each population on a log
        # scale, where the minor states that the stack squeezes together stay readable.
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
        cmap = plt.get_cmap("viridis")
        n = len(order)
        colors = [cmap(rank / max(n - 1, 1)) for rank in range(n)]
        names = [f"{labels[i]} ({energies[i]:.4g})" for i in order]
        left.stackplot(
            temps, pops[:, order].T, colors=colors, labels=names, lw=0.3, edgecolor="white"
        )
        left.set_ylim(0, 1)
        left.set_ylabel("population (stacked)")
        left.set_title("Boltzmann populations")
        for rank, i in enumerate(order):
            right.plot(temps, pops[:, i], color=colors[rank], lw=1.6)
        right.set_yscale("log")
        floor = max(float(pops[:, order[-1]].min()), 1e-12)
        right.set_ylim(floor, 1.5)
        right.set_ylabel("population (log scale)")
        right.grid(alpha=0.3, which="both", lw=0.4)
        right.set_title("each state")
        for ax in (left, right):
            ax.set_xlabel("temperature (K)")
            ax.set_xlim(temps[0], temps[-1])
        fig.legend(
            *left.get_legend_handles_labels(),
            title=f"state (E, {units})",
            fontsize="small",
            title_fontsize="small",
            loc="outside right center",
            frameon=False,
        )
    fig.savefig(path, dpi=120)
    plt.close(fig)
