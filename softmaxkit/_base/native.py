"""Loader of the optional native kernel (``softmaxkit._base._native``, built from
``_native.c`` by the package's build when a C compiler is present).

The kernel computes softmax, log_softmax and logsumexp over the rows of a C-ordered float32 or
float64 array with the NumPy fast path's arithmetic, fused into one or two passes over memory (see
the C source's header). It is used when it is built and not disabled by the environment variable
``SOFTMAXKIT_NATIVE=0``; otherwise the NumPy fast path runs. :func:`reason` says which and why.

This module is the bottom floor of ``_base``: it imports nothing of the package.

>>> from softmaxkit._base import native
>>> native.enabled() == (native.load() is not None)
True
>>> isinstance(native.reason(), str)
True
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

ENV = "SOFTMAXKIT_NATIVE"
_ABI = 1  # the interface version this package's Python side expects

_module: ModuleType | None = None
_reason = ""
_loaded = False


def _disabled_by_env() -> bool:
    return os.environ.get(ENV, "").strip().lower() in ("0", "false", "no", "off")


def load() -> ModuleType | None:
    """The native kernel module, or None when it is not built, not loadable or disabled.

    The environment variable ``SOFTMAXKIT_NATIVE`` is read on every call (``0``, ``false``,
    ``no`` or ``off`` disable the kernel), so a test can switch paths with ``monkeypatch``; the
    import itself is tried once.
    """
    global _module, _reason, _loaded
    if not _loaded:
        _loaded = True
        try:
            mod = importlib.import_module("softmaxkit._base._native")
        except ImportError as exc:  # not built (no compiler, or an optional build that failed)
            _reason = (f"not built ({exc}); a source checkout imported as it is has no "
                       "compiled kernel: pip install -e . builds it in place")
        else:
            if getattr(mod, "ABI", None) != _ABI:
                _reason = (f"stale build: interface {getattr(mod, 'ABI', None)!r}, expected "
                           f"{_ABI}; rebuild with pip install .")
            else:
                _module = mod
    if _module is None or _disabled_by_env():
        return None
    return _module


def enabled() -> bool:
    """Whether the fast path uses the native kernel now."""
    return load() is not None


def reason() -> str:
    """Why the native kernel is used or not, in words (for diagnostics and bug reports)."""
    mod = load()
    if mod is not None:
        return f"enabled ({mod.isa()})"
    if _module is not None:
        return f"disabled by {ENV}={os.environ.get(ENV)}"
    return _reason
