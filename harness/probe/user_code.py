"""Where code lives: the user's packages, lagscope's own folders, the libraries.

The user's code is the app's own top-level package, and any package named with
``--code``, wherever it was imported from: the current folder, a ``src/`` layout or
site-packages (a service installed with ``pip install`` lives there).  lagscope's own
folders are never the user's, except the built-in app's package when lagscope runs it
(``lagscope.target_apps.shop`` for ``shop``).  Everything else under site-packages or
the standard library is a library.

Each of these is a :class:`Place`: a prefix of file names, what the files under it are,
and how they are named.  The longest prefix that matches a file decides, so
``site-packages/mysvc/`` is the user's inside the library ``site-packages/``, and
``site-packages/lagscope/target_apps/shop/`` inside lagscope's own folder.  The user's
files are named from their top-level package's folder on (``mysvc/api/orders.py``,
``target_apps/shop/faults/blocking_io.py``), the same in a checkout and installed.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Kind = Literal["user", "library", "lagscope"]
LAGSCOPE = "lagscope"
BUILTIN_APPS = "lagscope.target_apps"  # its packages are the built-in apps
# lagscope's own packages with a folder of their own (setuptools' package-dir in a checkout).
LAGSCOPE_PACKAGES = (
    "lagscope",
    "lagscope.harness",
    "lagscope.reports",
    "lagscope.scenarios",
    "lagscope.target_apps",
)
PACKAGE_MARKERS = (os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep)


@dataclass(frozen=True)
class Place:
    """Files whose path starts with ``prefix`` (a folder ending in a separator, or one
    file) are of ``kind`` and shown as ``name`` followed by the rest of their path."""

    prefix: str
    kind: Kind
    name: str


def app_package(module: str) -> str | None:
    """The package whose code is the user's when ``module`` is the app's module: its
    top-level package, or the built-in app's own package for a module of lagscope's
    (None for any other module of lagscope's: lagscope's code is never the user's)."""
    parts = module.split(".")
    if parts[0] != LAGSCOPE:
        return parts[0]
    if module.startswith(BUILTIN_APPS + ".") and len(parts) >= 3:
        return ".".join(parts[:3])
    return None


def _variants(path: str) -> set[str]:
    """``path`` as imported and with its links resolved: frames carry the former."""
    return {os.path.abspath(path), str(Path(path).resolve())}


def _folder(path: str) -> set[str]:
    return {p.rstrip(os.sep) + os.sep for p in _variants(path)}


def library_dirs() -> tuple[str, ...]:
    """The standard library's and site-packages' folders of this interpreter."""
    paths = sysconfig.get_paths()
    dirs = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    dirs.update(p for p in sys.path if p.endswith(("site-packages", "dist-packages")))
    return tuple(sorted(folder for d in dirs for folder in _folder(d)))


def library_places() -> list[Place]:
    return [
        Place(d, "library", "<site-packages>/" if d.endswith(PACKAGE_MARKERS) else "<stdlib>/")
        for d in library_dirs()
    ]


def in_library(path: str) -> bool:
    return any(path.startswith(d) for d in library_dirs()) or any(
        marker in path for marker in PACKAGE_MARKERS
    )


def _locations(name: str) -> tuple[list[str], str | None]:
    """(package folders, module file) of ``name``, found without importing it (its
    parent packages are imported); ([], None) when there is no such module."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return [], None
    if spec is None:
        return [], None
    folders = list(spec.submodule_search_locations or [])
    origin = spec.origin if spec.has_location else None
    return folders, origin


def _shown(name: str) -> list[str]:
    """The parts a file of package ``name`` is named by: a built-in app's start at
    ``target_apps`` (its folder in a checkout, and inside lagscope's when installed)."""
    parts = name.split(".")
    return parts[1:] if parts[0] == LAGSCOPE else parts


def user_places(names: Iterable[str]) -> list[Place]:
    """The places of the user's packages (or modules) ``names``; a name of lagscope's own,
    other than a built-in app's package, and a name that cannot be found give none."""
    places: list[Place] = []
    for name in names:
        if name.split(".")[0] == LAGSCOPE and app_package(name) != name:
            continue
        folders, origin = _locations(name)
        shown = _shown(name)
        for folder in folders:  # a package; a namespace package may have several
            places += [Place(p, "user", "/".join(shown) + "/") for p in _folder(folder)]
        if folders or origin is None:
            continue
        here = os.path.dirname(origin)
        if len(shown) == 1 and not in_library(os.path.abspath(here) + os.sep):
            # A top-level module in a project folder (``main.py``): its neighbours are
            # the user's too, as a package's modules are.
            places += [Place(p, "user", "") for p in _folder(here)]
        else:
            file = "/".join([*shown[:-1], os.path.basename(origin)])
            places += [Place(p, "user", file) for p in _variants(origin)]
    return places


def folder_places(folders: Iterable[str | os.PathLike[str]]) -> list[Place]:
    """Every file under each of ``folders`` is the user's, named relative to it."""
    return [Place(p, "user", "") for folder in folders for p in _folder(os.fspath(folder))]


def lagscope_places() -> list[Place]:
    """lagscope's own folders, its files named ``<lagscope>/`` + their path in the package
    (``<lagscope>/harness/probe/watchdog.py``), in a checkout as installed."""
    places: list[Place] = []
    for package in LAGSCOPE_PACKAGES:
        folders, _ = _locations(package)
        name = "/".join(["<lagscope>", *package.split(".")[1:]]) + "/"
        places += [Place(p, "lagscope", name) for folder in folders for p in _folder(folder)]
    return places
