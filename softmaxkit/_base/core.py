"""The one shared layer: array namespace, dtype policy, axes, temperature, masks, validation.

Every public map calls into this module instead of checking its own arguments, so that every
function of the library accepts the same inputs and raises the same errors.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import array_api_compat
import numpy as np

from softmaxkit._base.arrays import host_copy
from softmaxkit._base.dispatch import is_tensor

__all__: list[str] = []

Array = Any
_F = TypeVar("_F", bound=Callable[..., Any])


def quiet(fn: _F) -> _F:
    """Run ``fn`` with NumPy's floating-point warnings silenced.

    Under/overflow of exp, log 0, and the inf arithmetic of special rows (empty, +inf, NaN,
    zero probabilities) are expected inside the library, and every such entry is resolved to
    its limit explicitly; a warning would only alarm the caller.

    A call whose input is a torch tensor and that has no NumPy array among its arguments
    runs without ``np.errstate``: torch operations raise no NumPy warnings, and
    ``torch.compile`` cannot trace the context manager (it would break the graph). The NumPy
    path pays one type check for this.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if args and type(args[0]) is not np.ndarray and is_tensor(args[0]) and not any(
            isinstance(a, np.ndarray) for a in (*args[1:], *kwargs.values())
        ):
            return fn(*args, **kwargs)
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]

# Low-precision floats are accumulated in this dtype (by name, so that it works for every
# namespace: NumPy with ml_dtypes, PyTorch and JAX all call it "bfloat16").
_LOW_PRECISION = {"float16", "bfloat16"}


def dtype_name(dtype: Any) -> str:
    """Short name of a dtype of any namespace (``torch.float32`` -> ``"float32"``)."""
    name = getattr(dtype, "name", None)
    if isinstance(name, str):
        return name
    if isinstance(dtype, type):  # a scalar class such as numpy.float64
        return dtype.__name__
    return str(dtype).rsplit(".", 1)[-1]


def namespace(*arrays: Any) -> Any:
    """The array-API namespace of ``arrays`` (NumPy for lists and Python scalars)."""
    real = [a for a in arrays if a is not None and not isinstance(a, (int, float, bool))]
    if not real:
        return array_api_compat.array_namespace(np.empty(0))
    return array_api_compat.array_namespace(*real)


def is_numpy(x: Any) -> bool:
    """True for NumPy arrays (the ones that may take the fast path)."""
    return isinstance(x, np.ndarray)


def is_lazy(x: Any) -> bool:
    """True when values cannot be inspected without triggering computation (Dask, traced JAX)."""
    if array_api_compat.is_jax_array(x):
        # Concrete JAX arrays can be inspected; only tracers (under jit/grad/vmap) cannot.
        import jax

        return isinstance(x, jax.core.Tracer)
    checker = getattr(array_api_compat, "is_lazy_array", None)
    if checker is not None:
        try:
            return bool(checker(x))
        except Exception:  # pragma: no cover - defensive against exotic array types
            return True
    return array_api_compat.is_dask_array(x) or array_api_compat.is_jax_array(x)


@dataclass(frozen=True)
class Prepared:
    """An input array made ready for a map.

    Attributes
    ----------
    xp : namespace
        Array-API namespace of the input.
    raw : array
        The input as given (lists and scalars turned into NumPy arrays); the NumPy fast path
        converts it block by block instead of in one extra pass.
    compute_dtype : dtype
        The dtype the arithmetic is done in.
    out_dtype : dtype
        The dtype the result is returned in.
    """

    xp: Any
    raw: Array
    compute_dtype: Any
    out_dtype: Any

    @property
    def x(self) -> Array:
        """The input converted to the compute dtype."""
        if self.raw.dtype == self.compute_dtype:
            return self.raw
        return self.xp.astype(self.raw, self.compute_dtype)


