"""An example of instructor-only checks: ``python -m autograder grade --hidden THIS_FILE``.

Keep such a file out of the students' repository. Its checks are graded like the public
ones, but a student never sees their inputs: not in the feedback, not in Gradescope (where
they form a separate ``after_published`` entry per exercise), not in an exception message.
"""
import numpy as np

from autograder.checks import matches_reference
from autograder.spec import Case, Check

_rng = np.random.default_rng(424242)

HIDDEN_CHECKS = {
    "gaussian_score": [
        Check("a large batch at unusual scales",
              [Case((_rng.normal(-7.5, 31.0, 300), -7.5, 31.0), "x of shape (300,), mu = -7.5, sigma = 31")],
              matches_reference(), points=2),
    ],
}
