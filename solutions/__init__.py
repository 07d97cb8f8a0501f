"""Reference solutions of the course's graded exercises: one module per chapter.

Every exercise function is defined exactly once, at module level, in the module of its
chapter. The chapter notebooks hold only stubs (same signature and docstring, body
``raise NotImplementedError``); ``python -m autograder fill`` and the book build put
these definitions in their place. A test keeps stub and reference signatures equal.
"""
from solutions.ch01_log_derivative_trick import (
    autograd_score,
    categorical_score,
    gaussian_score,
)

__all__ = ["gaussian_score", "categorical_score", "autograd_score"]
