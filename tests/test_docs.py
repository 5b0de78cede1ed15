"""The documentation covers the package: a page per public name, every command's help.

Fast checks without running Sphinx: the API reference's index (``docs/api/index.rst``, written
at build time by ``docs/_ext/softmaxkit_docs.py``) is generated here from the same function
and compared with ``softmaxkit.__all__``; the command-line page's directive is checked to
render every command of ``softmaxkit.cli.COMMANDS``. The guides' ``>>>`` examples run as
doctests (``--doctest-glob='*.md'`` over ``docs``); the full build is
``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx", reason="the docs extra (pip install '.[docs]') is not installed")

import softmaxkit
from softmaxkit import cli

DOCS = Path(__file__).resolve().parent.parent / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
docs_ext = importlib.import_module("softmaxkit_docs")

PUBLIC = [n for n in softmaxkit.__all__ if n != "__version__"]


def _autosummary_entries(text: str) -> list[str]:
    """The names listed in the autosummary tables of an index page."""
    names, inside = [], False
    for line in text.splitlines():
        if line.startswith(".. autosummary::"):
            inside = True
        elif inside and line.startswith("   ") and not line.strip().startswith(":"):
            names.append(line.strip())
        elif inside and line.strip() and not line.startswith("   "):
            inside = False
    return names


def test_every_public_name_has_a_page_once() -> None:
    entries = _autosummary_entries(docs_ext.api_index_text())
    listed = [e for e in entries if e in PUBLIC]
    assert sorted(listed) == sorted(PUBLIC), (
        f"without a page: {sorted(set(PUBLIC) - set(listed))}; "
        f"listed twice: {sorted({n for n in listed if listed.count(n) > 1})}"
    )
    modules = [e for e in entries if e not in PUBLIC]
    assert sorted(f"softmaxkit.autodiff.{m}" for m in modules) == sorted(docs_ext.MODULES)


def test_groups_follow_the_defining_module() -> None:
    groups = {key: names for key, _, _, names in docs_ext.api_groups()}
    assert "softmax" in groups["maps"] and "inverse_softmax" in groups["inverse"]
    assert "softmax_jacobian" in groups["derivatives"]
    for key, names in groups.items():
        for name in names:
            module = getattr(softmaxkit, name).__module__
            assert docs_ext.group_key(module) == key, (name, module, key)
    # every group has a title of its own (a new module gets its own, not a shared one)
    titles = [title for _, title, _, _ in docs_ext.api_groups()]
    assert len(titles) == len(set(titles))


def test_every_public_name_has_a_docstring() -> None:
    """An autodoc page of a name without a docstring would be an empty page."""
    missing = [n for n in PUBLIC if not (getattr(softmaxkit, n).__doc__ or "").strip()]
    assert not missing, f"no docstring: {missing}"


def test_generated_stubs_match_when_built() -> None:
    """After a build, ``docs/api/generated`` holds one stub per public name, no stale ones."""
    generated = DOCS / docs_ext.API_DIR / docs_ext.GENERATED
    if not generated.is_dir():
        pytest.skip("the docs have not been built here (docs/api/generated is absent)")
    stubs = {p.stem for p in generated.glob("softmaxkit.*.rst")}
    expected = {f"softmaxkit.{n}" for n in PUBLIC} | set(docs_ext.MODULES)
    assert expected <= stubs, f"no stub for {sorted(expected - stubs)}"


def _parser_commands() -> set[str]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_cli_page_lists_every_command() -> None:
    names = [name for module in cli.COMMANDS for name in module.NAMES]
    assert [name for name, _ in docs_ext.cli_commands()] == names
    assert set(names) == _parser_commands()
    helps = dict(docs_ext.cli_helps())
    assert list(helps) == ["softmaxkit", *names]
    for name in names:
        assert helps[name].startswith(f"usage: softmaxkit {name}"), helps[name][:80]
        assert "--help" in helps[name]
    assert re.search(r"^\.\. softmaxkit-cli::\s*$", (DOCS / "cli.rst").read_text(), re.M)


def test_cli_help_does_not_depend_on_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page is the same whatever terminal width the build runs under."""
    monkeypatch.setenv("COLUMNS", "40")
    narrow = docs_ext.cli_helps()
    monkeypatch.setenv("COLUMNS", "250")
    assert docs_ext.cli_helps() == narrow


def test_every_guide_is_in_the_table_of_contents() -> None:
    index = (DOCS / "guides" / "index.md").read_text()
    assert "guides/index\n" in (DOCS / "index.md").read_text()
    for page in sorted((DOCS / "guides").glob("*.md")):
        if page.stem != "index":
            assert f"\n{page.stem}\n" in index, f"{page.name} is not in guides/index.md"


def test_guides_link_existing_figures() -> None:
    for page in sorted((DOCS / "guides").glob("*.md")):
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", page.read_text()):
            assert (page.parent / target).resolve().is_file(), f"{page.name}: {target}"


def test_gallery_examples_have_a_title() -> None:
    """sphinx-gallery needs each example's docstring to open with a titled section."""
    examples = sorted((DOCS / "examples").glob("plot_*.py"))
    assert len(examples) >= 3
    for path in examples:
        head = path.read_text().split('"""')[1].strip().splitlines()
        assert len(head) >= 2 and set(head[1]) == {"="} and len(head[1]) >= len(head[0]), path
