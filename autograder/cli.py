"""Command line: ``python -m autograder grade PATH...`` and ``python -m autograder fill NB -o OUT``.

Exit status (the contract): 0 when every graded exercise has full marks, 1 when any has
less, 2 when an input cannot be graded at all. Bad input gets one line on stderr, never a
traceback, and the graded notebooks are never written to.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_LOST_MARKS, EXIT_UNGRADABLE = 0, 1, 2
COMPACT_ABOVE = 5  # more notebooks than this: one line each instead of a table each


class UsageError(Exception):
    pass


def _notebooks(paths: list[str]) -> list[Path]:
    """Expand folders into the notebooks below them (checkpoints excluded), sorted."""
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
            if not inside:
                raise UsageError(f"{path}: the folder holds no .ipynb notebook")
            found.extend(inside)
        else:
            found.append(path)  # missing or odd files are reported per file by the grader
    return found


def cmd_grade(args) -> int:
    from autograder import batch, report

    paths = _notebooks(args.paths)
    folder = Path(args.paths[0]) if len(args.paths) == 1 and Path(args.paths[0]).is_dir() else None
    names = [batch.student_name(p, folder) for p in paths]
    hidden = load_hidden_checks(args.hidden) if args.hidden else None
    results = batch.grade_many(paths, jobs=args.jobs, progress=batch.Progress(len(paths)),
                               timeout=args.timeout, memory_mb=args.memory_mb, hidden=hidden)
    print(report.table(results) if len(results) <= COMPACT_ABOVE else report.compact_table(results, names))
    if args.verbose:
        text = report.details(results)
        if text:
            print("\n" + text)
    for nb in results:
        if nb.error:
            print(f"error: {nb.error}", file=sys.stderr)
    unprotected = sorted({u for nb in results for e in nb.exercises for u in e.unprotected})
    if unprotected:
        print(f"warning: this kernel has no Landlock support for {', '.join(unprotected)}: student code "
              "ran with limits but without file-system/network/signal isolation", file=sys.stderr)
    if args.gradescope:
        report.write_gradescope(results, args.gradescope)
    if args.junit:
        report.write_junit(results, args.junit)
    if args.csv:
        report.atomic_write(args.csv, batch.summary_csv(results, names))
    if args.markdown:
        with open(args.markdown, "a", encoding="utf-8") as handle:  # appends: a CI job summary file
            handle.write(report.markdown(results))
    if args.reports:
        batch.write_reports(results, names, Path(args.reports))
    if any(nb.error for nb in results):
        return EXIT_UNGRADABLE
    if all(e.full_marks for nb in results for e in nb.exercises):
        return EXIT_OK
    return EXIT_LOST_MARKS


def load_hidden_checks(path: str) -> dict:
    """Instructor-only checks: a Python file defining ``HIDDEN_CHECKS = {name: [Check, ...]}``.

    It is the instructor's own code and runs in the grader (never sent to student code).
    """
    import runpy

    from autograder.exercises import find_exercise
    from autograder.spec import Check

    if not Path(path).is_file():
        raise UsageError(f"{path}: no such hidden-checks file")
    try:
        namespace = runpy.run_path(path)
    except Exception as exc:
        raise UsageError(f"{path}: cannot be loaded ({type(exc).__name__}: {exc})") from None
    checks = namespace.get("HIDDEN_CHECKS")
    if not isinstance(checks, dict):
        raise UsageError(f"{path}: defines no HIDDEN_CHECKS dictionary")
    for name, items in checks.items():
        if find_exercise(name) is None:
            raise UsageError(f"{path}: {name!r} is not an exercise of this course")
        if not isinstance(items, list) or not all(isinstance(c, Check) for c in items):
            raise UsageError(f"{path}: HIDDEN_CHECKS[{name!r}] must be a list of autograder.spec.Check")
    return checks


def cmd_fill(args) -> int:
    from autograder.fill import fill_file

    written = fill_file(args.notebook, args.output)
    print(f"wrote {written}")
    return EXIT_OK


def cmd_gradescope_bundle(args) -> int:
    from autograder.bundle import build_bundle

    if args.hidden:
        load_hidden_checks(args.hidden)  # refuse a broken file now, not on Gradescope
    print(f"wrote {build_bundle(args.output, hidden=args.hidden)}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    grade = sub.add_parser("grade", help="grade notebooks (files, or folders of them)")
    grade.add_argument("paths", nargs="+", metavar="PATH")
    grade.add_argument("--gradescope", metavar="FILE", help="write a Gradescope results.json")
    grade.add_argument("--junit", metavar="FILE", help="write JUnit XML")
    grade.add_argument("-v", "--verbose", action="store_true", help="print every check of exercises that lost marks")
    grade.add_argument("--csv", metavar="FILE", help="write a CSV summary: a row per notebook, a column per exercise")
    grade.add_argument("--markdown", metavar="FILE", help="append a Markdown table (e.g. $GITHUB_STEP_SUMMARY)")
    grade.add_argument("--reports", metavar="DIR", help="write each student's feedback (.txt) and results (.json)")
    grade.add_argument("--hidden", metavar="FILE.py", help="instructor-only checks (HIDDEN_CHECKS); graded, "
                       "never shown with their inputs; a separate after_published Gradescope entry")
    grade.add_argument("-j", "--jobs", type=int, metavar="N", help="notebooks graded at once (default: the cores)")
    grade.add_argument("--timeout", type=float, metavar="SECONDS", help="wall-clock limit per exercise")
    grade.add_argument("--memory-mb", type=int, metavar="MB", help="memory limit per exercise process")
    grade.set_defaults(run=cmd_grade)
    fill = sub.add_parser("fill", help="write a copy of a chapter notebook with the reference solutions")
    fill.add_argument("notebook")
    fill.add_argument("-o", "--output", required=True, metavar="OUT")
    fill.set_defaults(run=cmd_fill)
    bundle = sub.add_parser("gradescope-bundle", help="write a Gradescope autograder zip (setup.sh, run_autograder)")
    bundle.add_argument("-o", "--output", default="autograder.zip", metavar="ZIP")
    bundle.add_argument("--hidden", metavar="FILE.py", help="instructor-only checks to include")
    bundle.set_defaults(run=cmd_gradescope_bundle)
    return parser


def main(argv: list[str] | None = None) -> int:
    from autograder.notebook import NotebookError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (UsageError, NotebookError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNGRADABLE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_UNGRADABLE
