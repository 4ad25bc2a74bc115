"""How lagscope's zero-configuration run fares on FastAPI apps it has never seen.

Give it a folder holding apps (a clone of a collection of FastAPI examples, say).  Every
``*.py`` that assigns ``NAME = FastAPI(...)`` at module level is an app.  Each is imported
from the nearest folder it imports from (its own, else a parent, as a user would ``cd``
there), then run with no configuration::

    lagscope run --app module:NAME --duration 8s --users 5

and its ``summary.json`` read: what was sent (GET and HEAD; the schema's other methods when
it has no GET; the pages the app serves outside an empty schema), operations in the schema,
GET operations exercised, and those whose answers were mostly not 5xx.  An app that is not
run says why: ``nothing to load`` (no operation, no page: only WebSocket routes, say),
``needs a service`` (its start-up could not connect to its database), or the error.  A
Markdown table and the totals are printed; ``--json`` writes the rows.  Nothing is written
into the apps' folder but what the apps themselves write (a SQLite file, an upload);
run directories go to a temporary folder.

    .venv/bin/python benchmarks/openapi_survey.py /tmp/survey [--python PY] [--json out.json]
    .venv/bin/python benchmarks/openapi_survey.py /tmp/survey --rows out.json  # table again
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

APP_LINE = re.compile(r"^(\w+)\s*(?::\s*\w+\s*)?=\s*FastAPI\(", re.MULTILINE)
SKIP_PARTS = {"tests", "test", "venv", ".venv", "site-packages", "node_modules", "migrations"}
IMPORT_TIMEOUT_S = 60
RUN_TIMEOUT_S = 240


@dataclass
class Row:
    app: str  # path of the file, relative to the folder surveyed, and the attribute
    imports: bool = False
    why_not: str = ""  # the import's or the run's last error line
    runs: bool = False
    outcome: str = ""  # "ran", "nothing to load", "needs a service", "failed", "import failed"
    sent: str = ""  # "GET,HEAD", "POST (no GET)", "pages (no operation)"
    found: int = 0  # operations in the schema
    planned: int = 0  # operations (or pages) sent
    exercised: int = 0  # of those, with at least one request
    non_5xx: int = 0  # of those, most answers not 5xx (nor without an answer)
    gets: int = 0  # GET operations in the schema
    gets_exercised: int = 0  # with at least one request
    gets_non_5xx: int = 0  # exercised, and most answers not 5xx (nor without an answer)
    answers_2xx: float | None = None  # share of 2xx among the answers
    skipped: list[str] = field(default_factory=list)


def discover(folder: Path) -> list[tuple[Path, str]]:
    """(file, attribute) of every module-level ``NAME = FastAPI(...)`` under ``folder``."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        if SKIP_PARTS & set(path.relative_to(folder).parts) or path.name.startswith("test_"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [(path, name) for name in dict.fromkeys(APP_LINE.findall(text))]
    return found


def candidates(path: Path, root: Path) -> list[tuple[Path, str]]:
    """(folder to run in, module name) from the file's own folder up to ``root``'s child."""
    out = []
    folder = path.parent
    while True:
        parts = path.relative_to(folder).with_suffix("").parts
        if all(part.isidentifier() for part in parts):
            out.append((folder, ".".join(parts)))
        if folder == root or folder.parent == folder or folder.parent == root.parent:
            return out
        folder = folder.parent


def try_import(python: str, folder: Path, module: str, attr: str) -> str | None:
    """None when ``module:attr`` imports from ``folder``, else the error's last line."""
    code = (f"import importlib, sys; sys.path.insert(0, '.'); "
            f"getattr(importlib.import_module({module!r}), {attr!r})")  # fmt: skip
    try:
        done = subprocess.run([python, "-c", code], cwd=folder, capture_output=True, text=True,
                              timeout=IMPORT_TIMEOUT_S)  # fmt: skip
    except subprocess.TimeoutExpired:
        return "import timed out"
    lines = done.stderr.strip().splitlines()
    return None if done.returncode == 0 else (lines[-1] if lines else f"exit {done.returncode}")


def survey(python: str, path: Path, attr: str, root: Path, *, duration: str, out: Path) -> Row:
    row = Row(app=f"{path.relative_to(root)}:{attr}")
    errors = []
    for folder, module in candidates(path, root):
        error = try_import(python, folder, module, attr)
        if error is None:
            row.imports = True
            break
        errors.append(error)
    else:
        row.why_not = errors[0] if errors else "no importable module name"
        row.outcome = "import failed"
        return row
    run_dir = out / re.sub(r"\W+", "_", row.app)
    argv = [python, "-m", "lagscope", "run", "--app", f"{module}:{attr}", "--duration", duration,
            "--users", "5", "--out", str(run_dir)]  # fmt: skip
    try:
        done = subprocess.run(argv, cwd=folder, capture_output=True, text=True,
                              timeout=RUN_TIMEOUT_S)  # fmt: skip
    except subprocess.TimeoutExpired:
        row.why_not, row.outcome = "run timed out", "failed"
        return row
    summary_file = run_dir / "summary.json"
    if done.returncode not in (0, 1) or not summary_file.is_file():  # 1: a failed check
        lines = done.stderr.strip().splitlines()
        row.why_not = lines[-1] if lines else f"exit {done.returncode}"
        row.outcome = (
            "nothing to load" if "nothing to load" in row.why_not
            else "needs a service" if "could not connect to" in row.why_not else "failed"
        )  # fmt: skip
        return row
    row.runs, row.outcome = True, "ran"
    read(row, (json.loads(summary_file.read_text())["scenario"] or {}).get("coverage") or {})
    return row


