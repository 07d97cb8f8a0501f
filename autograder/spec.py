"""What a chapter's grader declares: exercises, their checks, and the input cases of each."""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Case:
    """One call of the exercise: positional/keyword inputs (plain data or wire markers)."""

    args: tuple
    label: str  # what the student is told about the input, e.g. "x of shape (5, 1), mu=0.3"
    kwargs: dict = field(default_factory=dict)
    observe_args: bool = False  # also send back the inputs after the call (to catch mutation)
    op: str = "call"  # "call", "backward" (also grads of sum(output)) or "probe:NAME": see wire.apply_op


@dataclass
class Outcome:
    passed: bool
    message: str = ""


# judge(case, got, expected, live_args) -> Outcome, where got is a sandbox.CaseResult whose
# status is "ok", expected is the reference output as plain data, live_args the inputs.
Judge = Callable[[Case, Any, Any, tuple], Outcome]


@dataclass
class Hint:
    """A known mistake: ``applies(args, got, expected)`` on arrays recognises it."""

    text: str
    applies: Callable[[tuple, Any, Any], bool]


@dataclass
class Check:
    name: str
    cases: list[Case]
    judge: Judge
    points: int = 1
    hidden: bool = False  # graded, but its inputs are never shown to the student
    # For a statistical check: the probability that a correct implementation fails it (an
    # upper bound, by construction of its tests). benchmarks/false_failure_rates.py measures it.
    false_failure_rate: float | None = None


@dataclass
class Exercise:
    number: str  # "1.1"
    name: str  # the function or class the student defines
    build_checks: Callable[[], list[Check]]  # deterministic: fixed seeds
    hints: list[Hint] = field(default_factory=list)
    timeout: float = 30.0
    chapter: "Chapter | None" = None

    @property
    def reference(self):
        module = importlib.import_module(self.chapter.solutions_module)
        return getattr(module, self.name)


@dataclass
class Chapter:
    slug: str  # "01_log_derivative_trick", also the notebook's file stem
    number: int
    title: str
    solutions_module: str
    exercises: list[Exercise]

    def __post_init__(self):
        for exercise in self.exercises:
            exercise.chapter = self

    def exercise(self, name: str) -> Exercise | None:
        return next((e for e in self.exercises if e.name == name), None)