def prepare(x: Any, *, name: str = "x", dtype: Any = None, fn: str = "") -> Prepared:
    """Validate ``x`` and choose the compute and output dtypes.

    Policy: float16/bfloat16 compute in float32 and return the input dtype; integers and
    booleans promote to the namespace's default float; ``dtype=`` sets the output dtype.
    Complex, string and object input raise ``TypeError`` naming ``name``.
    """
    where_ = f"{fn}: " if fn else ""
    if isinstance(x, np.ma.MaskedArray):
        # Here there is no ``where=`` to carry the mask (setup() honours it before calling
        # this): dropping it silently would compute with the values it hides.
        if np.ma.getmask(x) is not np.ma.nomask and np.ma.getmaskarray(x).any():
            raise TypeError(
                f"{where_}{name} is a masked array with masked entries, which this argument "
                f"cannot honour; pass plain values, e.g. {name}.filled(value)"
            )
        x = np.ma.getdata(x)
    if isinstance(x, (list, tuple, numbers.Number)) or (
        isinstance(x, np.generic) and not isinstance(x, np.ndarray)
    ):
        try:
            x = np.asarray(x)
        except ValueError as exc:  # ragged nested lists
            raise TypeError(f"{where_}{name} must be a numeric array; {exc}") from None
    if not array_api_compat.is_array_api_obj(x):
        raise TypeError(
            f"{where_}{name} must be an array (NumPy, PyTorch, JAX, Dask, ...), "
            f"got {type(x).__name__}"
        )
    xp = array_api_compat.array_namespace(x)
    in_name = dtype_name(x.dtype)
    if isinstance(x, np.ndarray) and x.dtype.kind not in "biuf" and in_name != "bfloat16":
        raise TypeError(
            f"{where_}{name} must hold real numbers, got dtype {x.dtype} "
            "(strings, objects and complex numbers are not accepted)"
        )
    if in_name.startswith("complex"):
        raise TypeError(f"{where_}{name} must hold real numbers, got dtype {in_name}")

    default_float = _default_float(xp, x)
    floating = in_name.startswith("float") or in_name == "bfloat16"
    if not floating:
        natural = default_float
    else:
        natural = x.dtype
    out_dtype = natural if dtype is None else _resolve_dtype(xp, dtype, fn)
    compute = x.dtype if floating else default_float
    if isinstance(x, np.ndarray) and dtype_name(compute) in _LOW_PRECISION | {"float32"}:
        # NumPy: half and single precision are computed in double, which makes every rounding
        # before the last one negligible (results within 1 ulp) at no loss of speed.
        compute = np.float64
    elif dtype_name(compute) in _LOW_PRECISION:
        compute = xp.float32
    if dtype_name(out_dtype) == "float64" and dtype_name(compute) != "float64":
        compute = out_dtype
    return Prepared(xp=xp, raw=x, compute_dtype=compute, out_dtype=out_dtype)


def _default_float(xp: Any, x: Any) -> Any:
    info = getattr(xp, "__array_namespace_info__", None)
    if info is not None:
        try:
            return info().default_dtypes(device=getattr(x, "device", None))["real floating"]
        except Exception:  # some namespaces reject the device argument
            return info().default_dtypes()["real floating"]
    return xp.float64  # pragma: no cover


def _resolve_dtype(xp: Any, dtype: Any, fn: str) -> Any:
    """The namespace's dtype for ``dtype`` (a dtype object or a name); real floating only."""
    name = dtype if isinstance(dtype, str) else dtype_name(dtype)
    if not isinstance(dtype, str) and not (name.startswith("float") or name == "bfloat16"):
        try:
            name = dtype_name(np.dtype(dtype))
        except TypeError:
            pass
    if not (name.startswith("float") or name == "bfloat16"):
        raise TypeError(f"{fn}: dtype must be a real floating dtype, got {dtype!r}")
    if not isinstance(dtype, str) and dtype_name(dtype) == name:
        return dtype
    resolved = getattr(xp, name, None)
    if resolved is None and name == "bfloat16" and xp is namespace(np.empty(0)):
        import ml_dtypes

        resolved = np.dtype(ml_dtypes.bfloat16)
    if resolved is None:
        raise TypeError(f"{fn}: dtype={dtype!r} is not a dtype of this array library")
    return resolved


def normalize_axis(axis: Any, ndim: int, *, fn: str = "", name: str = "axis") -> tuple[int, ...]:
    """Normalise ``axis`` (int, tuple of ints or None) to a sorted tuple of non-negative ints.

    Raises ``ValueError`` for an axis out of range or repeated, ``TypeError`` for a non-integer.
    A 0-d input is treated as a single element: every axis spec then means "no axis".
    """
    where_ = f"{fn}: " if fn else ""
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    out: list[int] = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, numbers.Integral):
            raise TypeError(f"{where_}{name} must be an int, a tuple of ints or None, got {axis!r}")
        a = int(a)
        if ndim == 0 and a in (0, -1):
            continue
        if not -ndim <= a < ndim:
            raise ValueError(
                f"{where_}{name}={a} is out of range for an array with {ndim} dimension(s); "
                f"expected an integer in [{-ndim}, {ndim - 1}]"
            )
        a %= ndim
        if a in out:
            raise ValueError(f"{where_}{name}={axis!r} repeats axis {a}")
        out.append(a)
    return tuple(sorted(out))


