"""Probes: trusted code that exercises what a student defined and returns plain data.

Some exercises produce objects that cannot cross the process boundary, such as a
``torch.nn.Module`` class. A case with ``op="probe:NAME"`` runs ``NAME(exercise, *args)``
from this module inside the sandbox, on the student's definition, and the same probe on
the reference in the grader; the judge compares the two plain-data answers. A probe must
return only what :mod:`autograder.wire` can carry: arrays, numbers, strings, lists, tuples.

Chapters add their probes here, registered in ``PROBES``.
"""
from __future__ import annotations

PROBES: dict = {}


def probe(fn):
    """Register a probe under its function name."""
    PROBES[fn.__name__] = fn
    return fn


def get(name: str):
    try:
        return PROBES[name]
    except KeyError:
        raise ValueError(f"unknown probe {name!r}") from None


@probe
def call_twice(fn, *args):
    """Call twice with the same inputs: for exercises whose result must not depend on hidden state."""
    return (fn(*args), fn(*args))
