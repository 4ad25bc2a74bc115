"""How lagscope's zero-configuration run fares on FastAPI apps it has never seen.

Give it a folder holding apps (a clone of a collection of FastAPI examples, say).  Every
``*.py`` that assigns ``NAME = FastAPI(...)`` at module level is an app.  Each is imported
from the nearest folder it imports from (its own, else a parent, as a user would ``cd``
there), then run with no configuration::

    lagscope run --app module:NAME --duration 8s --users 5

and its ``summary.json`` read: operations in the schema, GET operations exercised, and
those whose answers were mostly not 5xx.  A Markdown table and the totals are printed;
``--json`` writes the rows.  Nothing is written into the apps' folder but what the apps
themselves write (a SQLite file, say); run directories go to a temporary folder.

    .venv/bin/python benchmarks/openapi_survey.py /tmp/survey [--python PY] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

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
    found: int = 0  # operations in the schema
    gets: int = 0  # GET operations in the schema
    gets_exercised: int = 0  # with at least one request
    gets_non_5xx: int = 0  # exercised, and most answers not 5xx (nor without an answer)
    answers_2xx: float | None = None  # share of 2xx among the GETs' answers
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
        return row
    run_dir = out / re.sub(r"\W+", "_", row.app)
    argv = [python, "-m", "lagscope", "run", "--app", f"{module}:{attr}", "--duration", duration,
            "--users", "5", "--out", str(run_dir)]  # fmt: skip
    try:
        done = subprocess.run(argv, cwd=folder, capture_output=True, text=True,
                              timeout=RUN_TIMEOUT_S)  # fmt: skip
    except subprocess.TimeoutExpired:
        row.why_not = "run timed out"
        return row
    summary_file = run_dir / "summary.json"
    if done.returncode not in (0, 1) or not summary_file.is_file():  # 1: a failed check
        lines = done.stderr.strip().splitlines()
        row.why_not = lines[-1] if lines else f"exit {done.returncode}"
        return row
    row.runs = True
    cov = (json.loads(summary_file.read_text())["scenario"] or {}).get("coverage") or {}
    row.found = cov.get("found", 0)
    gets = {k: op for k, op in (cov.get("operations") or {}).items() if k.startswith("GET ")}
    held = [s["key"] for s in cov.get("skipped", []) if s["key"].startswith("GET ")]
    row.skipped = [f"{s['key']}: {s['reason']}" for s in cov.get("skipped", [])
                   if s["key"].startswith("GET ")]  # fmt: skip
    row.gets = len(gets) + len(held)
    row.gets_exercised = sum(1 for op in gets.values() if op["requests"])
    row.gets_non_5xx = sum(
        1 for op in gets.values() if op["requests"] and op["5xx"] + op["no_response"]
        < op["requests"] / 2
    )  # fmt: skip
    answers = sum(op["requests"] for op in gets.values())
    row.answers_2xx = sum(op["2xx"] for op in gets.values()) / answers if answers else None
    return row


def table(rows: list[Row]) -> str:
    lines = ["| app | imports | runs | operations | GET | GET exercised, mostly non-5xx | "
             "2xx of GET answers | why not |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        share = "–" if r.answers_2xx is None else f"{r.answers_2xx:.0%}"
        lines.append(
            f"| `{r.app}` | {'yes' if r.imports else 'no'} | {'yes' if r.runs else 'no'} | "
            f"{r.found if r.runs else '–'} | {r.gets if r.runs else '–'} | "
            f"{r.gets_non_5xx if r.runs else '–'} | {share if r.runs else '–'} | "
            f"{r.why_not.replace('|', '/')[:90]} |"
        )
    imported = [r for r in rows if r.imports]
    ran = [r for r in rows if r.runs]
    gets = sum(r.gets for r in ran)
    ok = sum(r.gets_non_5xx for r in ran)
    lines += [
        "",
        f"{len(rows)} apps: {len(imported)} import, {len(ran)} of them run with no "
        f"configuration; GET operations exercised with mostly non-5xx answers: {ok} of {gets}"
        + (f" ({ok / gets:.0%})" if gets else ""),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder of FastAPI apps")
    parser.add_argument(
        "--python", default=sys.executable, help="a Python with lagscope and the apps' packages"
    )
    parser.add_argument("--duration", default="8s", help="load per app (default: 8s)")
    parser.add_argument("--json", type=Path, help="write the rows here as JSON")
    args = parser.parse_args()
    root = args.folder.resolve()
    rows = []
    with tempfile.TemporaryDirectory(prefix="lagscope-survey-") as tmp:
        for path, attr in discover(root):
            row = survey(args.python, path, attr, root, duration=args.duration, out=Path(tmp))
            print(f"{row.app}: imports={row.imports} runs={row.runs} GET {row.gets_non_5xx}/"
                  f"{row.gets} {row.why_not}", file=sys.stderr, flush=True)  # fmt: skip
            rows.append(row)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1), encoding="utf-8")
    print(table(rows))


if __name__ == "__main__":
    main()
