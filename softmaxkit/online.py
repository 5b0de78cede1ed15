"""Softmax's streaming cousin: the online normaliser for data that arrive in blocks.

:class:`OnlineLogSumExp` carries, per row, the running maximum ``m`` and the sum of the other
terms relative to it, ``s = Σ exp((x − m)/T) − 1``, as the algorithm of Milakov & Gimelshein
("Online normalizer calculation for softmax", arXiv:1805.02867, 2018) does: when a block
raises the maximum, the sum so far is rescaled by ``exp((m_old − m_new)/T)``. The final
normaliser is ``m + T·log1p(s)`` — the form :func:`~softmaxkit.logsumexp` uses on the whole
row — and any block's :meth:`~OnlineLogSumExp.softmax` or
:meth:`~OnlineLogSumExp.log_softmax` is taken against it.

Accuracy: each block is analysed by the maps' kernel (``x − m`` split exactly by TwoSum,
division by T in double-word arithmetic, so ``exp`` sees its argument to twice the working
precision); the rescaling factor is computed the same way, and ``s`` is carried as a double
word ``s_hi + s_lo`` updated by TwoSum. The states of two streams merge with the same rule.
"""

from __future__ import annotations

import math
from typing import Any

from softmaxkit._base.arrays import device_of
from softmaxkit._base.core import (
    Setup,
    Temperature,
    finish,
    full_like_scalar,
    quiet,
    setup,
)
from softmaxkit._base.kernel import analyse, divide_dw

__all__ = ["OnlineLogSumExp"]

Array = Any


