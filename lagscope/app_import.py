"""Does ``--app module:attr`` name an ASGI app?  Checked in a child process before any load.

The harness process never imports the user's app: an import may connect to a database,
start threads or fail in any way, and the harness must stay clean to stop everything it
started.  ``python -m lagscope.app_import module:attr`` imports it as a server worker will
(the current directory first on ``sys.path``) and answers one line of JSON on stdout;
``check_app`` turns a bad answer into a one-line UsageError.  An app that takes long to
import (one that loads a model) is not waited for here: after ``CHECK_WAIT_S`` the check
gives way to the server's start-up, which waits up to ``--startup-timeout`` and reports a
failure with the last lines of its log.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from lagscope.errors import UsageError

CHECK_WAIT_S = 10.0  # longer imports are left to the server's start-up (--startup-timeout)
_ANSWER = "lagscope-app-check: "  # prefix of the child's answer, after whatever the app printed


def load_app(import_string: str) -> Any:
    """Import ``module:attribute`` (dots allowed in the attribute) and return it, or what
    it returns when it is an app factory (``is_factory``)."""
    module_name, _, attr = import_string.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj() if is_factory(obj) else obj


def is_factory(obj: Any) -> bool:
    """Whether ``obj`` is an app factory (``create_app``): no ASGI app itself, but a function
    that takes no arguments.  Called once in each worker, as uvicorn does (its --factory,
    which it also detects without the flag)."""
    if isinstance(obj, type) or not callable(obj) or not_asgi(obj) is None:
        return False
    try:
        inspect.signature(obj).bind()
    except (TypeError, ValueError):
        return False
    return True


def not_asgi(obj: Any) -> str | None:
    """What ``obj`` is, when it cannot be called as ``app(scope, receive, send)``; else None."""
    if isinstance(obj, type):
        return f"the class {obj.__name__}"
    if not callable(obj):
        return type(obj).__name__
    try:
        inspect.signature(obj).bind(None, None, None)
    except TypeError:
        name = getattr(obj, "__name__", type(obj).__name__)
        return f"{name}(), which does not take (scope, receive, send)"
    except ValueError:  # no signature to read (a C callable): the server will tell
        return None
    return None


GENERIC_NAMES = {"Error", "Exception", "Warning"}  # named with their module: locale.Error
FIELDS_SHOWN = 3


def _one_line(exc: BaseException) -> str:
    """``Type: first line``, and for a message that lists fields under it (pydantic's
    ValidationError: a settings class missing its environment) the first few of them."""
    kind = type(exc).__name__
    if kind in GENERIC_NAMES:
        kind = f"{type(exc).__module__}.{kind}"
    lines = str(exc).strip().splitlines()
    if not lines:
        return kind
    fields = [
        f"{name.strip()}: {detail.strip().split(' [', 1)[0]}"
        for name, detail in zip(lines[1:], lines[2:], strict=False)
        if name.strip() and not name[0].isspace() and detail[:1].isspace()
    ]
    more = ", ..." if len(fields) > FIELDS_SHOWN else ""
    listed = f" ({', '.join(fields[:FIELDS_SHOWN])}{more})" if fields else ""
    return f"{kind}: {lines[0]}{listed}"


def inspect_app(import_string: str, code: Sequence[str] = ()) -> dict[str, str]:
    """The child's verdict: ``{"ok": ""}`` or ``{<problem>: detail}``, where the problem is
    ``not_found``, ``import_failed``, ``no_attribute``, ``not_asgi``, ``factory_failed``
    (an app factory that raised), ``factory_not_asgi`` (one that returned no app) or
    ``code_not_found``
    (a package of ``code`` that cannot be found once the app is imported)."""
    module_name, _, attr = import_string.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            return {"not_found": missing}
        return {"import_failed": _one_line(exc)}  # a module the app imports is missing
    except BaseException as exc:  # the user's module may raise anything, SystemExit included
        return {"import_failed": _one_line(exc)}
    for part in attr.split("."):
        if not hasattr(obj, part):
            return {"no_attribute": attr}
        obj = getattr(obj, part)
    if is_factory(obj):
        try:
            obj = obj()
        except BaseException as exc:  # the user's factory may raise anything
            return {"factory_failed": _one_line(exc)}
        got = not_asgi(obj)
        if got:
            return {"factory_not_asgi": got}
    got = not_asgi(obj)
    if got:
        return {"not_asgi": got}
    for package in code:
        try:
            found = importlib.util.find_spec(package) is not None
        except BaseException:  # a parent package that fails to import, or is not one
            found = False
        if not found:
            return {"code_not_found": package}
    return {"ok": ""}


def check_app(
    import_string: str,
    *,
    what: str = "--app",
    where: str = "",
    code: Sequence[str] = (),
    wait_s: float = CHECK_WAIT_S,
) -> bool:
    """Raise UsageError unless ``import_string`` imports, in a child process, to an ASGI app
    (and each package of ``code`` can be found there).

    The message starts with ``where`` (e.g. a game-day file) and names the input ``what``
    (``--app``, or a file's key).  Returns False when the import took longer than
    ``wait_s`` (nothing was concluded), else True.
    """
    app, (module, _, attr) = import_string, import_string.partition(":")
    named = f"{where}{what} {app!r}"  # e.g. --app 'main:app'
    verdict = _ask_child(import_string, named=named, code=code, wait_s=wait_s)
    if verdict is None:
        return False
    ((problem, detail),) = verdict.items()
    messages = {
        "not_found": f"{named}: cannot find module {detail!r}; "
        + (
            "it is under src/: run with PYTHONPATH=src, or pip install -e . first"
            if _under_src(detail)
            else "run lagscope from the folder that contains it, or install its package"
        ),
        "import_failed": f"{named}: importing {module!r} failed with {detail}; run "
        f"{sys.executable} -c 'import {module}' from this folder to see the traceback",
        "no_attribute": f"{named}: module {module!r} has no attribute {detail!r}; point "
        f"{what} at your FastAPI() instance",
        "not_asgi": f"{where}{app!r} is not an ASGI app (got {detail}); point {what} at "
        "your FastAPI() instance, or at a function that takes no arguments and returns it",
        "factory_failed": f"{named}: calling the app factory {attr}() failed with {detail}; "
        f"run {sys.executable} -c 'import {module}; {module}.{attr}()' from this folder to see "
        "the traceback",
        "factory_not_asgi": f"{where}{app!r}: the app factory {attr}() returned {detail}, "
        "not an ASGI app; make it return your FastAPI() instance",
        "code_not_found": f"--code {detail!r}: cannot find package {detail!r} next to "
        f"{module!r}; run lagscope from the folder that contains it, or install it",
    }
    if problem in messages:
        raise UsageError(messages[problem])
    return True


def _under_src(module: str) -> bool:
    """Whether ``module`` is in the current folder's ``src/`` (a src layout not installed)."""
    base = os.path.join("src", *module.split("."))
    return os.path.isdir(base) or os.path.isfile(base + ".py")


def _ask_child(
    import_string: str, *, named: str, code: Sequence[str], wait_s: float
) -> dict[str, str] | None:
    """Run ``python -m lagscope.app_import``; its verdict (UsageError when it gave none),
    None when it did not answer within ``wait_s`` (the child is killed)."""
    module = import_string.partition(":")[0]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "lagscope.app_import", import_string, *code],
            capture_output=True,
            text=True,
            timeout=wait_s,
        )
    except subprocess.TimeoutExpired:
        return None
    answers = [line for line in done.stdout.splitlines() if line.startswith(_ANSWER)]
    if not answers:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(
            f"{named}: importing {module!r} ended the process (exit code {done.returncode}): {last}"
        )
    verdict: dict[str, str] = json.loads(answers[-1].removeprefix(_ANSWER))
    return verdict


def main(argv: Sequence[str]) -> None:
    import_string, *code = argv
    verdict = inspect_app(import_string, code)
    with contextlib.suppress(Exception):  # the app's module may have broken sys.stdout
        sys.stdout.flush()  # what it printed goes before the answer
    os.write(1, f"\n{_ANSWER}{json.dumps(verdict)}\n".encode())
    # The app's module may have started threads that would hold the interpreter open.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