@dataclass(frozen=True)
class Temperature:
    """A parsed temperature.

    ``kind`` is ``"one"`` (T = 1), ``"scalar"`` (a positive finite float ``value``),
    ``"zero"`` (the hardmax limit), ``"inf"`` (the uniform limit) or ``"array"`` (``value`` is an
    array in the compute dtype, broadcast to the reduced shape with kept dims, possibly holding
    0 and inf entries).
    """

    kind: str
    value: Any = 1.0


def parse_temperature(
    temperature: Any, xp: Any, reduced_shape: tuple[int, ...], dtype: Any, device: Any, *, fn: str
) -> Temperature:
    """Validate a temperature: a number or an array broadcastable to the reduced shape.

    T must be ≥ 0 (0 = hardmax limit, inf = uniform limit). Negative, NaN, or non-numeric
    temperatures raise ``ValueError`` naming ``temperature``.
    """
    if isinstance(temperature, bool):
        raise ValueError(f"{fn}: temperature must be a number >= 0, got {temperature!r}")
    if isinstance(temperature, numbers.Real) or (
        isinstance(temperature, np.ndarray) and temperature.ndim == 0
    ):
        t = float(temperature)
        if math.isnan(t) or t < 0:
            raise ValueError(
                f"{fn}: temperature={t!r} is invalid; expected a number >= 0 "
                "(0 gives the hardmax limit, inf the uniform limit)"
            )
        if t == 1.0:
            return Temperature("one")
        if t == 0.0:
            return Temperature("zero")
        if math.isinf(t):
            return Temperature("inf")
        return Temperature("scalar", t)
    if isinstance(temperature, (str, bytes)) or temperature is None:
        raise ValueError(f"{fn}: temperature must be a number >= 0, got {temperature!r}")
    if isinstance(temperature, (list, tuple)):
        temperature = np.asarray(temperature)
    if isinstance(temperature, np.ndarray) and temperature.dtype.kind in "biuf":
        # Check NumPy temperatures before they become the input's kind (under jax.jit the
        # converted array is traced and cannot be inspected).
        _check_temperature_values(temperature, reduced_shape, fn)
    if not array_api_compat.is_array_api_obj(temperature):
        raise ValueError(
            f"{fn}: temperature must be a number >= 0 or an array of them, "
            f"got {type(temperature).__name__}"
        )
    kind = dtype_name(temperature.dtype)
    if not (kind.startswith(("float", "int", "uint")) or kind == "bfloat16"):
        raise ValueError(f"{fn}: temperature must hold real numbers, got dtype {kind}")
    if isinstance(temperature, np.ndarray) and xp is not namespace(temperature):
        t_arr = xp.asarray(temperature, dtype=dtype, device=device)
    else:
        t_arr = xp.astype(temperature, dtype)
    try:
        target = np.broadcast_shapes(tuple(t_arr.shape), reduced_shape)
    except ValueError:
        target = None
    if target != tuple(reduced_shape):
        raise ValueError(
            f"{fn}: temperature of shape {tuple(t_arr.shape)} does not broadcast against the "
            f"reduced shape {tuple(reduced_shape)} (the input's shape with the reduced axes "
            "kept as length 1)"
        )
    if not isinstance(temperature, np.ndarray) and not is_lazy(temperature):
        # A concrete array of another library: inspect a host copy (operations on it could
        # be staged, e.g. inside jax.jit, even though its values are known).
        _check_temperature_values(host_copy(temperature), reduced_shape, fn)
    t_arr = xp.broadcast_to(t_arr, reduced_shape)
    return Temperature("array", t_arr)


def _check_temperature_values(t: np.ndarray, reduced_shape: tuple[int, ...], fn: str) -> None:
    """Raise naming the first temperature that is negative or NaN."""
    try:
        t = np.broadcast_to(t, np.broadcast_shapes(t.shape, reduced_shape))
    except ValueError:
        return  # the shape check that follows names the mismatch
    bad = ~(t >= 0)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{fn}: temperature{list(idx)} = {float(t[idx])!r} is invalid; temperatures "
            "must be >= 0 (0 gives the hardmax limit, inf the uniform limit)"
        )


