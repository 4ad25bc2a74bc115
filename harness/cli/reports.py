"""The CLI's report-side flags and commands: ``--slo``/``--slo-file``, ``--profile``, ``compare``.

Kept apart from ``lagscope.harness.cli.main`` so that the run flags and the report flags
grow separately.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from lagscope.reports.summary_types import Summary
from lagscope.reports.wording import plural

from lagscope.errors import UsageError

SLO_HELP = (
    "service-level objective, repeatable: METRIC OP VALUE, e.g. 'p99<500ms', 'errors<0.1%%', "
    "'success>=99.9%%', 'rps>100'; metrics p50 p90 p95 p99 p999 max errors success rps; "
    "'default' = success>=99.9%%, p95<200ms, p99<500ms. A failed check exits 1"
)


def add_slo_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--slo", action="append", default=[], metavar="CHECK", help=SLO_HELP)
    parser.add_argument(
        "--slo-file", type=Path, metavar="FILE",
        help="file of SLO checks, one per line ('#' starts a comment)",
    )  # fmt: skip


def add_profile_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile", default=None, metavar="DURATION",
        help="profile each worker with pyinstrument for this long (e.g. 5s), centred in the "
        "load; requests that ran under the profiler are left out of the headline figures "
        "and reported apart, with the measured overhead; writes workers/<pid>/profile.html "
        "and profile.speedscope.json (a bare number is seconds; default: off)",
    )  # fmt: skip


def slo_texts(args: argparse.Namespace) -> list[str]:
    """The SLO checks as given: ``--slo`` flags, then the lines of ``--slo-file``."""
    texts = list(args.slo)
    if args.slo_file is not None:
        try:
            texts += args.slo_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise UsageError(
                f"--slo-file {args.slo_file}: cannot read it ({exc.strerror})"
            ) from exc
    return texts


def exit_code(summary: Summary) -> int:
    """1 when an SLO failed, else 0; why is on stderr in one line (the summary printed just
    before it says which check failed, measured how)."""
    slo = summary.get("slo")
    if not slo or slo["passed"]:
        return 0
    failed = sum(not check["passed"] for check in slo["checks"])
    checks = plural(len(slo["checks"]), "check")
    print(f"lagscope: the SLO failed ({failed} of {checks}, see above); exit code 1",
          file=sys.stderr)  # fmt: skip
    return 1


def add_compare(sub: Any) -> None:
    p = sub.add_parser(
        "compare", help="compare two run directories: headline deltas, findings, charts"
    )
    p.add_argument("run_a", type=Path, help="the baseline run (e.g. with the fault)")
    p.add_argument("run_b", type=Path, help="the run to compare with it (e.g. the fix)")
    p.add_argument(
        "--out", type=Path, metavar="FILE",
        help="HTML page to write (default: RUN_A/compare-<name of RUN_B>.html)",
    )  # fmt: skip


def cmd_compare(args: argparse.Namespace) -> int:
    from lagscope.reports.build import build_compare
    from lagscope.reports.renderers.compare import print_compare

    result, page = build_compare(args.run_a, args.run_b, out=args.out)
    print_compare(result)
    print(f"comparison page: {page}", file=sys.stderr)
    return 0
