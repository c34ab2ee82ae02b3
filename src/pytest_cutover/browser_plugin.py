"""Load pytest-playwright only for runs that can select a browser check.

The suite's addopts block the plugin (`-p no:playwright`): importing it brings in Playwright's
whole sync API and registers its fixtures and options, which a smoke or readiness run never uses
(about a sixth of the start-up of a short run). They block pytest-base-url too (`-p no:base_url`),
which only the browser checks use and whose autouse fixture every other check paid for. This
module, named with `-p` after the blocks, registers both again before the command line is fully
parsed (so `--headed`, `--browser`, `--tracing`, `--base-url` keep working) whenever e2e checks
may be selected:

- a positional argument that is, contains or lies inside the e2e folder (no argument: testpaths,
  which hold it), and
- a `-m` expression that can be true for a check carrying the `e2e` folder marker (and none of
  the other folder markers): every assignment of the other names it mentions is tried.

A run that names `-p no:playwright` itself, or a `--browser...` option, keeps its own choice or
gets the plugin. Suites without an e2e folder never load it through here.
"""

from __future__ import annotations

import importlib
import itertools
from pathlib import Path

import pytest

PLUGIN_NAME = "playwright"
PLUGIN_MODULE = "pytest_playwright.pytest_playwright"
BASE_URL_NAME = "base_url"  # pytest-base-url: its --base-url option and `base_url` fixture
BASE_URL_MODULE = "pytest_base_url.plugin"
E2E_FOLDER = "e2e"
E2E_MARKER = "e2e"
# the folder markers of the other check folders (plugin.FOLDER_MARKERS): an e2e check has none
OTHER_FOLDER_MARKERS = frozenset({"readiness", "smoke", "load", "rollback_drill", "post_launch"})
BROWSER_OPTIONS = ("--browser", "--base-url", "--headed", "--slowmo", "--tracing", "--video", "--screenshot",
                   "--device", "--browser-channel", "--full-page-screenshot", "--output")
MAX_FREE_NAMES = 10  # a longer expression is assumed to select browser checks (2^10 evaluations)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str]) -> None:
    manager = early_config.pluginmanager
    if manager.has_plugin(PLUGIN_NAME) or not _blocked_by_addopts(early_config, args):
        return
    rootdir = Path(early_config.rootpath)
    if not (rootdir / E2E_FOLDER).is_dir():
        return
    namespace = early_config.known_args_namespace
    positional = [a for a in getattr(namespace, "file_or_dir", None) or [] if not a.startswith("-")]
    wanted = (any(a.startswith(BROWSER_OPTIONS) for a in args)
              or (paths_reach_e2e(rootdir, positional)
                  and marker_expression_may_select_e2e(getattr(namespace, "markexpr", "") or "")))
    if wanted:
        if manager.is_blocked(BASE_URL_NAME) and _blocked_by_addopts(early_config, args, BASE_URL_NAME):
            manager.unblock(BASE_URL_NAME)
            manager.register(importlib.import_module(BASE_URL_MODULE), BASE_URL_NAME)
        manager.unblock(PLUGIN_NAME)
        manager.unblock(f"pytest_{PLUGIN_NAME}")
        manager.register(importlib.import_module(PLUGIN_MODULE), PLUGIN_NAME)


def _blocked_by_addopts(config: pytest.Config, args: list[str], name: str = PLUGIN_NAME) -> bool:
    """Only undo the suite's own block: a `-p no:playwright` (or `no:base_url`) typed on the
    command line (or in $PYTEST_ADDOPTS) on top of the ini's addopts stays."""
    if not config.pluginmanager.is_blocked(name):
        return False
    return _blocks(args, name) <= _blocks([str(a) for a in config.getini("addopts")], name)


def _blocks(args: list[str], name: str = PLUGIN_NAME) -> int:
    return sum(1 for i, a in enumerate(args) if a == f"-pno:{name}"
               or (a == f"no:{name}" and i > 0 and args[i - 1] == "-p"))


def paths_reach_e2e(rootdir: Path, positional: list[str]) -> bool:
    """Whether the arguments name the e2e folder, a folder holding it, or something inside it
    (none named: the testpaths, which hold it)."""
    if not positional:
        return True
    e2e = (rootdir / E2E_FOLDER).resolve()
    for argument in positional:
        path = Path(argument.split("::")[0])
        path = (path if path.is_absolute() else Path.cwd() / path).resolve()
        if path == e2e or e2e in path.parents or path in e2e.parents:
            return True
    return False


def marker_expression_may_select_e2e(expression: str) -> bool:
    """Whether `-m expression` is true for some check of the e2e folder."""
    if not expression.strip():
        return True
    from _pytest.mark.expression import Expression

    try:
        compiled = Expression.compile(expression)
    except Exception:  # noqa: BLE001 - pytest reports a bad expression itself, with the plugin loaded
        return True
    free = sorted(_all_names(expression) - OTHER_FOLDER_MARKERS - {E2E_MARKER})
    if len(free) > MAX_FREE_NAMES:
        return True
    for values in itertools.product((False, True), repeat=len(free)):
        if compiled.evaluate(_Assignment(dict(zip(free, values, strict=True)))):
            return True
    return False


class _Assignment:
    """A marker matcher for one e2e check: `e2e` set, the other folder markers not, the rest as
    chosen (a name with arguments, `name(key=value)`, is judged by its name)."""

    def __init__(self, chosen: dict[str, bool]) -> None:
        self.chosen = chosen

    def __call__(self, name: str, /, **kwargs: str | int | bool | None) -> bool:
        if name == E2E_MARKER:
            return True
        return False if name in OTHER_FOLDER_MARKERS else self.chosen.get(name, False)


def _all_names(expression: str) -> set[str]:
    """The identifiers of a marker expression (its keywords and/or/not are not names)."""
    import re

    words = set(re.findall(r"[\w:+\-.\[\]\\/]+", expression))
    return words - {"and", "or", "not", "True", "False", "None"}