def prepare_mask(where: Any, xp: Any, shape: tuple[int, ...], device: Any, *, fn: str) -> Any:
    """Validate a ``where=`` mask: boolean, broadcastable to the input's shape."""
    if where is None:
        return None
    if isinstance(where, (bool, np.bool_)):
        where = np.asarray(where)
    if isinstance(where, (list, tuple)):
        where = np.asarray(where)
    if not array_api_compat.is_array_api_obj(where):
        raise TypeError(f"{fn}: where must be a boolean array, got {type(where).__name__}")
    if dtype_name(where.dtype) not in ("bool", "bool_"):
        raise TypeError(f"{fn}: where must be a boolean array, got dtype {where.dtype}")
    try:
        target = np.broadcast_shapes(tuple(where.shape), tuple(shape))
    except ValueError:
        target = None
    if target != tuple(shape):
        raise ValueError(
            f"{fn}: where of shape {tuple(where.shape)} does not broadcast to the input's "
            f"shape {tuple(shape)}"
        )
    if isinstance(where, np.ndarray) and xp is not namespace(where):
        where = xp.asarray(where, device=device)
    return xp.broadcast_to(where, shape)


class _NoWhere:
    """The type of :data:`NO_WHERE`."""

    def __repr__(self) -> str:
        return "NO_WHERE"


#: ``setup(where=NO_WHERE)`` (the default): the calling function has no ``where=`` argument,
#: so a masked array's mask has nowhere to go and is refused rather than dropped.
NO_WHERE: Any = _NoWhere()


def _unmask(x: Any, honour: bool, fn: str, name: str) -> tuple[Any, Any]:
    """``(data, keep)`` of a NumPy masked array (``keep`` False where masked, None when no
    entry is masked); other inputs pass through as ``(x, None)``."""
    if not isinstance(x, np.ma.MaskedArray):
        return x, None
    hidden = np.ma.getmaskarray(x)
    data = np.ma.getdata(x)
    if not hidden.any():
        return data, None
    if not honour:
        count = int(hidden.sum())
        raise TypeError(
            f"{fn}: {name} is a masked array with {count} masked "
            f"entr{'y' if count == 1 else 'ies'}; {fn} cannot honour its mask here and would "
            f"use the hidden values: pass {name}.filled(value) or np.ma.getdata({name}) for "
            "plain values"
        )
    return data, ~hidden


@dataclass(frozen=True)
class Setup(Prepared):
    """Everything a map, derivative, loss or autodiff rule knows about its input after entry.

    A :class:`Prepared` input (namespace, raw array, compute and output dtypes) together with
    the normalised reduced ``axes``, the parsed :class:`Temperature` and the validated mask
    (``None`` when there is none). Built once, by :func:`setup`; every edge case of the
    arguments has become a value here, so the code that follows branches on values instead of
    re-checking arguments.
    """

    fn: str = ""
    axes: tuple[int, ...] = ()
    temp: Temperature = Temperature("one")
    mask: Array | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        """The input's shape."""
        return tuple(self.raw.shape)

    @property
    def n(self) -> int:
        """Number of entries in one row (the product of the reduced axes' lengths)."""
        return math.prod(self.shape[a] for a in self.axes)

    @property
    def batch(self) -> tuple[int, ...]:
        """The shape of the non-reduced axes."""
        return tuple(d for i, d in enumerate(self.shape) if i not in self.axes)

    @property
    def device(self) -> Any:
        """The device of the input."""
        return array_api_compat.device(self.raw)

    @property
    def empty(self) -> bool:
        """True when the input has no entries."""
        return math.prod(self.shape) == 0


def setup(
    fn: str,
    x: Any,
    *,
    axis: Any = -1,
    temperature: Any = 1.0,
    where: Any = NO_WHERE,
    dtype: Any = None,
    name: str = "x",
    along: str | None = None,
) -> Setup:
    """Everything a map checks on entry: the input (dtype policy), axes, temperature, mask.

    Parameters
    ----------
    fn : str
        The public function's name, used in every error message.
    x : array_like
        The input; ``name`` is what messages call it.
    axis, temperature, where, dtype
        As the public maps take them (see :func:`softmaxkit.softmax`). A caller that takes
        ``where=`` passes it on, even when it is None; leaving it out (:data:`NO_WHERE`) says
        the function has no mask argument.
    along : str, optional
        Require ``axis`` to be one integer, for functions in which a position along the axis
        means something (a reference or base state, the parts of a composition); the text
        says why, in the error message.

    Returns
    -------
    Setup
        The validated record.

    Raises
    ------
    TypeError
        For a NumPy masked array with masked entries passed to a function without ``where=``
        (see Notes).

    Notes
    -----
    **Masked arrays.** A :class:`numpy.ma.MaskedArray` is honoured as a mask: its masked
    entries are excluded exactly like ``where=False`` ones (probability 0, log-probability
    −inf, left out of a logsumexp), combined with an explicit ``where`` by logical *and*; the
    values under the mask are never read. The result is a plain NumPy array. A function
    without ``where=`` refuses a masked array that has masked entries (``TypeError``) instead
    of computing with the hidden values; one without masked entries is its data.

    Examples
    --------
    >>> import numpy as np
    >>> s = setup("softmax", np.zeros((2, 3), np.float32), temperature=0)
    >>> s.axes, s.temp.kind, s.compute_dtype, s.out_dtype
    ((1,), 'zero', <class 'numpy.float64'>, dtype('float32'))
    >>> m = setup("softmax", np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0]), where=None)
    >>> type(m.raw).__name__, m.mask.tolist()
    ('ndarray', [True, False, True])
    """
    x, hidden = _unmask(x, where is not NO_WHERE, fn, name)
    if where is NO_WHERE:
        where = None
    prep = prepare(x, name=name, dtype=dtype, fn=fn)
    raw = prep.raw
    if along is None:
        axes = normalize_axis(axis, raw.ndim, fn=fn)
    else:
        axes = (single_axis(axis, raw.ndim, fn=fn, why=along),)
    shape = tuple(raw.shape)
    device = array_api_compat.device(raw)
    temp = parse_temperature(
        temperature, prep.xp, reduced_shape(shape, axes), prep.compute_dtype, device, fn=fn
    )
    mask = prepare_mask(where, prep.xp, shape, device, fn=fn)
    if hidden is not None:
        mask = hidden if mask is None else np.logical_and(mask, hidden)
    return Setup(prep.xp, raw, prep.compute_dtype, prep.out_dtype, fn, axes, temp, mask)


