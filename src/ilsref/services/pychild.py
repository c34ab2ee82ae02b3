"""Argv and environment for running an `ilsref` module as a child process."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import ilsref

# The directory holding the `ilsref` package, so `-m ilsref...` works without an installed package.
_PACKAGE_ROOT = str(Path(ilsref.__file__).resolve().parent.parent)


def module_argv(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def module_env(**extra: str) -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": _PACKAGE_ROOT + (os.pathsep + path if path else ""), **extra}