def read(row: Row, cov: dict[str, Any]) -> None:
    """Fill ``row`` from a run's ``scenario.coverage``."""
    row.found = cov.get("found", 0)
    ops = cov.get("operations") or {}
    choice = cov.get("choice") or ""
    methods = ",".join(cov.get("methods") or [])
    row.sent = (
        "pages (no operation)" if choice and not row.found
        else f"{methods} (no GET)" if choice else methods
    )  # fmt: skip
    row.planned = len(ops)
    row.exercised = sum(1 for op in ops.values() if op["requests"])
    row.non_5xx = sum(1 for op in ops.values() if _mostly_answered(op))
    # GET operations of the schema (pages outside it are not operations).
    gets = {k: op for k, op in ops.items() if k.startswith("GET ")} if row.found else {}
    held = [s["key"] for s in cov.get("skipped", []) if s["key"].startswith("GET ")]
    row.skipped = [f"{s['key']}: {s['reason']}" for s in cov.get("skipped", [])
                   if s["key"].startswith("GET ")]  # fmt: skip
    row.gets = len(gets) + len(held)
    row.gets_exercised = sum(1 for op in gets.values() if op["requests"])
    row.gets_non_5xx = sum(1 for op in gets.values() if _mostly_answered(op))
    answers = sum(op["requests"] for op in ops.values())
    row.answers_2xx = sum(op["2xx"] for op in ops.values()) / answers if answers else None


def _mostly_answered(op: dict[str, Any]) -> bool:
    return bool(op["requests"]) and op["5xx"] + op["no_response"] < op["requests"] / 2


def table(rows: list[Row]) -> str:
    lines = ["| app | imports | runs | sent | operations | exercised (mostly non-5xx) | GET | "
             "GET exercised | GET mostly non-5xx | 2xx of answers | why not |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        share = "–" if r.answers_2xx is None else f"{r.answers_2xx:.0%}"
        ran = "yes" if r.runs else r.outcome if r.imports else "no"
        cells = (
            [r.sent, str(r.found), f"{r.exercised} of {r.planned} ({r.non_5xx})", str(r.gets),
             str(r.gets_exercised), str(r.gets_non_5xx), share]
            if r.runs else ["–"] * 7
        )  # fmt: skip
        lines.append(
            f"| `{r.app}` | {'yes' if r.imports else 'no'} | {ran} | {' | '.join(cells)} | "
            f"{r.why_not.replace('|', '/')[:110]} |"
        )
    return "\n".join([*lines, "", *totals(rows)])


WHY_NOT = {
    "needs a service": "cannot start without a service (their start-up could not connect)",
    "nothing to load": "have nothing HTTP to load",
    "failed": "fail",
}


def totals(rows: list[Row]) -> list[str]:
    """The totals, one line each."""
    imported = [r for r in rows if r.imports]
    ran = [r for r in rows if r.runs]
    fallback = Counter(
        "by their pages outside an empty schema" if r.sent.startswith("pages")
        else "by the other methods of a schema without GET"
        for r in ran if " " in r.sent
    )  # fmt: skip
    outcomes = Counter(r.outcome for r in imported if not r.runs)
    gets, exercised = sum(r.gets for r in ran), sum(r.gets_exercised for r in ran)
    ok = sum(r.gets_non_5xx for r in ran)
    planned, sent, answered = (sum(r.planned for r in ran), sum(r.exercised for r in ran),
                               sum(r.non_5xx for r in ran))  # fmt: skip

    def share(part: int, whole: int) -> str:
        return f" ({part / whole:.0%})" if whole else ""

    return [
        f"{len(rows)} apps: {len(imported)} import; {len(ran)} of them run with no "
        "configuration"
        + (f" ({', '.join(f'{n} {why}' for why, n in sorted(fallback.items()))})"
           if fallback else "")
        + "".join(f"; {n} {WHY_NOT.get(why, why)}" for why, n in sorted(outcomes.items())),
        f"GET operations of the schemas of the apps that run: {gets}; exercised {exercised}"
        f"{share(exercised, gets)}; exercised with mostly non-5xx answers {ok}{share(ok, gets)}",
        f"everything planned (any method, pages): {planned}; exercised {sent}"
        f"{share(sent, planned)}; mostly non-5xx {answered}{share(answered, planned)}",
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder of FastAPI apps")
    parser.add_argument(
        "--python", default=sys.executable, help="a Python with lagscope and the apps' packages"
    )
    parser.add_argument("--duration", default="8s", help="load per app (default: 8s)")
    parser.add_argument("--json", type=Path, help="write the rows here as JSON")
    parser.add_argument(
        "--rows", type=Path, help="print the table of rows --json wrote, run nothing"
    )
    args = parser.parse_args()
    if args.rows:
        print(table([Row(**row) for row in json.loads(args.rows.read_text(encoding="utf-8"))]))
        return
    root = args.folder.resolve()
    rows = []
    with tempfile.TemporaryDirectory(prefix="lagscope-survey-") as tmp:
        for path, attr in discover(root):
            row = survey(args.python, path, attr, root, duration=args.duration, out=Path(tmp))
            print(f"{row.app}: {row.outcome} {row.sent} GET {row.gets_exercised}/"
                  f"{row.gets_non_5xx}/{row.gets} {row.why_not}", file=sys.stderr,
                  flush=True)  # fmt: skip
            rows.append(row)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1), encoding="utf-8")
    print(table(rows))


if __name__ == "__main__":
    main()
