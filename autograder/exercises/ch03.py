"""Chapter 3 graders: score_function_gradient (3.1), baselined_gradient (3.2),
optimal_baseline (3.3), leave_one_out_gradient (3.4), pathwise_gaussian_gradient (3.5).

Inputs come from fixed seeds and cover the contract: several random batches (one with
N = d, so that broadcasting along the wrong axis gives a wrong value instead of an error),
d = 1, the smallest N (1, or 2 for leave-one-out), lists of ints, scalar and (d,)
baselines, and large values. Hints recognise the usual mistakes.
"""
from __future__ import annotations

import numpy as np

from autograder.checks import as_array, close, matches_reference
from autograder.spec import Case, Check, Chapter, Exercise, Hint


def _floats(v) -> np.ndarray:
    return np.asarray(v, dtype=np.float64)


def _batch(args):
    """(f (N,), s (N, d)) as float arrays, from the first two inputs."""
    return _floats(args[0]), _floats(args[1])


def _label(f, s, note="") -> str:
    f, s = np.asarray(f), np.asarray(s)
    text = f"f_values of shape {f.shape}, scores of shape {s.shape}"
    return text + (f" ({note})" if note else "")


def _fs_case(f, s, note="") -> Case:
    return Case((f, s), _label(f, s, note))


def _random_batch(rng, n, d, f_scale=3.0, f_shift=1.0, s_scale=1.0):
    return rng.normal(f_shift, f_scale, n), rng.normal(0.0, s_scale, (n, d))


# The same three families of inputs serve every exercise on (f_values, scores).

def _fs_inputs(seed, n_min=1):
    rng = np.random.default_rng(seed)
    random = [  # N = d first: broadcasting along the wrong axis then gives a wrong value
        _fs_case(*_random_batch(rng, 4, 4), "N = d"),
        _fs_case(*_random_batch(rng, 50, 3)),
        _fs_case(*_random_batch(rng, 9, 2, f_shift=-2.0)),
    ]
    small = [
        _fs_case(*_random_batch(rng, 30, 1), "d = 1"),
        _fs_case(*_random_batch(rng, n_min, 3), f"N = {n_min}"),
        _fs_case(*_random_batch(rng, n_min, 1), f"N = {n_min}, d = 1"),
    ]
    lists = [
        Case(([1, 2, 3], [[1, 0], [0, 1], [1, -1]]),
             "f_values=[1, 2, 3], scores=[[1, 0], [0, 1], [1, -1]] (lists of ints)"),
        Case(([0.5, -1.5, 2.0, 3.0], [[0.2], [-1.0], [0.7], [1.1]]),
             "f_values=[0.5, -1.5, 2.0, 3.0], scores=[[0.2], [-1.0], [0.7], [1.1]] (lists)"),
    ]
    large = [
        _fs_case(*_random_batch(rng, 20, 3, f_scale=1e3, f_shift=1e6), "f near 1e6"),
        _fs_case(*_random_batch(rng, 12, 2, f_scale=1e4, f_shift=0.0, s_scale=1e3),
                 "f of magnitude 1e4, scores of magnitude 1e3"),
    ]
    return random, small, lists, large


def _fs_checks(seed, n_min=1) -> list[Check]:
    random, small, lists, large = _fs_inputs(seed, n_min)
    judge = matches_reference()
    return [
        Check("values on random batches", random, judge, points=2),
        Check(f"d = 1 and N = {n_min}", small, judge),
        Check("array-like inputs (lists of ints and floats)", lists, judge),
        Check("large values", large, judge),
    ]


# Detectors shared by the estimators: each receives (args, got, expected).

def _sum_not_mean(args, got, exp):
    n = _floats(args[0]).shape[0]
    return n > 1 and close(got, n * as_array(exp))


def _divided_by_n_minus_1(args, got, exp):
    n = _floats(args[0]).shape[0]
    return n > 1 and close(got, n / (n - 1) * as_array(exp))


def _per_sample_axis(args, got, exp):
    n = _floats(args[0]).shape[0]
    return as_array(got).shape == (n,) and as_array(exp).shape != (n,)


def _per_sample_terms(args, got, exp):
    f, s = _batch(args)
    return as_array(got).shape == s.shape and as_array(exp).shape != s.shape


