"""The torch gradient check (``Case(op="backward")`` + ``matches_reference_gradients``).

A toy exercise whose reference is ``tests/toy_reference.py``: correct code passes, and code
whose values are right but whose gradient is missing or wrong fails with a clear message.
"""
from __future__ import annotations

import numpy as np
import pytest

from autograder.checks import matches_reference_gradients
from autograder.grading import grade_exercise
from autograder.notebook import notebook_from_sources
from autograder.spec import Case, Chapter, Check, Exercise
from autograder.wire import Tensor

rng = np.random.default_rng(7)
X, W = rng.normal(size=(5, 3)), rng.normal(size=3)


def _checks():
    case = Case((Tensor(X, "float64", requires_grad=True), Tensor(W, "float64", requires_grad=True)),
                "x of shape (5, 3), w of shape (3,)", op="backward")
    return [Check("value and gradients", [case], matches_reference_gradients())]


TOY = Chapter("99_toy", 99, "Toy", "toy_reference", [Exercise("99.1", "softplus_sum", _checks, timeout=60)])
IMPORTS = "import torch\nimport numpy as np"


def grade(code):
    return grade_exercise(notebook_from_sources([IMPORTS, code]), TOY.exercises[0])


def test_correct_code_passes_the_gradient_check():
    result = grade("def softplus_sum(x, w):\n    return torch.log1p(torch.exp(x * w)).sum(-1)\n")
    assert result.full_marks, result.feedback()


@pytest.mark.parametrize("code, message", [
    ("def softplus_sum(x, w):\n    return torch.nn.functional.softplus(x * w).sum(-1).detach()\n",
     "no gradient reaches input 1"),
    ("def softplus_sum(x, w):\n"
     "    v = np.log1p(np.exp(x.detach().numpy() * w.detach().numpy())).sum(-1)\n"
     "    return torch.tensor(v)\n", "no gradient reaches input 1"),
    ("def softplus_sum(x, w):\n"
     "    y = x * w.detach()  # the gradient with respect to w is lost\n"
     "    return torch.nn.functional.softplus(y).sum(-1)\n", "no gradient reaches input 2"),
    ("def softplus_sum(x, w):\n"
     "    s = torch.nn.functional.softplus(x * w).sum(-1)\n"
     "    return s + (s - s.detach()) * 0.5  # right value, gradient scaled by 1.5\n", "gradient with respect to input"),
], ids=["detached", "numpy-round-trip", "w-detached", "wrong-gradient"])
def test_right_values_with_wrong_gradients_fail(code, message):
    result = grade(code)
    assert not result.full_marks
    assert message in result.feedback(), result.feedback()


def test_probe_operation_runs_trusted_code_on_the_students_function():
    """op="probe:call_twice": the probe calls the student's function twice in the sandbox."""
    from autograder.checks import compare_values
    from autograder.spec import Outcome

    def judge(case, got, expected, args):
        for mine, want in zip(got.value, expected):
            outcome = compare_values(mine, want)
            if not outcome.passed:
                return outcome
        return Outcome(True)

    def checks():
        case = Case((Tensor(X, "float64"), Tensor(W, "float64")), "x, w", op="probe:call_twice")
        return [Check("the same result twice", [case], judge)]

    toy = Chapter("98_toy", 98, "Toy", "toy_reference", [Exercise("98.1", "softplus_sum", checks, timeout=60)])
    stateful = ("CALLS = [0]\n"
                "def softplus_sum(x, w):\n"
                "    CALLS[0] += 1\n"
                "    return torch.nn.functional.softplus(x * w).sum(-1) * CALLS[0]\n")
    good = "def softplus_sum(x, w):\n    return torch.nn.functional.softplus(x * w).sum(-1)\n"
    assert grade_exercise(notebook_from_sources([IMPORTS, good]), toy.exercises[0]).full_marks
    assert not grade_exercise(notebook_from_sources([IMPORTS, stateful]), toy.exercises[0]).full_marks


def test_a_judge_that_raises_fails_its_check_and_grading_goes_on():
    def fragile(case, got, expected, args):
        return got.value.nonexistent_attribute  # raises AttributeError on every value

    def checks():
        case = Case((Tensor(X, "float64"), Tensor(W, "float64")), "x, w")
        return [Check("fragile", [case], fragile), *_checks()]

    toy = Chapter("97_toy", 97, "Toy", "toy_reference", [Exercise("97.1", "softplus_sum", checks, timeout=60)])
    good = "def softplus_sum(x, w):\n    return torch.nn.functional.softplus(x * w).sum(-1)\n"
    result = grade_exercise(notebook_from_sources([IMPORTS, good]), toy.exercises[0])
    fragile_check, gradient_check = result.checks
    assert not fragile_check.passed and "could not be checked (AttributeError" in fragile_check.message
    assert gradient_check.passed
