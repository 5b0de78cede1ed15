"""Drawing of reliability diagrams (matplotlib); the public entry points are in calibration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from softmaxkit.calibration import ReliabilityTable

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
    >>> from softmaxkit.calibration import reliability_table
    >>> ax = draw_reliability(reliability_table([[0.9, 0.1], [0.4, 0.6]], [0, 0], n_bins=4))
    >>> [float(v) for v in ax.get_xlim()]
    [0.0, 1.0]
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the installation
        raise ImportError(
            "reliability diagrams need matplotlib: pip install softmaxkit[plot]"
        ) from None
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
