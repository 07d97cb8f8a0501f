"""Grade notebooks: slice each exercise, run it in the sandbox, judge it against the reference.

The reference outputs are computed here, in the grader's own process, from ``solutions/``;
the sandboxed process only ever receives inputs and sends back what the student's code
returned. Scores are decided here and nowhere else.
"""
from __future__ import annotations

import importlib.util
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from autograder import sandbox, wire
from autograder.checks import close
from autograder.exercises import resolve_chapter
from autograder.notebook import Notebook, NotebookError, load_notebook
from autograder.slicing import slice_exercise
from autograder.spec import Case, Chapter, Check, Exercise, Outcome


@dataclass
class CheckResult:
    name: str
    points: int
    passed: bool
    message: str = ""
    hidden: bool = False

    @property
    def score(self) -> int:
        return self.points if self.passed else 0


@dataclass
class ExerciseResult:
    number: str
    name: str
    status: str  # passed | failed | not implemented | missing
    checks: list[CheckResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    max_points: int = 0
    elapsed: float = 0.0
    unprotected: list[str] = field(default_factory=list)  # isolation the machine could not give

    @property
    def score(self) -> int:
        return sum(c.score for c in self.checks)

    @property
    def max_score(self) -> int:
        return self.max_points

    @property
    def full_marks(self) -> bool:
        return self.score == self.max_score and self.max_score > 0

    def part(self, hidden: bool) -> "ExerciseResult":
        """The same result restricted to its visible (or its hidden) checks."""
        checks = [c for c in self.checks if c.hidden == hidden]
        part = replace(self, checks=checks, max_points=sum(c.points for c in checks))
        if self.status not in ("missing", "not implemented"):
            part.status = "passed" if part.full_marks else "failed"
        return part

    def summary(self) -> str:
        """The first thing to fix, in one line."""
        if self.status == "missing":
            return self.notes[0] if self.notes else "not found"
        if self.status == "not implemented":
            return "not implemented yet (the stub still raises NotImplementedError)"
        failed = [c for c in self.checks if not c.passed]
        if not failed:
            return "all checks passed"
        return f"{failed[0].name}: {failed[0].message}"

    def feedback(self) -> str:
        """Every check with its verdict, then notes: what a student reads."""
        lines = [f"{self.number} {self.name}: {self.score}/{self.max_score} ({self.status})"]
        if self.status == "missing":
            lines += [f"  {note}" for note in self.notes]
            return "\n".join(lines)
        for check in self.checks:
            mark = "PASS" if check.passed else "FAIL"
            name = f"(hidden) {check.name}" if check.hidden else check.name
            lines.append(f"  [{mark}] {name}" + ("" if check.passed else f": {check.message}"))
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


@dataclass
class NotebookResult:
    path: str
    chapter: Chapter | None = None
    exercises: list[ExerciseResult] = field(default_factory=list)
    error: str | None = None  # the notebook could not be graded at all
    elapsed: float = 0.0

    @property
    def score(self) -> int:
        return sum(e.score for e in self.exercises)

    @property
    def max_score(self) -> int:
        return sum(e.max_score for e in self.exercises)


def grade_path(path: str | Path, *, timeout: float | None = None, memory_mb: int | None = None,
               hidden: dict[str, list[Check]] | None = None) -> NotebookResult:
    """Grade one notebook file. Never raises for a bad notebook: see ``NotebookResult.error``."""
    start = time.monotonic()
    try:
        nb = load_notebook(path)
        chapter = resolve_chapter(nb)
    except NotebookError as exc:
        return NotebookResult(path=str(path), error=str(exc), elapsed=time.monotonic() - start)
    result = grade_notebook(nb, chapter, timeout=timeout, memory_mb=memory_mb, hidden=hidden)
    result.path = str(path)
    result.elapsed = time.monotonic() - start
    return result


def grade_notebook(nb: Notebook, chapter: Chapter, *, exercises: list[Exercise] | None = None,
                   timeout: float | None = None, memory_mb: int | None = None,
                   hidden: dict[str, list[Check]] | None = None) -> NotebookResult:
    exercises = exercises if exercises is not None else chapter.exercises
    sandbox.fork_server(torch=_uses_torch(chapter))  # start it now: it overlaps with what follows
    # One thread per exercise: each mostly waits for its sandboxed process, and starting the
    # slow ones (torch imports) at once overlaps them with the rest.
    workers = max(1, len(exercises))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda e: grade_exercise(nb, e, timeout=timeout, memory_mb=memory_mb,
                                                         hidden=(hidden or {}).get(e.name, [])), exercises))
    return NotebookResult(path=str(nb.path or "<notebook>"), chapter=chapter, exercises=results)


def _uses_torch(chapter: Chapter) -> bool:
    spec = importlib.util.find_spec(chapter.solutions_module)
    try:
        return "import torch" in Path(spec.origin).read_text()
    except (AttributeError, TypeError, OSError):
        return False


