"""Measured false-failure rates of the graders' stochastic checks.

    python benchmarks/false_failure_rates.py [--seeds 1000] [--chapter N ...]

A stochastic check is one whose inputs carry a random generator (``wire.Rng``). For each
such check, the reference solution is run with ``--seeds`` different seeds in place of the
grader's fixed ones, and judged exactly as a student's output would be. A correct
implementation fails the check only by chance: the printed rate estimates that chance,
next to the rate the grader states (its ``alpha``), with a 95% Clopper-Pearson upper bound.
The grader itself always uses its fixed seeds, so a grading is deterministic.
"""
from __future__ import annotations

import argparse
import dataclasses
import time

from scipy import stats

from autograder import sandbox, wire
from autograder.exercises import chapters
from autograder.grading import reference_output, run_judge


def reseeded(case, shift: int):
    args = tuple(wire.Rng(a.seed + shift) if isinstance(a, wire.Rng) else a for a in case.args)
    return dataclasses.replace(case, args=args)


def is_stochastic(check) -> bool:
    return any(isinstance(a, wire.Rng) for case in check.cases for a in case.args)


def observed(live_args) -> list:
    """The inputs as the worker sends them back after a call (for ``observe_args`` cases,
    whose judges compare them with the inputs: the reference leaves them alone)."""
    encoder = wire.Encoder()
    trees = [encoder.encode(a) for a in live_args]
    return [wire.decode_data(t, encoder.arrays) for t in trees]


def failures(exercise, check, seeds: int) -> int:
    failed = 0
    for k in range(1, seeds + 1):
        for case in check.cases:
            case = reseeded(case, 1_000_003 * k)
            live_args, value = reference_output(exercise, case)
            got = sandbox.CaseResult("ok", value=value,
                                     args_after=observed(live_args) if case.observe_args else None)
            if not run_judge(check, case, got, value, live_args).passed:
                failed += 1
                break
    return failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--chapter", type=int, action="append", metavar="N",
                        help="only chapter N's checks (repeatable; default: every chapter)")
    args = parser.parse_args()
    print("| exercise | check | stated rate | seeds | failures | measured rate | 95% upper bound | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for ch in chapters():
        if args.chapter and ch.number not in args.chapter:
            continue
        for exercise in ch.exercises:
            for check in exercise.build_checks():
                if not is_stochastic(check):
                    continue
                start = time.perf_counter()
                failed = failures(exercise, check, args.seeds)
                upper = stats.beta.ppf(0.95, failed + 1, args.seeds - failed) if failed < args.seeds else 1.0
                stated = f"{check.false_failure_rate:.1e}" if check.false_failure_rate else "0 (exact)"
                print(f"| {exercise.number} `{exercise.name}` | {check.name} | {stated} | {args.seeds} | {failed} | "
                      f"{failed / args.seeds:.4f} | {upper:.4f} | {time.perf_counter() - start:.0f} |")


if __name__ == "__main__":
    main()
