"""The documentation's own Sphinx extension: the pages that are generated from the code.

* ``api_groups()`` sorts every name of ``softmaxkit.__all__`` into the group of the module
  that defines it (its ``__module__``), so a new public name lands in its group without
  editing the docs; ``write_api_pages()`` writes ``api/index.rst`` and a page per group from
  it (an autosummary table each, whose ``:toctree:`` makes one page per name) before
  autosummary runs.
* The ``softmaxkit-cli`` directive renders ``softmaxkit --help`` and every command's
  ``--help`` from :func:`softmaxkit.cli.build_parser` at build time, one section per command
  of :data:`softmaxkit.cli.COMMANDS`, so the page cannot drift from the parser.

``tests/test_docs.py`` imports this module to check both against the package.
"""

from __future__ import annotations

import argparse
import os
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

# The groups of the API reference, in the order of the page, keyed by the first part of a
# name's module below ``softmaxkit`` (``softmaxkit.derivatives.sparse`` -> ``derivatives``).
# A module that is not listed gets a group of its own at the end, titled by its name.
GROUPS: dict[str, tuple[str, str]] = {
    "maps": ("Maps", "softmax, log_softmax, logsumexp and hardmax."),
    "inverse": (
        "Inverses and the base-state bijection",
        "Logits from probabilities with an explicit constant (the gauge); the bijection "
        "between R^(n-1) and the open simplex.",
    ),
    "sparse": ("Sparse maps", "sparsemax, 1.5-entmax, alpha-entmax, alpha-ReLU, budget sparsemax."),
    "sigmoid": ("Two classes", "The sigmoid family: sigmoid, log_sigmoid, logit, log1mexp."),
    "scan": ("Cumulative sums", "logcumsumexp along an axis."),
    "online": ("Streaming", "The online normaliser for data that arrive in blocks."),
    "derivatives": (
        "Derivatives",
        "Closed-form Jacobians, Hessians, JVPs and VJPs of every map, and the dispatchers.",
    ),
    "losses": ("Losses", "Fenchel-Young losses and cross-entropy, with their gradients."),
    "information": ("Information", "Entropies and divergences from logits."),
    "sampling": ("Sampling", "Categorical draws, Gumbel-softmax and Gumbel-sparsemax."),
    "simplex": ("Optimisation on the simplex", "Minimisation through the base-state map."),
    "boltzmann": ("Boltzmann populations", "The canonical ensemble and its thermodynamics."),
    "mlogit": ("Multinomial logit", "Multinomial logit regression with any base category."),
    "choice": ("Choice models", "McFadden's conditional logit and the nested logit."),
    "bayes": ("Bayes", "Posteriors and model weights as softmaxes."),
    "calibration": ("Calibration", "Calibrators, calibration metrics and reliability diagrams."),
    "compositions": ("Compositions", "Log-ratio coordinates of compositional data."),
    "_base": ("Errors and warnings", "The exceptions and warnings shared by the package."),
}

# The modules documented as a whole besides the names of ``softmaxkit.__all__``.
MODULES = ("softmaxkit.autodiff.torch", "softmaxkit.autodiff.jax")

API_DIR = "api"
GENERATED = "generated"


def group_key(module: str) -> str:
    """The group of a name defined in ``module`` (``softmaxkit.x.y`` -> ``x``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "softmaxkit" else module


def api_groups() -> list[tuple[str, str, str, list[str]]]:
    """``(key, title, blurb, names)`` for every group, names sorted, in the page's order."""
    import softmaxkit

    found: dict[str, list[str]] = defaultdict(list)
    for name in softmaxkit.__all__:
        if name == "__version__":
            continue
        obj = getattr(softmaxkit, name)
        found[group_key(getattr(obj, "__module__", None) or "softmaxkit")].append(name)
    keys = [k for k in GROUPS if k in found] + sorted(k for k in found if k not in GROUPS)
    return [
        (k, *GROUPS.get(k, (f"softmaxkit.{k}", "")), sorted(found[k], key=str.lower))
        for k in keys
    ]


def _by_module(names: list[str]) -> dict[str, list[str]]:
    """``names`` by the module that defines each, modules sorted (the package's own first)."""
    import softmaxkit

    found: dict[str, list[str]] = defaultdict(list)
    for name in names:
        found[getattr(softmaxkit, name).__module__].append(name)
    return {m: found[m] for m in sorted(found, key=lambda m: (m.count("."), m))}


def page_name(key: str) -> str:
    """The file name (without ``.rst``) of a group's page: ``_base`` -> ``errors``."""
    return "errors" if key == "_base" else key.strip("_")


HEADER = ".. This file is written by docs/_ext/softmaxkit_docs.py at every build; do not edit."


