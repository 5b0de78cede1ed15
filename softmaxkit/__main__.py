"""``python -m softmaxkit``: the ``softmaxkit`` command line."""

from softmaxkit.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
