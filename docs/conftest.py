"""pytest in docs/: the guides' ``>>>`` examples are doctests (``--doctest-glob='*.md'``).

The Python files here are the Sphinx configuration, its extension and the gallery scripts
(which sphinx-gallery runs when it builds the pages), and ``_build`` / ``auto_examples`` /
``api/generated`` are build output: none of them is collected.
"""

collect_ignore_glob = ["*.py", "_ext/*", "examples/*", "auto_examples/*", "_build/*", "api/*"]
