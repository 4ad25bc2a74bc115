"""What an app serves over HTTP outside its OpenAPI schema, read from its routes in a child
process (as lagscope.app_import checks it: the harness never imports the user's app).

An app whose schema has no operation may still serve pages: routes registered with
``include_in_schema=False``, plain Starlette routes (HTML, say) and static files.  The
``openapi`` scenario loads those when they need nothing it cannot know: GET routes without
path parameters or required query parameters, and a few files of each static mount.
The rest is counted, so that a refusal can say what the app serves instead (WebSocket
routes, routes that need path parameters, other methods).

``python -m lagscope.app_routes module:attr`` answers one line of JSON on stdout;
``served_routes`` runs it and returns a ``Served``.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import quote

ANSWER = "lagscope-app-routes: "  # prefix of the child's answer, after whatever the app printed
TIMEOUT_S = 60.0
STATIC_FILES = 10  # files of one static mount loaded at most
MAX_DEPTH = 8  # mounts inside mounts followed at most
_DOCS = ("openapi_url", "docs_url", "redoc_url", "swagger_ui_oauth2_redirect_url")


class Served(TypedDict):
    """What an app serves outside its schema (paths are absolute, static ones quoted)."""

    pages: list[str]  # GET paths that can be sent as they are
    static: list[str]  # files of static mounts, at most STATIC_FILES of each
    with_params: list[str]  # GET routes that need a path or a required query parameter
    websockets: list[str]
    other: list[str]  # "METHOD /path" of other methods outside the schema


def served(app: Any, *, schema_paths: Sequence[str] = ()) -> Served:
    """What ``app`` serves outside its schema (``schema_paths``) and its documentation."""
    out = Served(pages=[], static=[], with_params=[], websockets=[], other=[])
    _walk(app, prefix="", out=out, skip=set(schema_paths), depth=0)
    for key in out:
        out[key] = list(dict.fromkeys(out[key]))  # type: ignore[literal-required]
    return out


def _walk(app: Any, *, prefix: str, out: Served, skip: set[str], depth: int) -> None:
    docs = {prefix + str(path) for path in (getattr(app, name, None) for name in _DOCS) if path}
    skip = skip | docs  # FastAPI's own pages, and a mounted app's
    for route in _routes(app):
        original = getattr(route, "original_route", route)
        kind = type(original).__name__
        path = prefix + str(getattr(route, "path", ""))
        if "WebSocket" in kind:
            out["websockets"].append(path or "/")
        elif hasattr(original, "app") and not hasattr(original, "endpoint"):  # a Mount
            sub = original.app
            directory = getattr(sub, "directory", None)
            if directory is not None:
                out["static"] += _static_files(Path(directory), mount=path)
            elif depth < MAX_DEPTH:
                _walk(sub, prefix=path, out=out, skip=skip, depth=depth + 1)
        else:
            _route(route, path=path or "/", out=out, skip=skip)


def _route(route: Any, *, path: str, out: Served, skip: set[str]) -> None:
    if path in skip:
        return
    methods = getattr(route, "methods", None) or {"GET"}
    if "GET" not in methods:
        out["other"] += [f"{m} {path}" for m in sorted(methods) if m != "HEAD"]
    elif "{" in path or _required_params(route):
        out["with_params"].append(path)
    else:
        out["pages"].append(quote(path, safe="/"))


def _routes(app: Any) -> list[Any]:
    """The routes of a Starlette/FastAPI app (through middleware wrappers), each included
    router's routes as their own (FastAPI's lazy ``include_router``)."""
    for _ in range(20):
        routes = getattr(app, "routes", None)
        if isinstance(routes, list):
            break
        app = getattr(app, "app", None)
    else:
        return []
    if not isinstance(routes, list):
        return []
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # an older FastAPI copies included routes into the app's list
        return routes
    return list(iter_route_contexts(routes))


def _required_params(route: Any) -> bool:
    """Whether a FastAPI route needs a query, header, cookie or body value (unknown: no)."""
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return False
    kinds = ("query_params", "header_params", "cookie_params", "body_params")
    return any(_required(field) for kind in kinds for field in _fields(dependant, kind))


def _fields(dependant: Any, kind: str) -> Iterator[Any]:
    yield from getattr(dependant, kind, None) or []
    for sub in getattr(dependant, "dependencies", None) or []:
        yield from _fields(sub, kind)


def _required(field: Any) -> bool:
    required = getattr(field, "required", None)
    if isinstance(required, bool):
        return required
    info = getattr(field, "field_info", None)
    is_required = getattr(info, "is_required", None)
    return bool(is_required()) if callable(is_required) else False


def _static_files(directory: Path, *, mount: str) -> list[str]:
    found = []
    with contextlib.suppress(OSError):
        for path in sorted(directory.rglob("*")):
            rel = path.relative_to(directory)
            if path.is_file() and not any(part.startswith(".") for part in rel.parts):
                found.append(quote(f"{mount}/{rel.as_posix()}", safe="/"))
            if len(found) >= STATIC_FILES:
                break
    return found


def served_routes(import_string: str, *, schema_paths: Sequence[str] = ()) -> Served | None:
    """What the app ``import_string`` serves outside its schema, read in a child process;
    None when the child gives no answer (the run goes on as if the app served nothing)."""
    argv = [sys.executable, "-m", "lagscope.app_routes", import_string, *schema_paths]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None
    answers = [line for line in done.stdout.splitlines() if line.startswith(ANSWER)]
    if not answers:
        return None
    answer: Served = json.loads(answers[-1].removeprefix(ANSWER))
    return answer


def main(argv: Sequence[str]) -> None:
    from lagscope.app_import import load_app

    import_string, *schema_paths = argv
    try:
        answer: Served | None = served(load_app(import_string), schema_paths=schema_paths)
    except BaseException:  # the app imported once already; whatever fails here, no answer
        answer = None
    with contextlib.suppress(Exception):  # the app's module may have broken sys.stdout
        sys.stdout.flush()  # what it printed goes before the answer
    if answer is not None:
        os.write(1, f"\n{ANSWER}{json.dumps(answer)}\n".encode())
    # The app's module may have started threads that would hold the interpreter open.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
