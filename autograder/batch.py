"""Grading many notebooks: in parallel, with progress, a CSV summary and per-student reports.

One notebook per student, any file names. A notebook that cannot be graded, or whose code
is hostile, is one row with an error or zero marks: it never stops the batch.
"""
from __future__ import annotations

import csv
import io
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from autograder import report
from autograder.grading import NotebookResult, grade_path


def student_name(path: Path, root: Path | None) -> str:
    """A student's id: the notebook's path below the graded folder, without ``.ipynb``."""
    try:
        relative = path.relative_to(root) if root else Path(path.name)
    except ValueError:
        relative = Path(path.name)
    return str(relative.with_suffix(""))


class Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, total: int, stream=None):
        self.total, self.done, self.start = total, 0, time.monotonic()
        self.stream = stream or sys.stderr
        self.live = total > 1 and hasattr(self.stream, "isatty") and self.stream.isatty()

    def step(self, label: str) -> None:
        self.done += 1
        if not self.live:
            return
        width = 30
        filled = int(width * self.done / self.total)
        rate = self.done / max(time.monotonic() - self.start, 1e-9) * 60
        line = f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} graded ({rate:.0f}/min) {label[:30]:<30}"
        self.stream.write(line)
        self.stream.flush()
        if self.done == self.total:
            self.stream.write("\n")


def grade_many(paths: list[Path], *, jobs: int | None = None, progress: Progress | None = None,
               **kwargs) -> list[NotebookResult]:
    """Grade every notebook, ``jobs`` at a time; results come back in the order of ``paths``."""
    jobs = jobs or max(1, os.cpu_count() or 1)
    results: dict[int, NotebookResult] = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(grade_path, path, **kwargs): i for i, path in enumerate(paths)}
        for future in as_completed(futures):
            index = futures[future]
            try:
                results[index] = future.result()
            except Exception as exc:  # a grader bug on one notebook must not stop the batch
                results[index] = NotebookResult(path=str(paths[index]), error=f"internal grader error: {exc!r}")
            if progress:
                progress.step(Path(paths[index]).name)
    return [results[i] for i in range(len(paths))]


def summary_csv(results: list[NotebookResult], names: list[str]) -> str:
    """One row per student: each exercise's score, the total, and any error."""
    exercises: list[str] = []
    for nb in results:
        for e in nb.exercises:
            if e.name not in exercises:
                exercises.append(e.name)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["student", "notebook", "chapter", *exercises, "total", "max_total", "error"])
    for name, nb in zip(names, results):
        scores = {e.name: e.score for e in nb.exercises}
        writer.writerow([
            name, nb.path, nb.chapter.slug if nb.chapter else "",
            *[scores.get(e, "") for e in exercises],
            nb.score if not nb.error else 0, nb.max_score, nb.error or "",
        ])
    return out.getvalue()


def write_reports(results: list[NotebookResult], names: list[str], folder: Path) -> None:
    """``<student>.txt`` (the feedback a student reads) and ``<student>.json`` (Gradescope)."""
    for name, nb in zip(names, results):
        stem = folder / name
        if nb.error:
            text = f"{nb.path}: cannot be graded: {nb.error}\n"
        else:
            text = report.table([nb]) + "\n\n" + "\n\n".join(e.feedback() for e in nb.exercises) + "\n"
        report.atomic_write(stem.with_suffix(".txt"), text)
        report.write_gradescope([nb], stem.with_suffix(".json"))
