"""The public autodiff functions, generated from the maps they differentiate.

Each public function of :mod:`softmaxkit.autodiff.torch` and :mod:`softmaxkit.autodiff.jax` is
a map (:func:`softmaxkit.softmax`, :func:`softmaxkit.entmax`, ...) run through a
differentiation rule. Its signature and docstring are the map's own, read with
:func:`inspect.signature` and ``__doc__`` — less the parameters the rule does not take
(``out``, logsumexp's weights ``b``), plus a lead paragraph on the derivative — so a map's
parameters are declared and documented once, in the map.
"""

from __future__ import annotations

import functools
import inspect
import re
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Generated", "derived", "parameters"]

# A numpydoc section header: a title line underlined with dashes.
_SECTION = re.compile(r"^(?P<title>[A-Z][A-Za-z ]*)\n-+\n", re.MULTILINE)


@dataclass(frozen=True)
class Generated:
    """What one backend adds to a map's documentation.

    Attributes
    ----------
    lead : str
        The one-line summary (the map's name is formatted in as ``{name}``).
    formula : str
        The derivative (an extended summary, usually a ``.. math::`` block).
    notes : str
        The derivative's edge cases: the first paragraph of the Notes section (rewrapped).
    params : mapping of str to str
        Parameter entries (numpydoc: the ``name : type`` line unindented, the description
        indented by 4) replacing the map's entry of that name.
    raises : str
        Raises entries (numpydoc, as ``params``) added to the map's own.
    """

    lead: str
    formula: str = ""
    notes: str = ""
    params: Mapping[str, str] = field(default_factory=dict)
    raises: str = ""


def _split(doc: str) -> tuple[str, list[tuple[str, str]]]:
    """A numpydoc docstring as (text before the first section, [(title, body), ...])."""
    doc = inspect.cleandoc(doc)
    heads = list(_SECTION.finditer(doc))
    if not heads:
        return doc.strip(), []
    sections = []
    for i, h in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(doc)
        sections.append((h["title"], doc[h.end() : end].strip("\n")))
    return doc[: heads[0].start()].strip(), sections


def _entries(body: str) -> list[tuple[str, str]]:
    """The entries of a Parameters section: [(header line, indented description), ...]."""
    out: list[tuple[str, str]] = []
    for line in body.splitlines():
        if line and not line[0].isspace():
            out.append((line, ""))
        elif out:
            head, text = out[-1]
            out[-1] = (head, f"{text}\n{line}" if text else line)
    return out


def _filter_params(body: str, keep: set[str], replace: Mapping[str, str]) -> str:
    """The Parameters section with the entries of dropped parameters removed (a grouped
    entry such as ``x, axis, dtype`` keeps its remaining names) and the entries named in
    ``replace`` replaced (taken out of their group and put first)."""
    kept = []
    for head, text in _entries(body):
        names, sep, kind = head.partition(" : ")
        wanted = [n.strip() for n in names.split(",") if n.strip() in keep]
        kept += [replace[n].strip("\n") for n in wanted if n in replace]
        wanted = [n for n in wanted if n not in replace]
        if wanted:
            head = ", ".join(wanted) + (sep + kind if sep else "")
            kept.append(f"{head}\n{text}" if text else head)
    return "\n".join(kept)


def _fill(text: str) -> str:
    """A paragraph wrapped to the width of the maps' docstrings."""
    return textwrap.fill(
        " ".join(text.split()), width=92, break_long_words=False, break_on_hyphens=False
    )


def _docstring(map_fn: Callable[..., Any], keep: set[str], gen: Generated) -> str:
    """The map's docstring for its differentiable twin: the backend's lead and formula, the
    map's summary, its Parameters (those ``keep`` names), Returns, Raises (plus the
    backend's) and Notes (after the derivative's). Examples are left out: they call the
    NumPy map, and doctests would run them against the twin."""
    name = map_fn.__name__
    summary, sections = _split(map_fn.__doc__ or "")
    raises = gen.raises.strip("\n")
    parts = [gen.lead.format(name=name)]
    if gen.formula:
        parts.append(inspect.cleandoc(gen.formula))
    parts.append(f"The map: {summary}")
    titles = [t for t, _ in sections]
    for title, body in sections:
        if title == "Parameters":
            body = _filter_params(body, keep, gen.params)
        elif title == "Raises" and gen.raises:
            body = f"{body}\n{raises}"
        elif title == "Notes" and gen.notes:
            body = f"{_fill(gen.notes)}\n\n{body}"
        elif title == "Examples":
            continue
        parts.append(f"{title}\n{'-' * len(title)}\n{body}")
        if title == "Returns" and gen.raises and "Raises" not in titles:
            parts.append(f"Raises\n------\n{raises}")
    if gen.notes and "Notes" not in titles:
        parts.append(f"Notes\n-----\n{_fill(gen.notes)}")
    return "\n\n".join(parts) + "\n"


