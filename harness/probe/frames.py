"""Stacks of the loop thread: capture, classification of frames, and the blamed location.

A *user frame* is one of the user's code (``user_code``: the app's own package, or one
named with ``--code``, wherever it is installed); lagscope's frames and the libraries'
(standard library, site-packages) never are.  The location of a stall is the innermost
user frame of its most frequent stack: the line of the user's code that was running
(or waiting on a call) when the loop stalled.
"""

from __future__ import annotations

import os
import selectors
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import CodeType, FrameType

from lagscope.harness.probe.routes import route_for, routed_path
from lagscope.harness.probe.user_code import (
    PACKAGE_MARKERS,
    Kind,
    Place,
    app_package,
    folder_places,
    lagscope_places,
    library_places,
    user_places,
)

Frame = tuple[str, int, str]  # (absolute filename, line number, function name)
Stack = tuple[Frame, ...]  # outermost first
CodePath = tuple[tuple[str, str], ...]  # (filename, function), outermost first
MAX_DEPTH = 200
# Frames that are the loop waiting between callbacks: the selector's ``select`` (asyncio),
# and the handle that runs a callback (asyncio's ``Handle._run``: part of the dispatch).
_SELECTOR_FILE = selectors.__file__
_DISPATCH = (os.path.join(os.path.dirname(selectors.__file__), "asyncio", "events.py"), "_run")
# The probe's own frames that run as, or on top of, the loop's callbacks: the heartbeat's
# (sampled while it runs, the loop is beating again: its first callback after a stall is
# often the beat that ends it, which reads the clocks and pushes back the watchdog's
# alarm) and the GC timing's callback (the first Python code after a collection, so where
# the watchdog first gets the GIL back; a collection started by the loop's own C code
# between callbacks shows nothing else above the loop).
_HERE = os.path.dirname(os.path.abspath(__file__))
_PROBE_CALLBACK_FILES = frozenset(
    os.path.join(_HERE, name) for name in ("heartbeat.py", "alarm.py", "gcpauses.py")
)


def capture(
    frame: FrameType | None, endpoints: Mapping[CodeType, str] | None = None
) -> tuple[Stack, str | None]:
    """The stack ending at ``frame`` (outermost frame first) and the endpoint it runs in:
    the name in ``endpoints`` of the innermost code object on it that is found there, else
    (a dependency or an exception handler running before or after the endpoint's own
    code) the route the request was matched to, read from the routed ASGI ``scope`` of a
    frame on the stack, or (a middleware, before routing) the endpoint whose template the
    request's path matches."""
    frames: list[Frame] = []
    endpoint = None
    routed: list[FrameType] = []  # frames that hold an ASGI scope, innermost first
    while frame is not None and len(frames) < MAX_DEPTH:
        code = frame.f_code
        frames.append((code.co_filename, frame.f_lineno or 0, code.co_name))
        if endpoint is None and endpoints is not None:
            endpoint = endpoints.get(code)
            if "scope" in code.co_varnames:
                routed.append(frame)
        frame = frame.f_back
    frames.reverse()
    if endpoint is None and endpoints is not None:
        endpoint = _route_of(routed, endpoints)
    return tuple(frames), endpoint


def _route_of(frames: list[FrameType], endpoints: Mapping[CodeType, str]) -> str | None:
    """The route of the HTTP scope in the locals of ``frames`` (innermost first): the
    template the app matched it to (``METHOD /route/{template}``), or, before its router
    ran (a middleware), the endpoint whose template its raw path matches."""
    scopes = [scope for scope in (f.f_locals.get("scope") for f in frames)
              if isinstance(scope, dict) and scope.get("type") == "http"]  # fmt: skip
    if not scopes:
        return None
    for scope in scopes:
        path = routed_path(scope)
        if path:
            return f"{scope.get('method', 'GET')} {path}"
    outermost = scopes[-1]  # the server's own: the path as the client sent it
    method = str(outermost.get("method", "GET"))
    template = route_for(method, str(outermost.get("path", "")), endpoints.values())
    return f"{method} {template}" if template else None


def loop_base(frame: FrameType | None) -> CodePath:
    """The frames that drive the event loop, seen from a task's coroutine frame's caller
    (``frame``): the runner and, on asyncio, the loop's own methods down to the handle
    that ran the task (left out: a callback runs inside it)."""
    path = [(f, fn) for f, _, fn in capture(frame)[0]]
    if path and path[-1] == _DISPATCH:
        path.pop()
    return tuple(path)