def check_out(out: Any, raw: Array, shape: tuple[int, ...], dtype: Any, *, fn: str) -> Any:
    """Validate an ``out=`` array and return the output dtype it implies.

    ``out`` must be a writeable NumPy array (other libraries have immutable arrays or their own
    conventions) of the result's shape, with a real floating dtype that agrees with ``dtype``
    when that is given.
    """
    if not isinstance(raw, np.ndarray) or not isinstance(out, np.ndarray):
        raise TypeError(
            f"{fn}: out= is supported for NumPy arrays only (got x of type "
            f"{type(raw).__name__} and out of type {type(out).__name__})"
        )
    if tuple(out.shape) != tuple(shape):
        raise ValueError(f"{fn}: out has shape {tuple(out.shape)}, expected {tuple(shape)}")
    if out.dtype.kind != "f" and dtype_name(out.dtype) != "bfloat16":
        raise TypeError(f"{fn}: out must have a real floating dtype, got {out.dtype}")
    if dtype is not None and np.dtype(dtype) != out.dtype:
        raise TypeError(f"{fn}: out has dtype {out.dtype} but dtype={dtype!r} was asked for")
    if not out.flags.writeable:
        raise ValueError(f"{fn}: out is read-only")
    return out.dtype


def reduced_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape after reducing ``axes`` with kept dimensions."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def squeeze_axes(xp: Any, a: Array, axes: tuple[int, ...]) -> Array:
    """Drop the (length-1) reduced axes of ``a``."""
    if not axes:
        return a
    shape = tuple(n for i, n in enumerate(a.shape) if i not in axes)
    return xp.reshape(a, shape)


def full_like_scalar(xp: Any, like: Array, value: float) -> Array:
    """A 0-d array holding ``value`` in ``like``'s dtype and device (for ``xp.where``)."""
    return xp.asarray(value, dtype=like.dtype, device=array_api_compat.device(like))


def finish(xp: Any, a: Array, out_dtype: Any) -> Array:
    """Cast a result to the output dtype (a no-op when it already has it)."""
    if a.dtype != out_dtype:
        a = xp.astype(a, out_dtype)
    return a


def single_axis(axis: Any, ndim: int, *, fn: str, why: str) -> int:
    """An axis that must be one integer (a position along it is meaningful)."""
    if ndim == 0:
        raise ValueError(f"{fn}: the input must have at least one dimension ({why})")
    if isinstance(axis, (tuple, list)) and len(axis) == 1:
        axis = axis[0]
    if axis is None or isinstance(axis, (tuple, list)):
        raise ValueError(f"{fn}: axis must be a single integer ({why}), got {axis!r}")
    return normalize_axis(axis, ndim, fn=fn)[0]


def index_in(value: Any, n: int, *, fn: str, name: str, what: str) -> int:
    """An integer position in ``[-n, n-1]``, normalised to ``[0, n-1]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{fn}: {name} must be an integer, got {value!r}")
    v = int(value)
    if not -n <= v < n:
        raise ValueError(
            f"{fn}: {name}={v} is out of range for {what} of length {n}; "
            f"expected an integer in [{-n}, {n - 1}]"
        )
    return v % n
