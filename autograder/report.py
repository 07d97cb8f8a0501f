"""Reports of graded notebooks: a terminal table, Gradescope results.json, JUnit XML."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from autograder.grading import ExerciseResult, NotebookResult


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def table(results: list[NotebookResult]) -> str:
    """A readable per-exercise table for each notebook."""
    width = max(60, min(shutil.get_terminal_size((120, 20)).columns, 160))
    blocks = []
    for nb in results:
        if nb.error:
            blocks.append(f"{nb.path}: cannot be graded: {nb.error}")
            continue
        title = f"{nb.path} - chapter {nb.chapter.number}: {nb.chapter.title}"
        rows = [(e.number, e.name, f"{e.score}/{e.max_score}", e.summary()) for e in nb.exercises]
        w0 = max(len("#"), *(len(r[0]) for r in rows))
        w1 = max(len("exercise"), *(len(r[1]) for r in rows))
        w2 = max(len("score"), *(len(r[2]) for r in rows))
        rest = max(20, width - w0 - w1 - w2 - 6)
        lines = [title, f"{'#':<{w0}}  {'exercise':<{w1}}  {'score':>{w2}}  result", "-" * min(width, w0 + w1 + w2 + 6 + rest)]
        for number, name, score, summary in rows:
            lines.append(f"{number:<{w0}}  {name:<{w1}}  {score:>{w2}}  {_clip(summary, rest)}")
        lines.append(f"{'':<{w0}}  {'total':<{w1}}  {f'{nb.score}/{nb.max_score}':>{w2}}  ({nb.elapsed:.1f} s)")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def compact_table(results: list[NotebookResult], names: list[str]) -> str:
    """One line per notebook, for a batch: student, chapter, score, the first thing to fix."""
    width = max(60, min(shutil.get_terminal_size((120, 20)).columns, 160))
    w0 = max(len("student"), *(len(n) for n in names))
    lines = [f"{'student':<{w0}}  {'ch':>2}  {'score':>7}  result", "-" * width]
    for name, nb in zip(names, results):
        if nb.error:
            lines.append(f"{name:<{w0}}  {'':>2}  {'-':>7}  cannot be graded: {_clip(nb.error, width - w0 - 32)}")
            continue
        worst = next((e for e in nb.exercises if not e.full_marks), None)
        result = "all exercises full marks" if worst is None else f"{worst.number} {worst.summary()}"
        lines.append(f"{name:<{w0}}  {nb.chapter.number:>2}  {f'{nb.score}/{nb.max_score}':>7}  "
                     f"{_clip(result, width - w0 - 16)}")
    graded = [nb for nb in results if not nb.error]
    lines.append(f"{len(results)} notebooks, {len(results) - len(graded)} ungradable, "
                 f"{sum(nb.elapsed for nb in results):.1f} s of grading")
    return "\n".join(lines)


def details(results: list[NotebookResult]) -> str:
    """Full feedback for every exercise that lost marks."""
    parts = []
    for nb in results:
        for exercise in nb.exercises:
            if not exercise.full_marks:
                parts.append(exercise.feedback())
    return "\n\n".join(parts)


def atomic_write(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _test_name(nb: NotebookResult, exercise: ExerciseResult, several: bool) -> str:
    # The contract: a test's name is exactly the exercise's name. Only when one report holds
    # several notebooks does the file name disambiguate.
    return f"{exercise.name} ({Path(nb.path).name})" if several else exercise.name


def gradescope(results: list[NotebookResult]) -> dict:
    """Gradescope's results.json: one test per exercise, score decided by the grader."""
    gradable = [nb for nb in results if not nb.error]
    chapters = [nb.chapter.slug for nb in gradable]
    several = len(chapters) != len(set(chapters))
    tests = []
    for nb in gradable:
        for exercise in nb.exercises:
            visible = exercise.part(hidden=False)
            tests.append({
                "name": _test_name(nb, exercise, several),
                "number": exercise.number,
                "score": visible.score,
                "max_score": visible.max_score,
                "status": "passed" if visible.full_marks else "failed",
                "output": visible.feedback(),
                "visibility": "visible",
            })
            if any(c.hidden for c in exercise.checks):
                # Instructor-only checks: a second entry students see once grades are published.
                hidden = exercise.part(hidden=True)
                tests.append({
                    "name": _test_name(nb, exercise, several) + " (hidden checks)",
                    "number": exercise.number,
                    "score": hidden.score,
                    "max_score": hidden.max_score,
                    "status": "passed" if hidden.full_marks else "failed",
                    "output": hidden.feedback(),
                    "visibility": "after_published",
                })
    errors = [f"{nb.path}: {nb.error}" for nb in results if nb.error]
    output = "\n".join(errors) if errors else f"{sum(t['score'] for t in tests)}/{sum(t['max_score'] for t in tests)} points"
    return {
        "score": sum(t["score"] for t in tests),
        "execution_time": round(sum(nb.elapsed for nb in results), 3),
        "output": output,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_gradescope(results: list[NotebookResult], path: str | Path) -> None:
    atomic_write(path, json.dumps(gradescope(results), indent=2) + "\n")


def junit(results: list[NotebookResult]) -> str:
    """JUnit XML: a testsuite per notebook, a testcase per exercise."""
    root = ET.Element("testsuites", name="pg-course autograder")
    total = failures = errors = 0
    for nb in results:
        suite = ET.SubElement(root, "testsuite", name=str(nb.path), time=f"{nb.elapsed:.3f}")
        if nb.error:
            case = ET.SubElement(suite, "testcase", classname="notebook", name=Path(nb.path).name, time="0")
            ET.SubElement(case, "error", message=nb.error[:500]).text = nb.error
            suite.set("tests", "1"), suite.set("failures", "0"), suite.set("errors", "1")
            total, errors = total + 1, errors + 1
            continue
        n_fail = 0
        for exercise in nb.exercises:
            case = ET.SubElement(suite, "testcase", classname=nb.chapter.slug, name=exercise.name,
                                 time=f"{exercise.elapsed:.3f}")
            ET.SubElement(case, "properties")
            props = case.find("properties")
            for key, value in (("number", exercise.number), ("score", exercise.score), ("max_score", exercise.max_score)):
                ET.SubElement(props, "property", name=key, value=str(value))
            if not exercise.full_marks:
                n_fail += 1
                ET.SubElement(case, "failure", message=_clip(exercise.summary(), 500),
                              type=exercise.status).text = exercise.feedback()
            else:
                ET.SubElement(case, "system-out").text = exercise.feedback()
        suite.set("tests", str(len(nb.exercises)))
        suite.set("failures", str(n_fail))
        suite.set("errors", "0")
        total, failures = total + len(nb.exercises), failures + n_fail
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(results: list[NotebookResult], path: str | Path) -> None:
    atomic_write(path, junit(results))


def markdown(results: list[NotebookResult]) -> str:
    """A Markdown table per notebook, e.g. for a GitHub Actions job summary."""
    parts = []
    for nb in results:
        if nb.error:
            parts.append(f"**{Path(nb.path).name}**: cannot be graded: {nb.error}\n")
            continue
        rows = [f"### {Path(nb.path).name}: chapter {nb.chapter.number}, {nb.score}/{nb.max_score}\n",
                "| # | exercise | score | result |", "|---|---|---|---|"]
        for e in nb.exercises:
            mark = "✅" if e.full_marks else "❌"
            summary = _clip(e.summary(), 200).replace("|", "\\|")
            rows.append(f"| {e.number} | `{e.name}` | {mark} {e.score}/{e.max_score} | {summary} |")
        parts.append("\n".join(rows) + "\n")
    return "\n".join(parts)
