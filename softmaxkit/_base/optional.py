"""Optional packages: import one, or say in one line which extra installs it.

The core install (``pip install softmaxkit``) needs only NumPy and array-api-compat. What needs
more imports it through :func:`require` at the point of use, so that a missing package ends in
one line naming the function and the extra to install, never in a bare
``ModuleNotFoundError`` from deep inside the call.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["EXTRAS", "require"]

# The extra of pyproject.toml's [project.optional-dependencies] that installs each optional
# top-level package (pandas ships with the command line's extra; it has none of its own).
EXTRAS: dict[str, str] = {
    "scipy": "stats",
    "matplotlib": "plot",
    "pandas": "cli",
    "pyarrow": "cli",
    "rich": "cli",
    "dask": "dask",
    "distributed": "dask",
    "torch": "torch",
    "jax": "jax",
}


def require(module: str, *, fn: str, extra: str | None = None) -> ModuleType:
    """Import ``module`` (dotted names allowed), or raise an ImportError naming the extra.

    Parameters
    ----------
    module : str
        The module to import, e.g. ``"scipy.optimize"``.
    fn : str
        The public function (or class method) that needs it; the message starts with it.
    extra : str, optional
        The extra that installs it; by default looked up in :data:`EXTRAS` from the top-level
        package name.

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    ModuleNotFoundError
        (an :class:`ImportError`) with one line: the function, the missing package and the
        ``pip install "softmaxkit[extra]"`` command; the original error is chained as its
        ``__cause__`` (it tells a broken install from a missing one).

    Examples
    --------
    >>> from softmaxkit._base.optional import require
    >>> require("math", fn="demo").sqrt(4.0)
    2.0
    >>> require("no_such_package_xyz", fn="demo", extra="stats")
    Traceback (most recent call last):
    ...
    ModuleNotFoundError: demo needs no_such_package_xyz, which is not installed: pip install "softmaxkit[stats]"
    """  # noqa: E501
    top = module.partition(".")[0]
    extra = extra if extra is not None else EXTRAS.get(top, "test")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        # A missing package names itself (exc.name); anything else is a broken install,
        # which the same command repairs, but the message should not claim it is absent.
        missing = isinstance(exc, ModuleNotFoundError) and exc.name in (top, module)
        state = "which is not installed" if missing else f"which could not be imported ({exc})"
        raise ModuleNotFoundError(
            f'{fn} needs {top}, {state}: pip install "softmaxkit[{extra}]"', name=top
        ) from exc