def grade_exercise(nb: Notebook, exercise: Exercise, *, timeout: float | None = None,
                   memory_mb: int | None = None, hidden: list[Check] = ()) -> ExerciseResult:
    """Grade one exercise: its own checks, then any instructor-only ``hidden`` checks."""
    start = time.monotonic()
    checks = exercise.build_checks() + [replace(check, hidden=True) for check in hidden]
    result = ExerciseResult(exercise.number, exercise.name, "missing",
                            max_points=sum(c.points for c in checks))
    code = slice_exercise(nb, exercise.name)
    if not code.found:
        result.notes = [f"no code cell defines `{exercise.name}`"] + code.notes
        result.checks = [CheckResult(c.name, c.points, False, "not found", c.hidden) for c in checks]
        result.elapsed = time.monotonic() - start
        return result

    cases = [case for check in checks for case in check.cases]
    limits = sandbox.Limits(timeout=timeout or exercise.timeout)
    if memory_mb:
        limits.memory_mb = memory_mb
    with ThreadPoolExecutor(max_workers=1) as pool:
        job_future = pool.submit(sandbox.run_job, code.cells, exercise.name, cases, limits)
        expected = [reference_output(exercise, case) for case in cases]
        job = job_future.result()

    position = 0
    first_missing = next((i for i, c in enumerate(job.cases) if c.status == "missing"), None)
    for check in checks:
        outcome = Outcome(True)
        for case in check.cases:
            got = job.cases[position]
            live_args, want = expected[position]
            if outcome.passed:
                outcome = _judge(check, case, got, want, live_args, exercise, job, code, position == first_missing)
            position += 1
        result.checks.append(CheckResult(check.name, check.points, outcome.passed, outcome.message, check.hidden))

    result.unprotected = job.unprotected
    if all(c.status == "not_implemented" for c in job.cases):
        result.status = "not implemented"
    else:
        result.status = "passed" if result.full_marks else "failed"
        if not result.full_marks:
            result.notes += code.notes + job.setup_errors
            if job.exit_note and job.output_tail.strip():
                result.notes.append("last output of the process: " + " | ".join(job.output_tail.strip().splitlines()[-3:]))
    result.elapsed = time.monotonic() - start
    return result


def reference_output(exercise: Exercise, case: Case):
    """(live inputs, reference output as plain data), computed in this process."""
    encoder = wire.Encoder()
    specs = [encoder.encode(a) for a in case.args]
    live = tuple(wire.to_live(s, encoder.arrays) for s in specs)
    kwargs = {k: wire.to_live(encoder.encode(v), encoder.arrays) for k, v in case.kwargs.items()}
    value = wire.apply_op(case.op, exercise.reference, live, kwargs)
    out = wire.Encoder()
    tree = out.encode(value)
    # Fresh inputs for hint detectors: the reference call must not be able to alter them.
    fresh = tuple(wire.to_live(s, encoder.arrays) for s in specs)
    return fresh, wire.decode_data(tree, out.arrays)


def run_judge(check: Check, case: Case, got, expected, live_args) -> Outcome:
    """A judge that meets a value it did not foresee fails the check; it never stops grading."""
    try:
        return check.judge(case, got, expected, live_args)
    except Exception as exc:
        return Outcome(False, f"the returned value could not be checked ({type(exc).__name__}: {exc})")


def _judge(check: Check, case: Case, got, expected, live_args, exercise: Exercise, job, code,
           died_here: bool) -> Outcome:
    if check.hidden and got.status in ("ok", "error"):
        # Nothing about a hidden input reaches the student: not its values, not the
        # message of an exception it caused. The exception's type is a fair hint.
        if got.status == "ok":
            outcome = run_judge(check, case, got, expected, live_args)
            return outcome if outcome.passed else Outcome(False, "wrong result on a hidden input")
        kind = (got.error or "an exception").split(":")[0].split(" (")[0]
        return Outcome(False, f"raised {kind} on a hidden input")
    where = f"on input {case.label}"
    if got.status == "ok":
        outcome = run_judge(check, case, got, expected, live_args)
        if outcome.passed:
            return outcome
        hint = _hint(exercise, live_args, got.value, expected)
        return Outcome(False, f"{where}: {outcome.message}" + (f". Hint: {hint}" if hint else ""))
    if got.status == "not_implemented":
        return Outcome(False, "not implemented yet (the function still raises NotImplementedError)")
    if got.status == "undefined":
        message = got.error or "not defined"
        if job.setup_errors:
            message += f"; while running the notebook: {job.setup_errors[-1]}"
        return Outcome(False, message)
    if got.status == "error":
        message = got.error or "raised an exception"
        for name, why in code.unrunnable.items():
            if f"NameError: name '{name}'" in message:
                message += f". Note: {why}"
        return Outcome(False, f"{where}: raised {message}")
    # missing: the process ended (or was stopped) before writing this case's result
    reason = job.exit_note or "the process ended without a result"
    if job.timed_out:
        reason += " (an infinite loop, or far too much work?)"
    if died_here:
        return Outcome(False, f"{where}: did not finish: {reason}")
    return Outcome(False, f"not run: {reason} during an earlier input")


def _hint(exercise: Exercise, live_args, got, expected) -> str | None:
    """The first known mistake that explains a wrong value (none if the values are right and
    only the type or dtype is off: the check's own message says that)."""
    if _same_values(got, expected):
        return None
    with np.errstate(all="ignore"):
        for hint in exercise.hints:
            try:
                if hint.applies(live_args, got, expected):
                    return hint.text
            except Exception:  # a detector that does not fit this output just does not apply
                continue
    return None


def _same_values(got, expected) -> bool:
    try:
        return close(got, expected)
    except (TypeError, ValueError):
        return False
