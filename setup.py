"""Build of the optional native kernel (``softmaxkit._base._native``).

Everything else about the package is declared in pyproject.toml. The extension is optional: a
machine without a C compiler, or one where the build fails, still installs the package, which
then runs its NumPy fast path (``softmaxkit._base.native.reason()`` says why the kernel is off).

Flags: optimisation, and IEEE arithmetic kept exact. No FMA contraction (``-ffp-contract=off``):
the kernel's TwoSum and Kahan corrections and its bit-for-bit reproducibility across instruction
sets depend on every product being rounded on its own; never ``-ffast-math``, which would remove
those corrections. ``-fno-trapping-math`` only tells the compiler that no code inspects
floating-point exception flags, so that conditional selects vectorise; it changes no value.
"""

from __future__ import annotations

import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

GCC_LIKE_FLAGS = ["-O3", "-ffp-contract=off", "-fno-trapping-math", "-std=c11", "-Wno-psabi"]
MSVC_FLAGS = ["/O2", "/fp:precise"]


class BuildExt(build_ext):
    """Per-compiler flags, and a failed compile reported instead of failing the install."""

    def build_extensions(self) -> None:
        flags = MSVC_FLAGS if self.compiler.compiler_type == "msvc" else GCC_LIKE_FLAGS
        for ext in self.extensions:
            ext.extra_compile_args = [*ext.extra_compile_args, *flags]
        super().build_extensions()


setup(
    ext_modules=[
        Extension(
            "softmaxkit._base._native",
            sources=["softmaxkit/_base/_native.c"],
            optional=True,
        )
    ],
    cmdclass={"build_ext": BuildExt},
)

if __name__ == "__main__" and len(sys.argv) == 1:  # pragma: no cover - a hint, not a build
    print("build with: pip install .  (or pip install -e . for development)")
