"""The child process that runs student code: ``python -m autograder._worker JOBDIR``.

It is untrusted once student code has run in it, so it decides nothing. It reads
``job.json`` and ``inputs.npz`` from JOBDIR, locks itself down (:mod:`autograder.isolation`:
limits, no capabilities, Landlock: no reading the reference solutions, no writing outside
JOBDIR, no network, no signals to the grader), runs the notebook slice, calls the exercise
on every case and writes each result as ``case-<i>.json`` + ``case-<i>.npz`` (plain data,
see :mod:`autograder.wire`). The grader reads those files, and only those, and compares
them with references it computes itself. Stdout and stderr go to files nobody parses.
"""
from __future__ import annotations

import builtins
import importlib.abc
import json
import os
import sys
import traceback
from pathlib import Path

import numpy as np

from autograder import isolation, wire

_BLOCKED_PACKAGES = ("solutions",)


class _BlockReferenceSolutions(importlib.abc.MetaPathFinder):
    """Student code may not import the reference solutions."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in _BLOCKED_PACKAGES:
            raise ImportError(f"the grader does not let exercises import {fullname!r}")
        return None


class _NoIPython:
    """Stands in for ``get_ipython()``: magics and shell lines do nothing when graded."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _describe(exc: BaseException) -> str:
    """One line: the exception and where in the student's cells it happened."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("cell ")]
    where = ""
    if frames:
        last = frames[-1]
        where = f" ({last.filename}, line {last.lineno}, in {last.name})"
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    text = " ".join(text.split())
    if len(text) > 400:
        text = text[:400] + "..."
    return text + where


def _write(jobdir: str, stem: str, payload: dict, arrays: dict) -> None:
    # Arrays first, JSON last and renamed into place: a half-written result is never read.
    npz = os.path.join(jobdir, f"{stem}.npz")
    with open(npz + ".tmp", "wb") as handle:
        np.savez(handle, **arrays)
    os.replace(npz + ".tmp", npz)
    path = os.path.join(jobdir, f"{stem}.json")
    with open(path + ".tmp", "w") as handle:
        json.dump(payload, handle)
    os.replace(path + ".tmp", path)


def _run_case(fn, case: dict, inputs) -> tuple[dict, dict]:
    encoder = wire.Encoder()
    args: list = []
    try:
        args = [wire.to_live(a, inputs) for a in case["args"]]
        kwargs = {k: wire.to_live(v, inputs) for k, v in case.get("kwargs", {}).items()}
        payload = {"status": "ok", "value": encoder.encode(wire.apply_op(case.get("op", "call"), fn, args, kwargs))}
    except NotImplementedError as exc:
        payload = {"status": "not_implemented", "error": _describe(exc)}
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: they end only this case
        payload = {"status": "error", "error": _describe(exc)}
    if case.get("observe_args"):
        try:
            payload["args_after"] = [encoder.encode(a) for a in args]
        except BaseException as exc:
            payload = {"status": "error", "error": f"inputs unreadable after the call: {_describe(exc)}"}
    return payload, encoder.arrays


def main(jobdir: str) -> None:
    with open(os.path.join(jobdir, "job.json")) as handle:
        job = json.load(handle)
    with np.load(os.path.join(jobdir, "inputs.npz"), allow_pickle=False) as npz:
        inputs = {key: npz[key] for key in npz.files}
    sys.meta_path.insert(0, _BlockReferenceSolutions())
    limits = job["isolation"]
    unprotected = isolation.apply(Path(jobdir), [Path(p) for p in limits["unreadable"]],
                                  limits["memory_mb"], limits["file_mb"], limits["cpu_seconds"])

    namespace = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": _NoIPython}
    setup_errors = []
    for label, source in job["cells"]:
        try:
            exec(compile(source, label, "exec", dont_inherit=True), namespace)
        except BaseException as exc:
            setup_errors.append(f"running {label}: {_describe(exc)}")
    _write(jobdir, "setup", {"errors": setup_errors, "unprotected": unprotected}, {})

    fn = namespace.get(job["function"])
    for index, case in enumerate(job["cases"]):
        if not callable(fn):
            what = "is not defined" if fn is None else f"is a {type(fn).__name__}, not a function"
            payload, arrays = {"status": "undefined", "error": f"`{job['function']}` {what}"}, {}
        else:
            payload, arrays = _run_case(fn, case, inputs)
        _write(jobdir, f"case-{index}", payload, arrays)
    _write(jobdir, "done", {}, {})
    sys.stdout.flush()
    # Skip interpreter shutdown: atexit handlers and finalisers of student code do not run.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1])