def is_loop_idle(stack: Stack, base: CodePath) -> bool:
    """Whether ``stack`` shows the loop between callbacks rather than running one: nothing
    but the frames of ``base`` (uvloop runs in C under them), or those and the selector's
    ``select`` (asyncio waiting for I/O), the heartbeat beating or the probe's GC callback.
    A stall's sample taken that late, once the blocking call returned, must not be blamed
    on the runner."""
    path = [(f, fn) for f, _, fn in stack]
    while path and path[-1][0] == _SELECTOR_FILE:
        path.pop()
    if path and path[-1][0] in _PROBE_CALLBACK_FILES:
        while path and path[-1][0] in _PROBE_CALLBACK_FILES:
            path.pop()
        if path and path[-1] == _DISPATCH:  # asyncio's handle running the beat
            path.pop()
    return bool(path) and len(path) <= len(base) and tuple(path) == base[: len(path)]


def _in_packages(filename: str) -> str | None:
    """The path after a ``site-packages`` folder in ``filename`` (any environment's)."""
    for marker in PACKAGE_MARKERS:
        if marker in filename:
            return filename.split(marker, 1)[1]
    return None


@dataclass(frozen=True)
class FrameFilter:
    """Decides which frames belong to the user's code, and names every frame.

    ``places`` are tried longest prefix first; a file under none of them is neither the
    user's nor lagscope's, and keeps its absolute path (or ``<site-packages>/…`` when it
    lies in another environment's site-packages).
    """

    places: tuple[Place, ...]
    _seen: dict[str, tuple[Kind | None, str]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def build(
        cls, *, packages: Iterable[str] = (), folders: Iterable[str | os.PathLike[str]] = ()
    ) -> FrameFilter:
        """The user's code is ``packages`` (import names) and everything under ``folders``."""
        places = [*library_places(), *lagscope_places(), *user_places(packages)]
        places += folder_places(folders)
        # Longest first; at equal length the user's place wins (a package in a folder).
        ranked = sorted(places, key=lambda p: (len(p.prefix), p.kind == "user"), reverse=True)
        return cls(places=tuple(ranked))

    @classmethod
    def for_app(cls, module: str, *, code: Iterable[str] = ()) -> FrameFilter:
        """The user's code is the package of the app's ``module`` and the ``code`` packages."""
        package = app_package(module)
        return cls.build(packages=[*([package] if package else []), *code])

    @classmethod
    def for_root(cls, app_root: str | os.PathLike[str]) -> FrameFilter:
        """Every file under ``app_root`` is the user's (libraries and lagscope excepted)."""
        return cls.build(folders=[app_root])

    def _classify(self, filename: str) -> tuple[Kind | None, str]:
        known = self._seen.get(filename)
        if known is not None:
            return known
        found: tuple[Kind | None, str] = (None, filename)
        for place in self.places:
            if filename == place.prefix or (
                place.prefix.endswith(os.sep) and filename.startswith(place.prefix)
            ):
                rest = filename[len(place.prefix) :]
                found = (place.kind, place.name + rest)
                break
        if found[0] in (None, "user"):
            # A virtualenv inside the user's folder, or another environment's packages.
            inside = _in_packages(filename if found[0] is None else found[1])
            if inside is not None:
                found = ("library", "<site-packages>/" + inside)
        self._seen[filename] = found
        return found

    def kind(self, filename: str) -> Kind | None:
        """``user``, ``library``, ``lagscope``, or None for a file of none of them."""
        return self._classify(filename)[0]

    def is_user(self, filename: str) -> bool:
        return self._classify(filename)[0] == "user"

    def relative(self, filename: str) -> str:
        """``filename`` as a report shows it: from its top-level package's folder on for the
        user's code (``mysvc/api/orders.py``), ``<stdlib>/…`` or ``<site-packages>/…`` for
        a library, ``<lagscope>/…`` for lagscope's own, else the absolute path."""
        return self._classify(filename)[1]

    def location(self, filename: str, line: int) -> str:
        """``path:line`` as a report names a place: ``filename`` as ``relative`` shows it."""
        return f"{self.relative(filename)}:{line}"

    def blame(self, stack: Stack) -> tuple[Frame | None, bool]:
        """Return the frame to blame in ``stack`` and whether it is user code.

        The innermost user frame when there is one, else the innermost frame
        that is not lagscope's own.
        """
        for frame in reversed(stack):
            if self.is_user(frame[0]):
                return frame, True
        for frame in reversed(stack):
            if self.kind(frame[0]) != "lagscope":
                return frame, False
        return None, False