SUM_HINT = Hint("you summed over the samples; the estimate is their mean (divide by N)", _sum_not_mean)
N_MINUS_1_HINT = Hint("you divided by N - 1; the estimate is the mean over the N samples (divide by N)",
                      _divided_by_n_minus_1)
AXIS_HINT = Hint("the result has one entry per sample: average over the samples (axis 0), "
                 "which leaves one entry per parameter, shape (d,)", _per_sample_axis)
TERMS_HINT = Hint("you returned the per-sample terms, shape (N, d); average them over the samples "
                  "(axis 0)", _per_sample_terms)


# --- 3.1 score_function_gradient -----------------------------------------------------------

def score_function_checks() -> list[Check]:
    return _fs_checks(3001)


SCORE_FUNCTION_HINTS = [
    Hint("f_values was broadcast against the last axis of scores (f * scores pairs f_j with column j); "
         "write f_values[:, None] * scores so that f_i multiplies row i",
         lambda args, got, exp: close(got, _batch(args)[0] * _batch(args)[1].mean(axis=0))),
    Hint("you multiplied the mean of f by the mean score; the estimator is the mean of the products "
         "f_i s_i (the mean of a product is not the product of the means)",
         lambda args, got, exp: close(got, _batch(args)[0].mean() * _batch(args)[1].mean(axis=0))),
    SUM_HINT,
    N_MINUS_1_HINT,
    AXIS_HINT,
    TERMS_HINT,
]


# --- 3.2 baselined_gradient ----------------------------------------------------------------

def _baseline_label(b) -> str:
    if isinstance(b, (int, float)):
        return f"baseline={b!r} (a Python number)"
    b = np.asarray(b)
    return f"baseline of shape {b.shape}" if b.ndim else f"baseline = {b.item():.4g} (0-d array)"


def _baselined_case(f, s, b, note="") -> Case:
    return Case((f, s, b), _label(f, s) + ", " + _baseline_label(b) + (f" ({note})" if note else ""))


def baselined_checks() -> list[Check]:
    rng = np.random.default_rng(3002)
    vector = [  # N = d first, as for 3.1
        _baselined_case(*_random_batch(rng, 4, 4), rng.normal(0.0, 2.0, 4), "N = d"),
        _baselined_case(*_random_batch(rng, 40, 3), rng.normal(1.0, 2.0, 3)),
        _baselined_case(*_random_batch(rng, 7, 2, f_shift=5.0), np.array([5.0, -1.0])),
    ]
    scalar = [
        _baselined_case(*_random_batch(rng, 25, 3), 1.5),
        _baselined_case(*_random_batch(rng, 6, 2), np.float64(-0.7)),
        _baselined_case(*_random_batch(rng, 10, 4), np.array(2.25)),
        _baselined_case(*_random_batch(rng, 8, 3), 2),
    ]
    small = [
        _baselined_case(*_random_batch(rng, 30, 1), rng.normal(size=1), "d = 1"),
        _baselined_case(*_random_batch(rng, 1, 3), rng.normal(size=3), "N = 1"),
        _baselined_case(*_random_batch(rng, 1, 1), 0.3, "N = 1, d = 1"),
        Case(([1, 2, 3], [[1, 0], [0, 1], [1, -1]], [1, 2]),
             "f_values=[1, 2, 3], scores=[[1, 0], [0, 1], [1, -1]], baseline=[1, 2] (lists of ints)"),
    ]
    large = [
        _baselined_case(*_random_batch(rng, 20, 3, f_scale=1e3, f_shift=1e6), 1e6, "f near 1e6"),
        _baselined_case(*_random_batch(rng, 12, 2, f_scale=1e4, f_shift=0.0, s_scale=1e3),
                        np.array([3e3, -2e3]), "f of magnitude 1e4, scores of magnitude 1e3"),
    ]
    judge = matches_reference()
    return [
        Check("values with a (d,) baseline on random batches", vector, judge, points=2),
        Check("a scalar baseline (Python number, 0-d array)", scalar, judge),
        Check("d = 1, N = 1 and lists", small, judge),
        Check("large values", large, judge),
    ]


def _with_baseline(args, baseline):
    f, s = _batch(args)
    return ((f[:, None] - baseline) * s).mean(axis=0)


