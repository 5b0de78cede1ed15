r"""The log-likelihood of the conditional and the nested logit, with its gradient and
information matrix, summed over blocks of groups.

**Conditional logit.** With the design rows :math:`d_{gj}` of group ``g`` (alternative
``j``; generic covariates, constant and individual-variable dummies) and the utilities
:math:`V_{gj} = d_{gj}^\top\beta`, the probabilities are the masked softmax over the
group's available alternatives, and

.. math:: \ell = \sum_g w_g \log P_{g c_g}, \qquad
          \nabla\ell = \sum_g w_g (d_{gc_g} - \bar d_g), \qquad
          -\nabla^2\ell = \sum_g w_g \Big(\sum_j P_{gj} d_{gj} d_{gj}^\top
          - \bar d_g \bar d_g^\top\Big),

with :math:`\bar d_g = \sum_j P_{gj} d_{gj}`. The information is accumulated block by block
(two BLAS products per block), never as a per-row structure.

**Nested logit (RU2).** With nests :math:`B_k` and dissimilarities :math:`\lambda_k`, the
inclusive value is :math:`I_k = \lambda_k \log\sum_{i\in B_k} e^{V_i/\lambda_k}` =
``logsumexp(V, temperature=λ_k)``, and for the chosen ``j`` in nest ``c``

.. math:: \log P_j = \frac{V_j - I_c}{\lambda_c} + I_c - \log\sum_k e^{I_k}.

The gradient and the Hessian are analytic in :math:`u = (V, \lambda)` per group (see
:func:`_nested_u_derivatives`); the chain rule through the linear :math:`V = D\beta` gives
those in the parameters. They use :math:`\partial I_k/\partial V_i = P_{i|k}`,
:math:`\partial I_k/\partial\lambda_k = H_k` (the entropy of :math:`P_{\cdot|k}`),
:math:`\partial^2 I_k/\partial V_i\partial V_h = (P_{i|k}\delta_{ih} - P_{i|k}P_{h|k})/\lambda_k`,
:math:`\partial^2 I_k/\partial V_i\partial\lambda_k = -P_{i|k}(V_i - \bar V_k)/\lambda_k^2` and
:math:`\partial^2 I_k/\partial\lambda_k^2 = \operatorname{Var}_k(V)/\lambda_k^3`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from softmaxkit.choice._data import _Long
from softmaxkit.maps import log_softmax, logsumexp, softmax

# Elements of the per-block design array (groups × alternatives × parameters): 2**20 float64
# = 8 MiB; a block's work arrays are a few times this.
_BLOCK_ELEMENTS = 1 << 20


@dataclass(frozen=True)
class _Layout:
    """How the parameter vector maps onto utilities: columns of the design, the nests."""

    n_alt: int
    base: int
    fit_intercept: bool
    n_generic: int
    n_individual: int
    nest_of: np.ndarray | None  # (J,) nest position of each alternative; None: no nests
    free: np.ndarray | None  # (K,) bool: nests with a λ parameter (two or more alternatives)

    @property
    def nonbase(self) -> np.ndarray:
        return np.delete(np.arange(self.n_alt), self.base)

    @property
    def n_const(self) -> int:
        return (self.n_alt - 1) if self.fit_intercept else 0

    @property
    def n_beta(self) -> int:
        return self.n_const + self.n_generic + self.n_individual * (self.n_alt - 1)

    @property
    def n_lambda(self) -> int:
        return 0 if self.free is None else int(self.free.sum())

    @property
    def n_params(self) -> int:
        return self.n_beta + self.n_lambda

    @property
    def n_nests(self) -> int:
        return 0 if self.nest_of is None else int(self.nest_of.max()) + 1

    def member(self) -> np.ndarray:
        """(K, J) bool: alternative j belongs to nest k."""
        assert self.nest_of is not None
        return self.nest_of[None, :] == np.arange(self.n_nests)[:, None]

    def lambdas(self, theta: np.ndarray) -> np.ndarray:
        """All K dissimilarities: the free ones from ``theta``, 1 for one-alternative nests."""
        assert self.free is not None
        lam = np.ones(self.n_nests)
        lam[self.free] = theta[self.n_beta:]
        return lam


def design(blk: _Long, lay: _Layout) -> np.ndarray:
    """The design array of a block of groups, (G, J, n_beta)."""
    g, j = blk.avail.shape
    d = np.zeros((g, j, lay.n_beta))
    nb = lay.nonbase
    col = 0
    if lay.fit_intercept:
        d[:, nb, np.arange(nb.size)] = 1.0
        col = nb.size
    d[:, :, col:col + lay.n_generic] = blk.x
    col += lay.n_generic
    for k in range(lay.n_individual):
        d[:, nb, col + np.arange(nb.size)] = blk.z[:, k:k + 1]
        col += nb.size
    return d


def block_size(lay: _Layout) -> int:
    """Groups per block, so that a block's design stays near :data:`_BLOCK_ELEMENTS`."""
    return int(max(64, _BLOCK_ELEMENTS // max(1, lay.n_alt * max(1, lay.n_params))))


@dataclass
class _Sums:
    """ℓ, and with the derivatives the gradient and the information (−Hessian)."""

    llf: float
    grad: np.ndarray | None = None
    info: np.ndarray | None = None

    def add(self, other: _Sums) -> None:
        self.llf += other.llf
        if self.grad is not None and other.grad is not None:
            self.grad += other.grad
            self.info += other.info


def add_sums(*parts: _Sums) -> _Sums:
    """The sum of the partial sums of several blocks (or Dask partitions)."""
    first = parts[0]
    out = _Sums(0.0) if first.grad is None else _Sums(
        0.0, np.zeros_like(first.grad), np.zeros_like(first.info))
    for s in parts:
        out.add(s)
    return out


def _mask(avail: np.ndarray) -> np.ndarray | None:
    """The availability mask for the core maps, or None when everything is available (the
    same result; the maps then take their unmasked fast path)."""
    return None if avail.all() else avail


def _weights(blk: _Long) -> np.ndarray:
    return np.ones(blk.avail.shape[0]) if blk.w is None else blk.w


def _full_index(lay: _Layout) -> np.ndarray:
    """Position of each parameter in the *full* coordinates of the conditional logit's sums:
    the generic coefficients, then one coefficient per (alternative, group-level variable)
    with the group-level variables ``u = (1, z)`` (``z`` alone without constants), the base
    alternative included (its entries are then dropped)."""
    nu = lay.n_individual + int(lay.fit_intercept)
    a = lay.n_generic
    nb = lay.nonbase
    idx = [a + nb * nu] if lay.fit_intercept else []
    idx.append(np.arange(a))
    first = int(lay.fit_intercept)
    for k in range(lay.n_individual):
        idx.append(a + nb * nu + first + k)
    return np.concatenate(idx).astype(np.intp)


def conditional_sums(blk: _Long, beta: np.ndarray, lay: _Layout, derivatives: bool) -> _Sums:
    """ℓ (and gradient, information) of the conditional logit over one block of groups.

    The design rows are ``d_gj = (x_gj, u_g ⊗ e_j)`` with the group-level variables
    ``u_g = (1, z_g)`` (constants and individual variables share the alternative-specific
    structure), so the sums are formed from ``x`` and ``u`` without the design array:

    * ``Σ_j P_j d d^T − d̄ d̄^T`` has the blocks ``Σ_j P_j (x_j − x̄)(x_j − x̄)^T``,
      ``P_j (x_j − x̄) u^T`` and ``(P_j δ_jl − P_j P_l) u u^T``.
    """
    g, j = blk.avail.shape
    a = lay.n_generic
    nu = lay.n_individual + int(lay.fit_intercept)
    u = np.empty((g, nu))
    if lay.fit_intercept:
        u[:, 0] = 1.0
    u[:, int(lay.fit_intercept):] = blk.z
    full = _full_index(lay)
    theta = np.zeros(a + j * nu)
    theta[full] = beta
    coef = theta[a:].reshape(j, nu)  # (J, nu): alternative-specific coefficients
    v = u @ coef.T
    if a:
        v += blk.x @ theta[:a]
    logp = log_softmax(v, where=_mask(blk.avail))
    rows = np.arange(g)
    w = _weights(blk)
    llf = float(np.sum(w * logp[rows, blk.chosen]))
    if not derivatives:
        return _Sums(llf)
    p = np.exp(logp)  # exactly 0 where unavailable (log_softmax gives -inf there)
    wp = w[:, None] * p
    resid = -wp
    resid[rows, blk.chosen] += w  # w (y − p)
    grad = np.empty(a + j * nu)
    info = np.empty((a + j * nu, a + j * nu))
    if a:
        xbar = np.matmul(p[:, None, :], blk.x)[:, 0, :]  # (G, a)
        dx = blk.x - xbar[:, None, :]
        grad[:a] = np.einsum("gj,gja->a", resid, blk.x)
        sq = dx * np.sqrt(wp)[:, :, None]
        info[:a, :a] = sq.reshape(-1, a).T @ sq.reshape(-1, a)
        # P_j (x_j − x̄) u^T for every j: (J, a, nu)
        cross = np.matmul((dx * wp[:, :, None]).transpose(1, 2, 0), u)
        info[:a, a:] = cross.transpose(1, 0, 2).reshape(a, j * nu)
        info[a:, :a] = info[:a, a:].T
    grad[a:] = (resid.T @ u).reshape(-1)
    c = (p[:, :, None] * u[:, None, :]).reshape(g, j * nu)  # P_j u
    alt = -(c.T @ (c * w[:, None]))
    # The diagonal blocks Σ_g w P_j u uᵀ of every j in one product: (nu², G) @ (G, J).
    diag = ((u[:, :, None] * u[:, None, :]).reshape(g, nu * nu).T @ wp).reshape(nu, nu, j)
    for k in range(j):
        alt[k * nu:(k + 1) * nu, k * nu:(k + 1) * nu] += diag[:, :, k]
    info[a:, a:] = alt
    info = info[np.ix_(full, full)]
    return _Sums(llf, grad[full], (info + info.T) / 2.0)


@dataclass
class _NestState:
    """The per-group quantities of the nested logit at one parameter vector."""

    v: np.ndarray  # (G, J) utilities
    iv: np.ndarray  # (G, K) inclusive values (0 for nests with no available alternative)
    cond: np.ndarray  # (G, J) P(j | its nest)
    q: np.ndarray  # (G, K) nest probabilities
    logp: np.ndarray  # (G, J) log P(j), -inf where unavailable
    lam: np.ndarray  # (K,)


def nest_state(blk: _Long, v: np.ndarray, lam: np.ndarray, lay: _Layout) -> _NestState:
    """Inclusive values (the core ``logsumexp`` at temperature λ_k per nest), the conditional
    probabilities within nests (the masked softmax at λ_k), and the nest probabilities."""
    nest_of = lay.nest_of
    g = v.shape[0]
    k_all = lam.shape[0]
    iv = np.empty((g, k_all))
    cond = np.zeros_like(v)
    nonempty = np.empty((g, k_all), dtype=bool)
    for k in range(k_all):
        cols = np.flatnonzero(nest_of == k)
        sub = v[:, cols]
        avail = blk.avail[:, cols]
        mask = _mask(avail)
        iv[:, k] = logsumexp(sub, temperature=lam[k], where=mask)
        cond[:, cols] = softmax(sub, temperature=lam[k], where=mask)
        nonempty[:, k] = avail.any(axis=1)
    logq = log_softmax(iv, where=_mask(nonempty))
    q = np.exp(logq)
    iv = np.where(nonempty, iv, 0.0)
    lam_j = lam[nest_of]
    with np.errstate(invalid="ignore"):
        logp = np.where(blk.avail, (v - iv[:, nest_of]) / lam_j + logq[:, nest_of], -np.inf)
    return _NestState(v, iv, cond, q, logp, lam)


def _nested_u_derivatives(st: _NestState, chosen: np.ndarray, lay: _Layout) -> tuple[
        np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradient and Hessian of each group's log P(chosen) in u = (V, λ), all K nests.

    Returns ``gv (G, J), gl (G, K), hvv (G, J, J), hvl (G, J, K), hll (G, K, K)``.
    With ``f = V_j/λ_c + (1 − 1/λ_c) I_c`` and ``L = logsumexp_k I_k``, ℓ_g = f − L.
    """
    v, iv, pc, q, lam = st.v, st.iv, st.cond, st.q, st.lam
    g, j = v.shape
    k = lam.shape[0]
    rows = np.arange(g)
    nest_of = lay.nest_of
    member = lay.member()  # (K, J)
    lam_j = lam[nest_of]
    c = nest_of[chosen]  # (G,) chosen nest
    lam_c = lam[c]
    p = q[:, nest_of] * pc  # (G, J) P(j)
    # Per nest: entropy H_k, mean V̄_k and variance of V under P(·|k) (pc is 0 outside).
    dev_iv = np.where(pc > 0, (v - iv[:, nest_of]) / lam_j, 0.0)  # log P(j|k)
    ent = -(pc * dev_iv) @ member.T  # (G, K)
    vbar = (pc * v) @ member.T
    dv = np.where(pc > 0, v - vbar[:, nest_of], 0.0)  # V_i − V̄_{k(i)}
    var = (pc * dv * dv) @ member.T
    in_c = nest_of[None, :] == c[:, None]  # (G, J)
    onehot_j = np.zeros((g, j))
    onehot_j[rows, chosen] = 1.0
    onehot_c = np.zeros((g, k))
    onehot_c[rows, c] = 1.0
    a = 1.0 - 1.0 / lam_c  # (G,)
    # ---- gradient
    gv = onehot_j / lam_c[:, None] + a[:, None] * pc * in_c - p
    v_j = v[rows, chosen]
    iv_c = iv[rows, c]
    h_c = ent[rows, c]
    df_dlc = (iv_c - v_j) / lam_c**2 + a * h_c
    gl = onehot_c * df_dlc[:, None] - q * ent
    # ---- Hessian of f (chosen nest only)
    pcc = pc * in_c  # P(i|c) on the chosen nest, 0 elsewhere
    qm = q[:, nest_of]  # Q of each alternative's nest
    diag = np.arange(j)
    # hvv = f's part − L's part, built in place: p pᵀ − (a/λ_c) P_c P_cᵀ
    # − same ⊙ (Q (1 − 1/λ) P_i P_h) + diag((a/λ_c) P_c − Q P/λ).
    hvv = p[:, :, None] * p[:, None, :]
    hvv -= ((a / lam_c)[:, None] * pcc)[:, :, None] * pcc[:, None, :]
    tmp = (qm * (1.0 - 1.0 / lam_j) * pc)[:, :, None] * pc[:, None, :]
    tmp *= member[nest_of][None]
    hvv -= tmp
    hvv[:, diag, diag] += (a / lam_c)[:, None] * pcc - qm * pc / lam_j
    f_vl = (-onehot_j + pcc) / lam_c[:, None] ** 2 \
        + a[:, None] * (-pcc * dv / lam_c[:, None] ** 2)
    hvl = f_vl[:, :, None] * onehot_c[:, None, :]
    f_ll = (2.0 * (v_j - iv_c) / lam_c**3 + 2.0 * h_c / lam_c**2
            + a * var[rows, c] / lam_c**3)
    hll = f_ll[:, None, None] * (onehot_c[:, :, None] * onehot_c[:, None, :])
    # ---- minus the Hessian of L = logsumexp(I) (its V-V block is in hvv above)
    own = member.T[None, :, :]  # (1, J, K): l is i's nest
    l_vl = own * (q[:, None, :] * (-pc * dv)[:, :, None] / lam[None, None, :] ** 2
                  + q[:, None, :] * (pc[:, :, None] * ent[:, None, :]))
    l_vl -= p[:, :, None] * (q * ent)[:, None, :]
    hvl -= l_vl
    qh = q * ent
    hll -= np.eye(k)[None] * (q * (var / lam**3 + ent**2))[:, :, None]
    hll += qh[:, :, None] * qh[:, None, :]
    return gv, gl, hvv, hvl, hll


def nested_sums(blk: _Long, theta: np.ndarray, lay: _Layout, derivatives: bool) -> _Sums:
    """ℓ (and gradient, information) of the nested logit over one block of groups."""
    lam = lay.lambdas(theta)
    if not np.all(lam > 0):
        return _Sums(-np.inf)
    d = design(blk, lay)
    v = d @ theta[:lay.n_beta]
    st = nest_state(blk, v, lam, lay)
    rows = np.arange(v.shape[0])
    w = _weights(blk)
    llf = float(w @ st.logp[rows, blk.chosen])
    if not derivatives:
        return _Sums(llf)
    gv, gl, hvv, hvl, hll = _nested_u_derivatives(st, blk.chosen, lay)
    free = lay.free
    m, nb = lay.n_params, lay.n_beta
    grad = np.empty(m)
    grad[:nb] = (w[:, None] * gv).reshape(-1) @ d.reshape(-1, nb)
    grad[nb:] = (w @ gl)[free]
    hess = np.empty((m, m))
    t = hvv @ d  # (G, J, P)
    hess[:nb, :nb] = (d * w[:, None, None]).reshape(-1, nb).T @ t.reshape(-1, nb)
    nf = int(free.sum())
    hbl = d.reshape(-1, nb).T @ (hvl[:, :, free] * w[:, None, None]).reshape(-1, nf)
    hess[:nb, nb:] = hbl
    hess[nb:, :nb] = hbl.T
    hess[nb:, nb:] = np.tensordot(w, hll, axes=1)[np.ix_(free, free)]
    info = -hess
    return _Sums(llf, grad, (info + info.T) / 2.0)


def probabilities(blk: _Long, theta: np.ndarray, lay: _Layout) -> np.ndarray:
    """(G, J) choice probabilities; exactly 0 for unavailable alternatives."""
    d = design(blk, lay)
    v = d @ theta[:lay.n_beta]
    if lay.nest_of is None:
        return softmax(v, where=blk.avail)
    st = nest_state(blk, v, lay.lambdas(theta), lay)
    return np.exp(st.logp)


def block_sums(long: _Long, theta: np.ndarray, lay: _Layout, derivatives: bool) -> _Sums:
    """The sums over all groups of ``long``, block by block (bounded memory)."""
    one = conditional_sums if lay.nest_of is None else nested_sums
    size = block_size(lay)
    total: _Sums | None = None
    for start in range(0, max(long.n_groups, 1), size):
        part = one(long.block(start, start + size), theta, lay, derivatives)
        if total is None:
            total = part
        else:
            total.add(part)
        if not np.isfinite(total.llf) and total.grad is None:
            break  # a trial point outside the domain: no need to finish the pass
    assert total is not None
    return total


class InMemory:
    """The rows in this process as a source of block sums."""

    def __init__(self, long: _Long) -> None:
        self.long = long

    def sums(self, theta: np.ndarray, lay: _Layout, derivatives: bool) -> _Sums:
        return block_sums(self.long, theta, lay, derivatives)