def _two_sum(a: Array, b: Array) -> tuple[Array, Array]:
    """Knuth's TwoSum: ``a + b = s + e`` exactly."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


class OnlineLogSumExp:
    r"""Streaming ``logsumexp`` along one axis, block by block (the online normaliser).

    .. math:: \mathrm{LSE}_T = m + T \log\!\Big(1 + s\Big), \qquad
              s = \sum_i e^{(x_i - m)/T} - 1, \quad m = \max_i x_i,

    accumulated over blocks: a block with maximum :math:`m_b` and sum :math:`s_b` joins the
    state :math:`(m, s)` as :math:`M = \max(m, m_b)`,
    :math:`s \leftarrow s_{\text{big}} + e^{(m_{\text{small}} - M)/T}(1 + s_{\text{small}})`
    (Milakov & Gimelshein 2018).

    Parameters
    ----------
    axis : int, default -1
        The streamed axis: blocks are concatenated along it. Every block must have the same
        shape on the other axes (the rows).
    temperature : float or array, default 1.0
        T ≥ 0 as for :func:`~softmaxkit.logsumexp` (an array must broadcast against a block
        with ``axis`` of length 1). T = 0 gives the maximum, T = inf the limit of
        ``logsumexp`` (+inf for two or more admissible entries).
    dtype : dtype, optional
        Output dtype (default: the first block's floating dtype).

    Attributes
    ----------
    value : array
        The normaliser of everything seen so far (rows' shape: a block's without ``axis``).
    count : array
        Admissible (finite, not masked) entries seen per row.

    Notes
    -----
    Edge rows as :func:`~softmaxkit.logsumexp`: a row that has seen only −inf, masked or
    no entries gives −inf (its softmax zeros); a +inf entry makes the value +inf and the
    softmax shares the mass among the +inf entries of all blocks; a NaN makes its row NaN.
    Empty blocks (length 0 along ``axis``) change nothing. Rows are independent (batch
    invariant), and the result does not depend on how the row was cut into blocks beyond
    rounding: within 2 ulp of the scale ``max(|value|, |max|)`` of the whole-row
    :func:`~softmaxkit.logsumexp` in tests. In the worst case — a maximum that rises at
    every block by less than T — each rise adds up to one rounding of ``exp`` to the part of
    the sum seen before it. float16/bfloat16 (and, for NumPy, float32) are accumulated in a
    wider dtype as by the maps.

    Examples
    --------
    >>> import numpy as np
    >>> from softmaxkit import OnlineLogSumExp, logsumexp
    >>> x = np.array([[1.0, 2.0, 3.0, 4.0, 5.0], [0.0, -np.inf, 7.0, 1.0, 2.0]])
    >>> lse = OnlineLogSumExp().update(x[:, :2]).update(x[:, 2:])
    >>> lse.value
    array([5.4519144 , 7.01007763])
    >>> logsumexp(x)
    array([5.4519144 , 7.01007763])
    >>> lse.softmax(x[:, 2:])
    array([[0.08612854, 0.23412166, 0.63640865],
           [0.98997298, 0.0024539 , 0.00667039]])
    >>> lse.log_softmax(x[:, :2])
    array([[-4.4519144 , -3.4519144 ],
           [-7.01007763,        -inf]])
    """

    def __init__(self, *, axis: int = -1, temperature: Any = 1.0, dtype: Any = None) -> None:
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"OnlineLogSumExp: axis must be one integer, got {axis!r}")
        self.axis = axis
        self.temperature = temperature
        self.dtype = dtype
        self._state: dict[str, Any] | None = None
        self._xp: Any = None
        self._ax = 0
        self._temp = Temperature("one")
        self._rows: tuple[int, ...] = ()
        self._compute: Any = None
        self._out: Any = None

    # ----------------------------------------------------------------------------------------

    def _setup(self, block: Any, where: Any, fn: str) -> Setup:
        prep = setup(f"OnlineLogSumExp.{fn}", block, axis=self.axis,
                     temperature=self.temperature, where=where, dtype=self.dtype,
                     name="block", along="blocks are concatenated along it")
        ax = prep.axes[0]
        rows = tuple(d for i, d in enumerate(prep.shape) if i != ax)
        if self._xp is None:
            self._xp, self._ax, self._rows = prep.xp, ax, rows
            self._compute, self._out, self._temp = prep.compute_dtype, prep.out_dtype, prep.temp
        elif rows != self._rows or ax != self._ax or prep.raw.ndim != len(rows) + 1:
            raise ValueError(
                f"OnlineLogSumExp.{fn}: block of shape {prep.shape} does not match the "
                f"stream's rows {self._rows} (every block has the same shape except along "
                f"axis {self.axis})"
            )
        elif prep.xp is not self._xp:
            raise TypeError(f"OnlineLogSumExp.{fn}: every block must be of the same array "
                            "library")
        return prep

    def _block_state(self, prep: Setup) -> dict[str, Any]:
        """(m, s_hi, s_lo, count, n_pinf, nan, k) of one block, kept dims along the axis."""
        xp, ax = prep.xp, (prep.axes[0],)
        x = prep.x
        ninf = full_like_scalar(xp, x, -math.inf)
        if prep.mask is not None:
            x = xp.where(prep.mask, x, ninf)
        nan = xp.any(xp.isnan(x), axis=ax, keepdims=True)
        pinf = x == math.inf
        n_pinf = xp.sum(xp.astype(pinf, x.dtype), axis=ax, keepdims=True)
        finite = xp.isfinite(x)
        count = xp.sum(xp.astype(finite, x.dtype), axis=ax, keepdims=True)
        xf = xp.where(finite, x, ninf)  # the finite part; NaN and +inf are flags
        parts = analyse(xp, xf, ax, None, self._parts_temperature())
        zero = xp.zeros_like(parts.s)
        empty = parts.m == -math.inf
        s = xp.where(empty, zero - 1.0, parts.s)  # no term at all: Σ e = 0
        return {"m": parts.m, "hi": s, "lo": zero, "count": count, "n_pinf": n_pinf,
                "nan": nan, "k": xp.where(empty, zero, parts.k)}

    def _parts_temperature(self) -> Temperature:
        # T = 0 and T = inf use only the maximum and the counts: analyse at T = 1.
        return self._temp if self._temp.kind in ("scalar", "array") else Temperature("one")

    def _scale(self, xp: Any, d_hi: Array, d_lo: Array) -> Array:
        """exp((d_hi + d_lo)/T) for d ≤ 0, with the division in double-word arithmetic."""
        temp = self._temp
        if temp.kind == "scalar":
            q, r = divide_dw(xp, d_hi, d_lo, float(temp.value))
        elif temp.kind == "array":
            t = temp.value
            t_safe = xp.where((t == 0) | xp.isinf(t), full_like_scalar(xp, t, 1.0), t)
            q, r = divide_dw(xp, d_hi, d_lo, t_safe)
        else:
            q, r = d_hi, d_lo
        return xp.exp(q) * (1.0 + r)

    def _merge(self, a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        xp = self._xp
        a_big = a["m"] >= b["m"]
        m = xp.where(a_big, a["m"], b["m"])
        small_m = xp.where(a_big, b["m"], a["m"])
        zero = xp.zeros_like(m)
        finite = xp.isfinite(m) & xp.isfinite(small_m)
        m0 = xp.where(finite, m, zero)
        sm0 = xp.where(finite, small_m, zero)
        d_hi, d_lo = _two_sum(sm0, -m0)  # m_small − M ≤ 0, exactly
        e = xp.where(finite, self._scale(xp, d_hi, d_lo), zero)
        big_hi = xp.where(a_big, a["hi"], b["hi"])
        big_lo = xp.where(a_big, a["lo"], b["lo"])
        sm_hi = xp.where(a_big, b["hi"], a["hi"])
        sm_lo = xp.where(a_big, b["lo"], a["lo"])
        # s = s_big + e(1 + s_small): add e, e·s_hi, e·s_lo with TwoSum, keeping the errors.
        hi, err = _two_sum(big_hi, e)
        lo = big_lo + err
        hi, err = _two_sum(hi, e * sm_hi)
        lo = lo + err + e * sm_lo
        hi, lo = _two_sum(hi, lo)
        # An empty side (m = −inf) contributes nothing: keep the other side as it is.
        a_empty, b_empty = a["m"] == -math.inf, b["m"] == -math.inf
        hi = xp.where(b_empty, a["hi"], xp.where(a_empty, b["hi"], hi))
        lo = xp.where(b_empty, a["lo"], xp.where(a_empty, b["lo"], lo))
        k = xp.where(a["m"] == b["m"], a["k"] + b["k"], xp.where(a_big, a["k"], b["k"]))
        return {"m": m, "hi": hi, "lo": lo, "count": a["count"] + b["count"],
                "n_pinf": a["n_pinf"] + b["n_pinf"], "nan": a["nan"] | b["nan"], "k": k}

    # ----------------------------------------------------------------------------------------

    @quiet
    def update(self, block: Any, *, where: Any = None) -> OnlineLogSumExp:
        """Add a block (any length along ``axis``, 0 included); returns ``self``.

        ``where`` masks entries of this block (False: left out), as for the maps.
        """
        prep = self._setup(block, where, "update")
        if prep.shape[prep.axes[0]] == 0:
            if self._state is None:
                self._state = self._empty_state(prep)
            return self
        st = self._block_state(prep)
        self._state = st if self._state is None else self._merge(self._state, st)
        return self

    def _empty_state(self, prep: Setup) -> dict[str, Any]:
        xp = prep.xp
        shape = tuple(1 if i == prep.axes[0] else d for i, d in enumerate(prep.shape))
        z = xp.zeros(shape, dtype=prep.compute_dtype, device=device_of(prep.raw))
        return {"m": z - math.inf, "hi": z - 1.0, "lo": z, "count": z, "n_pinf": z,
                "nan": z != z, "k": z}

    def merge(self, other: OnlineLogSumExp) -> OnlineLogSumExp:
        """A new normaliser for the two streams together (e.g. computed on two workers)."""
        if not isinstance(other, OnlineLogSumExp):
            raise TypeError(f"OnlineLogSumExp.merge: expected an OnlineLogSumExp, got "
                            f"{type(other).__name__}")
        if other._state is None:
            return self._copy(self._state)
        if self._state is None:
            return other._copy(other._state)
        if (self._rows, self._ax) != (other._rows, other._ax) or self._xp is not other._xp:
            raise ValueError(f"OnlineLogSumExp.merge: the streams' rows differ ({self._rows} "
                             f"and {other._rows}) or their array libraries do")
        if self.temperature is not other.temperature and not (
            isinstance(self.temperature, (int, float))
            and isinstance(other.temperature, (int, float))
            and float(self.temperature) == float(other.temperature)
        ):
            raise ValueError("OnlineLogSumExp.merge: the streams have different temperatures")
        return self._copy(self._merge(self._state, other._state))

    def _copy(self, state: dict[str, Any] | None) -> OnlineLogSumExp:
        new = OnlineLogSumExp(axis=self.axis, temperature=self.temperature, dtype=self.dtype)
        new.__dict__.update({k: v for k, v in self.__dict__.items() if k != "_state"})
        new._state = state
        return new

    def _need(self, fn: str) -> dict[str, Any]:
        if self._state is None:
            raise ValueError(f"OnlineLogSumExp.{fn}: no block seen yet; call update() first")
        return self._state

    def _value(self) -> Array:
        """The normaliser in the compute dtype, kept dims."""
        st = self._need("value")
        xp = self._xp
        m, hi, lo = st["m"], st["hi"], st["lo"]
        one = xp.ones_like(hi)
        ok = hi > -1.0
        big_l = xp.log1p(xp.where(ok, hi, one)) + lo / xp.where(ok, 1.0 + hi, one)
        temp = self._temp
        if temp.kind == "scalar":
            lse = m + float(temp.value) * big_l
        elif temp.kind == "array":
            t = temp.value
            lse = m + xp.where((t == 0) | xp.isinf(t), one, t) * big_l
        else:
            lse = m + big_l
        inf = full_like_scalar(xp, m, math.inf)
        limit_inf = xp.where(st["count"] > 1, inf, m)
        if temp.kind == "zero":
            lse = m
        elif temp.kind == "inf":
            lse = limit_inf
        elif temp.kind == "array":
            lse = xp.where(temp.value == 0, m, lse)
            lse = xp.where(temp.value == math.inf, limit_inf, lse)
        lse = xp.where(m == -math.inf, m, lse)
        lse = xp.where(st["n_pinf"] > 0, inf, lse)
        return xp.where(st["nan"], full_like_scalar(xp, m, math.nan), lse)

    @property
    def value(self) -> Array:
        """The normaliser ``T·log Σ exp(x/T)`` of everything seen so far, per row."""
        xp = self._xp
        v = finish(xp, self._value(), self._out)
        return xp.squeeze(v, axis=self._ax)

    @property
    def count(self) -> Array:
        """Admissible (finite, unmasked) entries seen so far, per row."""
        st = self._need("count")
        return self._xp.squeeze(st["count"], axis=self._ax)

    @quiet
    def log_softmax(self, block: Any, *, where: Any = None) -> Array:
        """``log_softmax`` of ``block`` against the final normaliser: ``(x − LSE)/T``,
        evaluated as ``(x − m)/T − log1p(s)`` with ``x − m`` split exactly."""
        return self._normalised(block, where, log=True)

    @quiet
    def softmax(self, block: Any, *, where: Any = None) -> Array:
        """``softmax`` of ``block`` against the final normaliser:
        ``exp((x − m)/T) / (1 + s)``; zero for masked and −inf entries."""
        return self._normalised(block, where, log=False)

    def _normalised(self, block: Any, where: Any, *, log: bool) -> Array:
        fn = "log_softmax" if log else "softmax"
        st = self._need(fn)
        prep = self._setup(block, where, fn)
        xp = prep.xp
        x = prep.x
        ninf = full_like_scalar(xp, x, -math.inf)
        if prep.mask is not None:
            x = xp.where(prep.mask, x, ninf)
        m, hi, lo = st["m"], st["hi"], st["lo"]
        finite = xp.isfinite(x)
        zero = full_like_scalar(xp, x, 0.0)
        m_ok = xp.isfinite(m)
        m0 = xp.where(m_ok, m, xp.zeros_like(m))
        xf = xp.where(finite, x, m0)
        d_hi, d_lo = _two_sum(xf, -m0)
        d_lo = xp.where(xp.isfinite(d_hi), d_lo, zero)
        one = xp.ones_like(hi)
        ok = hi > -1.0
        big_l = xp.log1p(xp.where(ok, hi, one)) + lo / xp.where(ok, 1.0 + hi, one)
        temp = self._temp
        if temp.kind in ("scalar", "array"):
            if temp.kind == "scalar":
                q, r = divide_dw(xp, d_hi, d_lo, float(temp.value))
            else:
                t = temp.value
                q, r = divide_dw(xp, d_hi, d_lo,
                                 xp.where((t == 0) | xp.isinf(t), full_like_scalar(xp, t, 1.0),
                                          t))
        else:
            q, r = d_hi, d_lo
        if log:
            out = (q - big_l) + r
            out = xp.where(finite, out, ninf)
        else:
            total = 1.0 + hi + lo  # 0 only for rows with no entry, overwritten below
            out = xp.exp(q) * (1.0 + r) / xp.where(total > 0, total, one)
            out = xp.where(finite, out, zero)
        # Limits, in increasing priority: T = inf, T = 0, +inf entries, empty rows, NaN rows.
        uniform = xp.where(finite, 1.0 / xp.where(st["count"] > 0, st["count"], one), zero)
        hard = xp.where(finite & (x == m), 1.0 / xp.where(st["k"] > 0, st["k"], one), zero)
        shared = xp.where(x == math.inf, 1.0 / xp.where(st["n_pinf"] > 0, st["n_pinf"], one),
                          zero)
        pieces = []
        if temp.kind == "inf":
            pieces.append((True, uniform))
        elif temp.kind == "zero":
            pieces.append((True, hard))
        elif temp.kind == "array":
            pieces += [(temp.value == math.inf, uniform), (temp.value == 0, hard)]
        pieces.append((st["n_pinf"] > 0, shared))
        for cond, p in pieces:
            if log:
                pos = p > 0
                p = xp.where(pos, xp.log(xp.where(pos, p, xp.ones_like(p))), ninf)
            out = p if cond is True else xp.where(cond, p, out)
        out = xp.where(m == -math.inf, ninf if log else zero, out)
        out = xp.where(st["nan"], full_like_scalar(xp, x, math.nan), out)
        return finish(xp, out, prep.out_dtype)