def _wrong_axis_baseline(args, got, exp):
    f, s = _batch(args)
    b = _floats(args[2])
    return b.shape == f.shape and close(got, ((f - b)[:, None] * s).mean(axis=0))


BASELINED_HINTS = [
    Hint("the baseline was subtracted along the samples axis (f_values - baseline pairs f_i with b_i); "
         "b_j belongs to coordinate j: use f_values[:, None] - baseline, shape (N, d)",
         _wrong_axis_baseline),
    Hint("the baseline was not subtracted: this is the plain score-function estimate",
         lambda args, got, exp: close(got, _with_baseline(args, 0.0))),
    Hint("the baseline was added to f; subtract it: (f_i - b_j) s_ij",
         lambda args, got, exp: close(got, _with_baseline(args, -_floats(args[2])))),
    Hint("you subtracted the baseline from the average; subtract it from each f_i before multiplying "
         "by the score: mean_i (f_i - b_j) s_ij",
         lambda args, got, exp: close(got, _with_baseline(args, 0.0) - _floats(args[2]))),
    Hint("only baseline[0] was used; coordinate j uses its own baseline b_j",
         lambda args, got, exp: _floats(args[2]).ndim == 1
         and close(got, _with_baseline(args, _floats(args[2])[0]))),
    SUM_HINT,
    N_MINUS_1_HINT,
    AXIS_HINT,
    TERMS_HINT,
]


# --- 3.3 optimal_baseline ------------------------------------------------------------------

def optimal_baseline_checks() -> list[Check]:
    return _fs_checks(3003)


def _weighted_mean(args, weights):
    f, s = _batch(args)
    w = weights(s)
    return (f @ w) / w.sum(axis=0)


OPTIMAL_BASELINE_HINTS = [
    Hint("the weights are not squared: b_j = sum_i f_i s_ij^2 / sum_i s_ij^2 (the variance of "
         "(f - b) s_j involves s_j^2)",
         lambda args, got, exp: close(got, _weighted_mean(args, lambda s: s))),
    Hint("that is the plain mean of f (the baseline E[f]); the variance-minimising baseline weights "
         "each f_i by s_ij^2: sum_i f_i s_ij^2 / sum_i s_ij^2",
         lambda args, got, exp: np.allclose(as_array(got), _floats(args[0]).mean(), rtol=1e-6, atol=1e-9)
         and not close(exp, np.full(as_array(exp).shape, _floats(args[0]).mean()))),
    Hint("the weights are |s_ij|; they should be s_ij^2",
         lambda args, got, exp: close(got, _weighted_mean(args, np.abs))),
    Hint("numerator and denominator are swapped: b_j = sum_i f_i s_ij^2 / sum_i s_ij^2",
         lambda args, got, exp: close(got, 1.0 / as_array(exp))),
    Hint("divide by sum_i s_ij^2 (so the weights add up to one), not by N",
         lambda args, got, exp: close(got, _batch(args)[0] @ _batch(args)[1] ** 2 / _floats(args[0]).shape[0])),
    Hint("that is one baseline for all coordinates (sum_i f_i |s_i|^2 / sum_i |s_i|^2, which minimises "
         "the total variance); the exercise asks for one baseline per coordinate",
         lambda args, got, exp: np.allclose(
             as_array(got), _weighted_mean(args, lambda s: (s**2).sum(axis=1, keepdims=True))[0],
             rtol=1e-6, atol=1e-9)),
    AXIS_HINT,
]


# --- 3.4 leave_one_out_gradient ------------------------------------------------------------

def leave_one_out_checks() -> list[Check]:
    return _fs_checks(3004, n_min=2)


def _loo_with(args, baseline_of):
    f, s = _batch(args)
    return ((f - baseline_of(f))[:, None] * s).mean(axis=0)


LEAVE_ONE_OUT_HINTS = [
    Hint("the baseline mean_k f_k includes f_i itself: that is the sample-mean baseline, whose "
         "estimate is biased by the factor (N - 1)/N; leave sample i out: "
         "b_i = (sum_k f_k - f_i) / (N - 1)",
         lambda args, got, exp: close(got, _loo_with(args, lambda f: f.mean()))),
    Hint("the mean of the other values divides their sum by N - 1 (there are N - 1 of them), not N",
         lambda args, got, exp: close(got, _loo_with(args, lambda f: (f.sum() - f) / f.shape[0]))),
    Hint("no baseline was subtracted: this is the plain score-function estimate",
         lambda args, got, exp: close(got, _loo_with(args, lambda f: 0.0))),
    SUM_HINT,
    N_MINUS_1_HINT,
    AXIS_HINT,
    TERMS_HINT,
]


