"""The documentation, a Sphinx project.

A package only so that pytest, collecting tests/ and docs/ in one run, can tell
docs/conftest.py from tests/conftest.py.
"""