def api_pages() -> dict[str, str]:
    """The reStructuredText of the API reference: ``{file name under api/: text}``.

    ``index`` lists the groups; each group has a page whose autosummary table has a
    ``:toctree:``, so autosummary writes one page per name into ``api/generated``.
    """
    groups = api_groups()
    index = [HEADER, "", ".. _api:", "", "API reference", "=============", "",
             "Every public name of ``softmaxkit`` (``import softmaxkit as sk``: each is also",
             "importable from the module named on its page), grouped by the module that",
             "defines it, and the autograd modules. The pages are generated from the",
             "docstrings.", "",
             ".. list-table::", "   :header-rows: 1", "   :widths: 30 60 10", "",
             "   * - group", "     - what it holds", "     - names"]
    for key, _, blurb, names in groups:
        index += [f"   * - :ref:`api-{key}`", f"     - {blurb}", f"     - {len(names)}"]
    index += ["   * - :ref:`api-autodiff`",
              "     - The maps as PyTorch Functions and JAX ``custom_jvp`` rules.",
              f"     - {len(MODULES)} modules", "",
              ".. toctree::", "   :hidden:", ""]
    index += [f"   {page_name(key)}" for key, *_ in groups] + ["   autodiff", ""]
    pages = {"index": "\n".join(index)}
    for key, title, blurb, names in groups:
        lines = [HEADER, "", f".. _api-{key}:", "", title, "=" * len(title), "", blurb, "",
                 ".. currentmodule:: softmaxkit", ""]
        by_module = _by_module(names)
        for module, members in by_module.items():
            if len(by_module) > 1:  # a section per module of a package, as the code is
                heading = f"``{module}``"
                lines += [heading, "-" * len(heading), ""]
            lines += [".. autosummary::", f"   :toctree: {GENERATED}", "   :nosignatures:", ""]
            lines += [f"   {n}" for n in members] + [""]
        pages[page_name(key)] = "\n".join(lines)
    title = "Autograd: PyTorch and JAX"
    pages["autodiff"] = "\n".join([
        HEADER, "", ".. _api-autodiff:", "", title, "=" * len(title), "",
        "The maps as ``torch.autograd.Function`` s and ``jax.custom_jvp`` rules whose",
        "derivatives are the closed forms of :ref:`api-derivatives` (see",
        ":doc:`/guides/backends`). Each module's functions take and return its own arrays.",
        "", ".. currentmodule:: softmaxkit.autodiff", "",
        ".. autosummary::", f"   :toctree: {GENERATED}", "",
        *[f"   {m.rsplit('.', 1)[1]}" for m in MODULES], ""])
    return pages


def api_index_text() -> str:
    """Every API page's text, one after the other (what the tests read)."""
    return "\n".join(api_pages().values())


def write_api_pages(srcdir: Path) -> Path:
    """Write the API pages under ``srcdir/api`` where their text changed; return the folder.

    Pages and stubs that no longer belong (a group or a name that went away) are removed,
    so that a renamed function leaves no orphan page behind.
    """
    import softmaxkit

    folder = Path(srcdir) / API_DIR
    folder.mkdir(parents=True, exist_ok=True)
    pages = api_pages()
    for name, text in pages.items():
        path = folder / f"{name}.rst"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    for path in folder.glob("*.rst"):
        if path.stem not in pages:
            path.unlink()
    wanted = {f"softmaxkit.{n}" for n in softmaxkit.__all__} | set(MODULES)
    for path in (folder / GENERATED).glob("*.rst"):
        if path.stem not in wanted:
            path.unlink()
    return folder


# --- the command line --------------------------------------------------------------------

HELP_WIDTH = "100"


@contextmanager
def _columns(width: str):
    """argparse wraps its help to ``$COLUMNS``: fix it so the page does not depend on a terminal."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = width
    try:
        yield
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def cli_commands() -> list[tuple[str, str]]:
    """``(command, one-line help)`` for every command of every module of ``COMMANDS``."""
    from softmaxkit import cli

    short = {a.dest: a.help or "" for a in _subparsers(cli.build_parser())._choices_actions}
    return [(name, short.get(name, "")) for module in cli.COMMANDS for name in module.NAMES]


def cli_helps() -> list[tuple[str, str]]:
    """``("softmaxkit", top-level help)`` then ``(command, its --help)`` for every command.

    The commands are those of every module of :data:`softmaxkit.cli.COMMANDS`, in its order.
    """
    from softmaxkit import cli

    with _columns(HELP_WIDTH):
        parser = cli.build_parser()
        sub = _subparsers(parser)
        helps = [("softmaxkit", parser.format_help())]
        for name, _ in cli_commands():
            helps.append((name, sub.choices[name].format_help()))
    return helps


class CliHelp(SphinxDirective):
    """``.. softmaxkit-cli::`` — every command's ``--help``, one section each."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        lines = [".. list-table::", "   :header-rows: 1", "   :widths: 20 80", "",
                 "   * - command", "     - what it does"]
        for name, short in cli_commands():
            text = short.replace("*", "\\*").replace("`", "\\`")
            lines += [f"   * - :ref:`{name} <cli-{name}>`", f"     - {text}"]
        lines.append("")
        for name, text in cli_helps():
            title = "softmaxkit --help" if name == "softmaxkit" else f"softmaxkit {name}"
            lines += [f".. _cli-{name}:", "", title, "-" * len(title), "",
                      ".. code-block:: text", ""]
            lines += [f"   {line}".rstrip() for line in text.rstrip().splitlines()]
            lines.append("")
        content = StringList(lines, source="softmaxkit.cli.build_parser()")
        holder = nodes.section()
        holder.document = self.state.document
        nested_parse_with_titles(self.state, content, holder)
        return holder.children


def _strip_trailing_blank_lines(app, doctree: nodes.document) -> None:
    """Drop the blank line that ends a doctest block in the Markdown sources.

    doctest needs it before a closing fence (it ends the expected output); on the page it
    would be an empty last line in every example.
    """
    for block in doctree.findall(nodes.literal_block):
        if len(block.children) == 1 and isinstance(block[0], nodes.Text):
            text = block[0].astext()
            if text.endswith("\n"):
                # Sphinx highlights a block only while its rawsource equals its text
                block.rawsource = text.rstrip("\n")
                block[0] = nodes.Text(block.rawsource)


def _on_config_inited(app, config) -> None:
    write_api_pages(Path(app.srcdir))


def setup(app):
    # At config-inited, before Sphinx lists the source files (autosummary then finds the page
    # and writes its stubs at builder-inited).
    app.connect("config-inited", _on_config_inited)
    app.add_directive("softmaxkit-cli", CliHelp)
    app.connect("doctree-read", _strip_trailing_blank_lines)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