# --- 3.5 pathwise_gaussian_gradient --------------------------------------------------------

def _pathwise_case(fprime, eps, note="") -> Case:
    fprime, eps = np.asarray(fprime), np.asarray(eps)
    label = f"fprime_values of shape {fprime.shape}, eps of shape {eps.shape}"
    return Case((fprime, eps), label + (f" ({note})" if note else ""))


def pathwise_checks() -> list[Check]:
    rng = np.random.default_rng(3005)

    def batch(n, k=0.0, scale=1.0):
        eps = rng.normal(size=n)
        return scale * 2.0 * (1.0 + eps - k), eps  # f(x) = (x - k)^2 at mu = sigma = 1

    random = [
        _pathwise_case(*batch(100)),
        _pathwise_case(*batch(13, k=2.5)),
        _pathwise_case(rng.normal(1.0, 3.0, 25), rng.normal(size=25), "f' unrelated to eps"),
    ]
    small = [
        _pathwise_case(*batch(1), "N = 1"),
        _pathwise_case(*batch(2, k=-1.0), "N = 2"),
    ]
    lists = [
        Case(([2, -1, 4], [1, 0, -2]), "fprime_values=[2, -1, 4], eps=[1, 0, -2] (lists of ints)"),
        Case(([0.5, 1.5], [0.25, -1.0]), "fprime_values=[0.5, 1.5], eps=[0.25, -1.0] (lists)"),
    ]
    large = [
        _pathwise_case(*batch(30, k=-1e4), "f' of magnitude 2e4"),
        _pathwise_case(*batch(10, scale=1e6), "f' of magnitude 1e6"),
    ]
    judge = matches_reference()
    return [
        Check("values on random batches", random, judge, points=2),
        Check("N = 1 and N = 2", small, judge),
        Check("array-like inputs (lists of ints and floats)", lists, judge),
        Check("large values", large, judge),
    ]


def _fprime_eps(args):
    return _floats(args[0]), _floats(args[1])


PATHWISE_HINTS = [
    Hint("the sigma component misses eps: dx/dsigma = eps, so it is mean_i f'(x_i) * eps_i",
         lambda args, got, exp: close(got, np.full(2, _fprime_eps(args)[0].mean()))),
    Hint("the two components are swapped: [0] is the mu component, mean f'(x); [1] the sigma "
         "component, mean f'(x) * eps",
         lambda args, got, exp: close(got, as_array(exp)[::-1])),
    Hint("the sigma component multiplies the mean of f' by the mean of eps; average the products "
         "f'(x_i) * eps_i",
         lambda args, got, exp: close(as_array(got)[1],
                                     _fprime_eps(args)[0].mean() * _fprime_eps(args)[1].mean())
         and close(got[0], as_array(exp)[0])),
    Hint("you returned the per-sample terms; average f'(x_i) * (1, eps_i) over the samples, shape (2,)",
         lambda args, got, exp: as_array(got).shape in {(_floats(args[0]).shape[0], 2),
                                                        (2, _floats(args[0]).shape[0])}),
    SUM_HINT,
    N_MINUS_1_HINT,
]


CHAPTER = Chapter(
    slug="03_score_function_estimator",
    number=3,
    title="The score-function gradient estimator",
    solutions_module="solutions.ch03_score_function_estimator",
    exercises=[
        Exercise("3.1", "score_function_gradient", score_function_checks, SCORE_FUNCTION_HINTS, timeout=20),
        Exercise("3.2", "baselined_gradient", baselined_checks, BASELINED_HINTS, timeout=20),
        Exercise("3.3", "optimal_baseline", optimal_baseline_checks, OPTIMAL_BASELINE_HINTS, timeout=20),
        Exercise("3.4", "leave_one_out_gradient", leave_one_out_checks, LEAVE_ONE_OUT_HINTS, timeout=20),
        Exercise("3.5", "pathwise_gaussian_gradient", pathwise_checks, PATHWISE_HINTS, timeout=20),
    ],
)
