"""The course's notebook autograder.

``python -m autograder grade PATH`` grades notebooks; ``from autograder import check`` then
``check("gaussian_score")`` grades one exercise from inside a notebook, with the same checks.
This module stays tiny: the sandboxed worker imports the package and must start fast.
"""
__version__ = "0.1.0"


def check(exercise, *, timeout=None):
    """Grade one exercise of the notebook you are running, exactly as the command line does.

    ``exercise`` is its name (``"gaussian_score"``) or the function itself. The code that
    is graded is what this kernel has executed, re-run in a separate process.
    """
    from autograder.notebook_check import check as _check

    return _check(exercise, timeout=timeout)


__all__ = ["check", "__version__"]
