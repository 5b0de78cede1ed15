"""Sphinx configuration of the softmaxkit documentation.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (after
``pip install ".[docs]"``). The API reference and the command-line page are generated from
the code at every build (``docs/_ext/softmaxkit_docs.py``); the gallery's figures are made by
running ``docs/examples/plot_*.py``.

Cross-links to other projects (intersphinx) need their ``objects.inv`` from the web. Set
``SOFTMAXKIT_DOCS_INTERSPHINX`` to choose:

* ``auto`` (default): link to every project whose inventory can be fetched within a few
  seconds; an unreachable one is left out with one line in the log (offline, names such as
  ``numpy.ndarray`` then show as plain code instead of links), so an offline ``-W`` build
  passes;
* ``1``: link to all of them; a failed download is a warning (an error under ``-W``) — for
  a release build that must have every link;
* ``0``: no cross-links, nothing is fetched.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import urllib.request
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import softmaxkit  # noqa: E402

# -- project -------------------------------------------------------------------------------

project = "softmaxkit"
author = "the softmaxkit developers"
copyright = "the softmaxkit developers"
release = softmaxkit.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx_copybutton",
    "sphinx_gallery.gen_gallery",
    "softmaxkit_docs",
]

# Formulas are typeset by MathJax, which the browser loads from its CDN. With the optional
# package sphinx-mathjax-offline installed (MathJax 3.2.2, about 24 MB), the site carries
# its own copy and shows formulas offline too.
if importlib.util.find_spec("sphinx-mathjax-offline") is not None:
    extensions.append("sphinx-mathjax-offline")

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_templates",
    "Thumbs.db",
    ".DS_Store",
    # sphinx-gallery's own bookkeeping, written into the source folder
    "sg_execution_times.rst",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.md5",
    "auto_examples/*.codeobj.json",
    "examples/README.rst",
]
suppress_warnings = [
    # MyST: the guides link to headings of other pages with explicit anchors only
    "myst.header",
]
default_role = "code"
pygments_style = "sphinx"
# "--help" and "--engine dask" are options, not dashes
smartquotes = False

# -- MyST ----------------------------------------------------------------------------------

myst_enable_extensions = ["colon_fence", "deflist"]  # no dollarmath: "$30" is money
myst_heading_anchors = 3

# -- autodoc, autosummary, numpydoc -----------------------------------------------------

autosummary_generate = True
autosummary_generate_overwrite = True
autosummary_imported_members = True
autosummary_ignore_module_all = False  # the autograd modules: what their __all__ lists
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # the numpydoc "Parameters" sections give the types
add_module_names = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True

# -- intersphinx ---------------------------------------------------------------------------

INVENTORIES = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "scipy": "https://docs.scipy.org/doc/scipy/",
    "torch": "https://docs.pytorch.org/docs/stable/",
    "jax": "https://docs.jax.dev/en/latest/",
    "dask": "https://docs.dask.org/en/stable/",
    "sklearn": "https://scikit-learn.org/stable/",
    "statsmodels": "https://www.statsmodels.org/stable/",
    "pandas": "https://pandas.pydata.org/docs/",
    "matplotlib": "https://matplotlib.org/stable/",
}
intersphinx_timeout = 10


def _answers(url: str, timeout: float = 5.0) -> bool:
    """Whether ``url``'s ``objects.inv`` can be fetched within ``timeout`` seconds.

    urllib honours the usual proxy variables (``HTTPS_PROXY``), as Sphinx's download does.
    """
    try:
        with urllib.request.urlopen(url + "objects.inv", timeout=timeout) as response:
            return response.status == 200
    except (OSError, ValueError):  # URLError, timeouts and HTTP errors are OSErrors
        return False


def _intersphinx_mapping(mode: str) -> dict[str, tuple[str, None]]:
    if mode == "0":
        return {}
    if mode == "1":
        return {k: (u, None) for k, u in INVENTORIES.items()}
    if mode != "auto":
        raise ValueError(f"SOFTMAXKIT_DOCS_INTERSPHINX={mode!r}; expected auto, 1 or 0")
    with ThreadPoolExecutor(len(INVENTORIES)) as pool:
        up = dict(zip(INVENTORIES, pool.map(_answers, INVENTORIES.values()), strict=True))
    left_out = sorted(k for k, ok in up.items() if not ok)
    if left_out:
        print(f"intersphinx: could not fetch the inventories of {', '.join(left_out)}; "
              "their names are not linked (SOFTMAXKIT_DOCS_INTERSPHINX=1 insists)")
    return {k: (u, None) for k, u in INVENTORIES.items() if up[k]}


intersphinx_mapping = _intersphinx_mapping(os.environ.get("SOFTMAXKIT_DOCS_INTERSPHINX", "auto"))

# -- the gallery ---------------------------------------------------------------------------

os.environ.setdefault("MPLBACKEND", "Agg")
# Figures are drawn in a fresh process per build: no warnings from a non-GUI backend.
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "show_memory": False,
    "capture_repr": ("_repr_html_", "__repr__"),
    # "Examples in the gallery" on the API page of every name an example uses
    "backreferences_dir": "api/generated/backreferences",
    "doc_module": ("softmaxkit",),
    "write_computation_times": False,
}

# -- copy buttons: the code of a ">>>" block without its prompts and outputs ---------------

copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True

# -- HTML ----------------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"softmaxkit {release}"
html_static_path = ["_static"]
html_css_files = ["softmaxkit.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "navigation_with_keys": False,
}
html_context = {"default_mode": "light"}
html_sidebars = {"index": [], "design": [], "development": [], "cli": []}
