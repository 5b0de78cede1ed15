"""Reliability diagrams (matplotlib, imported on first use): one model, or before and after
one or several calibration methods.

:func:`reliability_diagram` draws one :class:`~softmaxkit.calibration.metrics.ReliabilityTable`
(accuracy bars, the gap to the mean confidence, the diagonal, a counts panel below);
:func:`reliability_comparison` puts them side by side. Matplotlib is the optional extra
``softmaxkit[plot]``; importing this module does not import it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from softmaxkit._base.optional import require
from softmaxkit.calibration.metrics import ReliabilityTable, Strategy, reliability_table

__all__ = ["draw_reliability", "reliability_comparison", "reliability_diagram"]

_BAR = "#3b75af"
_GAP = "#d62728"


def _split(ax: Any) -> tuple[Any, Any]:
    """Replace ``ax`` by a diagram (3/4 of its height) and a counts panel below, sharing x.

    In a grid slot the two axes take the slot (so layout engines see them); an axes placed
    by hand is divided with ``axes_grid1`` instead.
    """
    spec = ax.get_subplotspec()
    if spec is None:
        from mpl_toolkits.axes_grid1 import make_axes_locatable

        below = make_axes_locatable(ax).append_axes("bottom", size="33%", pad=0.12, sharex=ax)
        return ax, below
    fig = ax.figure
    ax.remove()
    inner = spec.subgridspec(2, 1, height_ratios=[3, 1], hspace=0.04)
    top = fig.add_subplot(inner[0])
    below = fig.add_subplot(inner[1], sharex=top)
    return top, below


def draw_reliability(
    table: ReliabilityTable,
    ax: Any = None,
    *,
    title: str | None = None,
    counts: bool = True,
    legend: bool = True,
    counts_ax: Any = None,
) -> Any:
    """Draw ``table`` on ``ax`` (a new figure when None); return the diagram's axes.

    The counts panel goes on ``counts_ax`` when given, else ``ax``'s slot is split in two.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = draw_reliability(reliability_table([[0.9, 0.1], [0.4, 0.6]], [0, 0], n_bins=4))
    >>> [float(v) for v in ax.get_xlim()]
    [0.0, 1.0]
    """
    plt = require("matplotlib.pyplot", fn="reliability_diagram")
    below = None
    if ax is None:
        fig = plt.figure(figsize=(5.2, 6.4), layout="constrained")
        if counts:
            ax, below = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
        else:
            ax = fig.subplots()
    elif counts:
        ax, below = (ax, counts_ax) if counts_ax is not None else _split(ax)
    left = table.edges[:-1]
    width = np.diff(table.edges)
    full = table.counts > 0
    acc = np.where(full, table.accuracy, 0.0)
    conf = np.where(full, table.confidence, 0.0)
    ax.bar(
        left[full], acc[full], width=width[full], align="edge", color=_BAR, alpha=0.85,
        edgecolor="white", linewidth=0.8, label="accuracy",
    )
    # The gap box spans accuracy..confidence, so over- and under-confidence read alike.
    low = np.minimum(acc, conf)
    ax.bar(
        left[full], np.abs(conf - acc)[full], bottom=low[full], width=width[full],
        align="edge", color=_GAP, alpha=0.25, edgecolor=_GAP, linewidth=0.8, hatch="//",
        label="gap to mean confidence",
    )
    # A dark tick at each bin's mean confidence: the end of the gap that is not the bar.
    ax.hlines(
        conf[full], left[full], (left + width)[full], colors=_GAP, linewidth=1.6,
        label="mean confidence",
    )
    ax.plot([0, 1], [0, 1], linestyle="--", color="0.3", linewidth=1.2, label="perfect calibration")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_ylabel("accuracy")
    ax.grid(True, alpha=0.25)
    stats = f"ECE {table.ece():.4f} · MCE {table.ece(np.inf):.4f} · N {table.n}"
    ax.set_title(f"{title}\n{stats}" if title else stats, fontsize="medium")
    if legend:
        # Above the axes: inside, any corner can hide a bar.
        ax.legend(
            loc="lower left", bbox_to_anchor=(0.0, 1.12), ncol=2, fontsize="small",
            frameon=False, borderaxespad=0.0,
        )
    if not counts:
        ax.set_xlabel("confidence")
        return ax
    below.bar(
        left, table.counts, width=width, align="edge", color="0.55", edgecolor="white",
        linewidth=0.8,
    )
    if table.counts.max() > 0:
        below.set_yscale("log")
        below.set_ylim(0.7, table.counts.max() * 2.5)
    below.set_ylabel("count")
    below.set_xlabel("confidence")
    below.grid(True, alpha=0.25)
    ax.tick_params(labelbottom=False)
    ax.counts_ax = below
    return ax


def reliability_diagram(
    probs: Any,
    labels: Any,
    ax: Any = None,
    *,
    n_bins: int = 15,
    strategy: Strategy = "uniform",
    title: str | None = None,
    counts: bool = True,
    legend: bool = True,
) -> Any:
    """Reliability diagram: accuracy per confidence bin against the diagonal (matplotlib).

    Bars show each bin's accuracy; the hatched red boxes the gap to its mean confidence
    (above the bar: over-confident), ending at the bin's mean confidence (red tick); the dashed
    diagonal is perfect calibration; a panel below shows how many samples fall in each bin
    (log scale). ECE, MCE and N are written under the title. Needs matplotlib
    (``pip install softmaxkit[plot]``).

    Parameters
    ----------
    probs, labels, n_bins, strategy
        As for :func:`reliability_table`.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure. The counts panel is split off below it.
    title : str, optional
    counts : bool, default True
        Draw the counts panel.
    legend : bool, default True
        Draw the legend (above the diagram).

    Returns
    -------
    matplotlib.axes.Axes
        The diagram's axes (the counts panel is ``ax.counts_ax`` when drawn).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = reliability_diagram([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]], [0, 1, 1], n_bins=5)
    >>> ax.get_ylabel()
    'accuracy'
    """
    table = reliability_table(probs, labels, n_bins=n_bins, strategy=strategy)
    return draw_reliability(table, ax, title=title, counts=counts, legend=legend)


def reliability_comparison(
    probs_before: Any,
    probs_after: Any,
    labels: Any,
    *,
    logits: Any = None,
    n_bins: int = 15,
    strategy: Strategy = "uniform",
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
) -> Any:
    """Reliability diagrams side by side: before calibration, and after one or several methods.

    Parameters
    ----------
    probs_before : array_like, shape (N, K)
        Probabilities before calibration.
    probs_after : array_like, fitted calibrator, or a sequence or mapping of them
        The same samples after calibration: probabilities (N, K), or a *fitted* calibrator
        (anything with ``predict_proba``, e.g. :class:`TemperatureScaling`,
        :class:`DirichletCalibration`, :class:`IsotonicCalibration`), applied to ``logits``.
        Several methods: a list of them, or a mapping ``{title: probabilities or
        calibrator}``. One panel each, in order, after the "before" panel.
    labels, n_bins, strategy
        As for :func:`reliability_table`.
    logits : array_like, optional
        The logits of the N samples; needed when ``probs_after`` holds calibrators.
    titles : sequence of str, optional
        One per panel (the first is the "before" panel); default "before calibration" and
        "after calibration" for one method, the calibrator's class name (or the mapping's
        key) for several. Each title is followed by the panel's ECE, MCE and N.
    ncols : int, optional
        Panels per row (default all in one row); more panels wrap onto further rows.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If a calibrator is given without ``logits``, or ``titles`` has the wrong length.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig = reliability_comparison([[0.9, 0.1], [0.2, 0.8]], [[0.7, 0.3], [0.4, 0.6]], [0, 0])
    >>> len(fig.axes)
    4
    >>> from softmaxkit.calibration import HistogramBinning, TemperatureScaling
    >>> z = np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 0.5], [0.2, 0.0]])
    >>> y = [0, 0, 0, 1]
    >>> fitted = [TemperatureScaling().fit(z, y), HistogramBinning(2).fit(z, y)]
    >>> fig = reliability_comparison([[0.88, 0.12], [0.27, 0.73], [0.62, 0.38], [0.55, 0.45]],
    ...                              fitted, y, logits=z)
    >>> [ax.get_title().split("\\n")[0] for ax in fig.axes[:3]]     # the top row
    ['before calibration', 'TemperatureScaling', 'HistogramBinning']
    """
    plt = require("matplotlib.pyplot", fn="reliability_comparison")
    names, panels = _panels(probs_after, logits)
    if titles is None:
        if len(panels) == 1 and not isinstance(probs_after, Mapping):
            names = ["after calibration"]
        titles = ["before calibration", *names]
    titles = list(titles)
    if len(titles) != len(panels) + 1:
        raise ValueError(f"reliability_comparison: titles has {len(titles)} entries for "
                         f"{len(panels) + 1} panels (before, then one per method)")
    count = len(titles)
    if ncols is not None and (isinstance(ncols, bool) or not isinstance(ncols, int)
                              or ncols < 1):
        raise ValueError(f"reliability_comparison: ncols must be an integer >= 1, got {ncols!r}")
    cols = min(count, ncols or count)
    rows = -(-count // cols)
    width = 5.0 if cols <= 3 else 4.0
    fig = plt.figure(figsize=(width * cols, 6.6 * rows), layout="constrained")
    grid = fig.subplots(2 * rows, cols, sharex=True, height_ratios=[3, 1] * rows, squeeze=False)
    for i, pr, title in zip(range(count), [probs_before, *panels], titles, strict=True):
        r, c = divmod(i, cols)
        table = reliability_table(pr, labels, n_bins=n_bins, strategy=strategy)
        draw_reliability(table, grid[2 * r, c], title=title, legend=False,
                         counts_ax=grid[2 * r + 1, c])
    for i in range(count, rows * cols):  # the unused slots of the last row
        r, c = divmod(i, cols)
        grid[2 * r, c].set_visible(False)
        grid[2 * r + 1, c].set_visible(False)
    handles, names_ = grid[0, 0].get_legend_handles_labels()
    fig.legend(handles, names_, loc="outside lower center", ncol=4, frameon=False)
    return fig


def _panels(after: Any, logits: Any) -> tuple[list[str], list[Any]]:
    """(titles, probabilities) of the "after" panels: arrays as they are, fitted calibrators
    applied to ``logits``."""
    if isinstance(after, Mapping):
        items = list(after.items())
    elif hasattr(after, "predict_proba") or not isinstance(after, list | tuple):
        items = [(type(after).__name__, after)]
    elif all(hasattr(a, "predict_proba") for a in after):
        items = [(type(a).__name__, a) for a in after]
    else:  # a nested list of probabilities: one method
        items = [("after calibration", after)]
    names, out = [], []
    for name, item in items:
        if hasattr(item, "predict_proba"):
            if logits is None:
                raise ValueError(f"reliability_comparison: {name} is a calibrator; pass the "
                                 "logits of the samples (logits=...) to compute its "
                                 "probabilities")
            item = np.asarray(item.predict_proba(logits))
        names.append(str(name))
        out.append(item)
    return names, out
