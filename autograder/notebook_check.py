"""``check(...)`` inside a notebook: the command line's checks on the kernel's own code.

The code graded is the kernel's input history (every cell executed so far, in order), so
the verdict matches ``python -m autograder grade`` on the saved notebook. It is re-run in a
separate process like any submission: nothing in the kernel's memory is trusted or used.
"""
from __future__ import annotations

import html
import inspect

from autograder.exercises import find_exercise
from autograder.grading import ExerciseResult, grade_exercise
from autograder.notebook import notebook_from_sources


class CheckReport:
    """What ``check`` returns: shows itself as text or HTML; ``.passed`` and ``.score`` for code."""

    def __init__(self, result: ExerciseResult | None, error: str | None = None):
        self.result, self.error = result, error

    @property
    def passed(self) -> bool:
        return self.result is not None and self.result.full_marks

    @property
    def score(self) -> tuple[int, int]:
        return (self.result.score, self.result.max_score) if self.result else (0, 0)

    def __repr__(self) -> str:
        return f"check: {self.error}" if self.error else self.result.feedback()

    def _repr_html_(self) -> str:
        if self.error:
            return f"<pre>check: {html.escape(self.error)}</pre>"
        r = self.result
        colour = "#1a7f37" if r.full_marks else "#cf222e"
        rows = "".join(
            f"<tr><td style='color:{'#1a7f37' if c.passed else '#cf222e'}'>{'PASS' if c.passed else 'FAIL'}</td>"
            f"<td>{html.escape(c.name)}</td><td style='text-align:left'>{html.escape(c.message)}</td></tr>"
            for c in r.checks
        )
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in r.notes)
        return (
            f"<div><b style='color:{colour}'>{html.escape(r.number)} {html.escape(r.name)}: "
            f"{r.score}/{r.max_score} ({html.escape(r.status)})</b>"
            f"<table>{rows}</table>{f'<ul>{notes}</ul>' if notes else ''}</div>"
        )


def _kernel_sources() -> list[str] | None:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None:
        return None
    return [s for s in shell.history_manager.input_hist_raw if s]


def check(exercise, *, timeout=None) -> CheckReport:
    name = exercise if isinstance(exercise, str) else getattr(exercise, "__name__", None)
    found = find_exercise(name) if isinstance(name, str) else None
    if found is None:
        return CheckReport(None, f"{exercise!r} is not an exercise of this course")
    sources = _kernel_sources()
    if sources is None:
        if callable(exercise):  # plain Python: grade the module that defines the function
            module = inspect.getmodule(exercise)
            sources = [inspect.getsource(module)] if module else []
        else:
            return CheckReport(None, "outside a notebook, pass the function itself: check(gaussian_score)")
    result = grade_exercise(notebook_from_sources(sources), found, timeout=timeout)
    return CheckReport(result)