def _as_python_says(
    exc: TypeError, params: list[inspect.Parameter], args: tuple[Any, ...], kwargs: Any
) -> str:
    """A binding error worded as Python words it for a function with these parameters."""
    positional = [p for p in params if p.kind <= inspect.Parameter.POSITIONAL_OR_KEYWORD]
    low = sum(p.default is inspect.Parameter.empty for p in positional)
    high = len(positional)
    if not args and positional[0].name not in kwargs:
        return f"missing 1 required positional argument: '{positional[0].name}'"
    if len(args) > high:
        takes = f"{high} positional argument{'s' * (high != 1)}"
        if low != high:
            takes = f"from {low} to {high} positional arguments"
        return f"takes {takes} but {len(args)} were given"
    only = [p.name for p in positional if p.kind is inspect.Parameter.POSITIONAL_ONLY]
    if set(only) & set(kwargs):
        names = ", ".join(n for n in only if n in kwargs)
        return f"got some positional-only arguments passed as keyword arguments: '{names}'"
    text = str(exc)
    return f"got {text}" if text.startswith("multiple values") else text


def parameters(fn: Callable[..., Any]) -> tuple[str, ...]:
    """The names of ``fn``'s parameters after the input ``x``."""
    return tuple(inspect.signature(fn).parameters)[1:]


def derived(
    map_fn: Callable[..., Any],
    rule: Callable[..., Any],
    gen: Generated,
    *,
    module: str,
    drop: tuple[str, ...] = ("out",),
    annotations: Mapping[str, Any] | None = None,
) -> Callable[..., Any]:
    """The public twin of ``map_fn`` that computes it through ``rule``.

    Parameters
    ----------
    map_fn : callable
        The map; its name, signature and docstring are the twin's.
    rule : callable
        ``rule(x, kw)``: ``kw`` holds every parameter of the twin after ``x``, defaults
        filled in.
    gen : Generated
        What the backend adds to the docstring.
    module : str
        The module the twin belongs to (its ``__module__``).
    drop : tuple of str, default ("out",)
        The map's parameters the twin does not take.
    annotations : mapping, optional
        Annotations replacing the map's (the key ``"return"`` for the result).

    Returns
    -------
    callable
        A function with the map's signature less ``drop``; ``__wrapped__`` is the map.
    """
    annotations = dict(annotations or {})
    sig = inspect.signature(map_fn)
    params = [
        p.replace(annotation=annotations.get(p.name, p.annotation))
        for p in sig.parameters.values()
        if p.name not in drop
    ]
    sig = sig.replace(
        parameters=params, return_annotation=annotations.get("return", sig.return_annotation)
    )
    name = map_fn.__name__
    # The common call passes x and keywords: it needs no full bind when every parameter after
    # x can be a keyword and has a default (true of every map).
    defaults = {p.name: p.default for p in params[1:]}
    fast = all(
        p.kind is not inspect.Parameter.POSITIONAL_ONLY and p.default is not p.empty
        for p in params[1:]
    )

    def twin(*args: Any, **kwargs: Any) -> Any:
        if fast and len(args) == 1 and kwargs.keys() <= defaults.keys():
            return rule(args[0], {**defaults, **kwargs})
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{name}() {_as_python_says(exc, params, args, kwargs)}") from None
        bound.apply_defaults()
        kw = dict(bound.arguments)
        x = kw.pop(params[0].name)
        return rule(x, kw)

    functools.update_wrapper(twin, map_fn, assigned=("__name__", "__qualname__"), updated=())
    twin.__module__ = module
    twin.__qualname__ = name
    twin.__signature__ = sig  # type: ignore[attr-defined]
    twin.__doc__ = _docstring(map_fn, {p.name for p in params}, gen)
    return twin
