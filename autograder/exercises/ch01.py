"""Chapter 1 graders: gaussian_score (1.1), categorical_score (1.2), autograd_score (1.3).

Inputs come from fixed seeds and cover the contract: broadcasting, array-likes, length-1
batches, extreme scales and logits of magnitude 1e3. Hints recognise the usual mistakes.
"""
from __future__ import annotations

import numpy as np

from autograder.checks import (
    as_array, close, describe_input, leaves_input_unchanged, matches_reference, result_is_detached, softmax,
)
from autograder.spec import Case, Chapter, Check, Exercise, Hint
from autograder.fixtures import classification_data, log_prob_case, regression_data, untouched_theta_cases


# --- 1.1 gaussian_score ---------------------------------------------------------------------

def _gaussian_case(x, mu, sigma) -> Case:
    return Case((x, mu, sigma), f"{describe_input('x', x)}, {describe_input('mu', mu)}, {describe_input('sigma', sigma)}")


def gaussian_checks() -> list[Check]:
    rng = np.random.default_rng(1001)
    random_cases = [
        _gaussian_case(rng.normal(0, 3, 25), 0.7, 1.9),
        _gaussian_case(rng.normal(0, 2, 10), rng.normal(0, 1, 10), rng.uniform(0.3, 3, 10)),
        _gaussian_case(1.3, -0.4, 0.8),
    ]
    broadcast_cases = [
        _gaussian_case(rng.normal(size=(4, 1)), rng.normal(size=(1, 3)), rng.uniform(0.5, 2, 3)),
        _gaussian_case(rng.normal(size=5), rng.normal(size=(2, 1)), 1.5),
        _gaussian_case(rng.normal(size=1), 0.0, rng.uniform(0.5, 2, (1, 1))),
    ]
    arraylike_cases = [
        Case(([0, 1, 2, -3], 1, 2), "x=[0, 1, 2, -3] (a list of ints), mu=1, sigma=2 (ints)"),
        Case((2.5, [0.0, 1.0], [[1.0], [3.0]]), "x=2.5, mu=[0.0, 1.0], sigma=[[1.0], [3.0]] (lists)"),
    ]
    scale_cases = [
        _gaussian_case(rng.normal(1e3, 1e-3, 6), 1e3, 1e-3),
        _gaussian_case(rng.normal(0, 1e3, 6), 5.0, 1e3),
    ]
    judge = matches_reference()
    return [
        Check("values on random inputs", random_cases, judge, points=2),
        Check("broadcasting x, mu and sigma", broadcast_cases, judge),
        Check("array-like inputs (lists, Python numbers)", arraylike_cases, judge),
        Check("tiny and huge sigma (1e-3, 1e3)", scale_cases, judge),
    ]


def _gauss_parts(args):
    x, mu, sigma = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in args))
    return x, mu, sigma


def _second_coordinate_is(fn):
    """A hint test: coordinate 0 is right and coordinate 1 equals fn(x, mu, sigma)."""
    def applies(args, got, expected):
        got, expected = as_array(got), as_array(expected)
        x, mu, sigma = _gauss_parts(args)
        return got.shape == expected.shape and close(got[..., 0], expected[..., 0]) and close(got[..., 1], fn(x, mu, sigma))
    return applies


GAUSSIAN_HINTS = [
    Hint("both coordinates have the wrong sign: log p has -(x - mu)^2 / (2 sigma^2), whose derivative in mu is +(x - mu) / sigma^2",
         lambda args, got, exp: close(got, -as_array(exp))),
    Hint("the two coordinates are swapped: [..., 0] is the mu derivative, [..., 1] the sigma derivative",
         lambda args, got, exp: close(got, as_array(exp)[..., ::-1])),
    Hint("the two coordinates are stacked on the first axis; stack them on the last one (np.stack(..., axis=-1))",
         lambda args, got, exp: as_array(got).shape == (2,) + as_array(exp).shape[:-1] and close(np.moveaxis(as_array(got), 0, -1), exp)),
    Hint("the sigma coordinate is the derivative with respect to log sigma, (x - mu)^2 / sigma^2 - 1; "
         "the derivative with respect to sigma is that divided by sigma",
         _second_coordinate_is(lambda x, mu, s: ((x - mu) ** 2 - s**2) / s**2)),
    Hint("the sigma coordinate is the derivative with respect to the variance sigma^2; the contract asks for "
         "d/dsigma = ((x - mu)^2 - sigma^2) / sigma^3",
         _second_coordinate_is(lambda x, mu, s: ((x - mu) ** 2 - s**2) / (2 * s**4))),
    Hint("the sigma coordinate misses the -1/sigma that comes from the normaliser's -log sigma",
         _second_coordinate_is(lambda x, mu, s: (x - mu) ** 2 / s**3)),
    Hint("the mu coordinate divides by sigma once; d/dmu of -(x - mu)^2 / (2 sigma^2) is (x - mu) / sigma^2",
         lambda args, got, exp: close(as_array(got)[..., 0], (lambda x, mu, s: (x - mu) / s)(*_gauss_parts(args)))),
]


# --- 1.2 categorical_score ------------------------------------------------------------------

def _categorical_case(a, logits, note="") -> Case:
    label = f"{describe_input('a', a)}, {describe_input('logits', logits)}" + (f" ({note})" if note else "")
    return Case((a, logits), label)


def categorical_checks() -> list[Check]:
    rng = np.random.default_rng(1002)
    random_cases = [
        _categorical_case(rng.integers(0, 4, 6), rng.normal(0, 2, (6, 4))),
        _categorical_case(np.int64(2), rng.normal(0, 1, 5)),
        _categorical_case(rng.integers(0, 5, (3, 2)), rng.normal(0, 3, (3, 2, 5))),
    ]
    broadcast_cases = [
        _categorical_case(rng.integers(0, 5, (4, 1)), rng.normal(size=(3, 5))),
        _categorical_case(np.int64(1), rng.normal(size=(4, 6)), "one action for a batch of logits"),
        _categorical_case(rng.integers(0, 3, 2), rng.normal(size=(1, 3))),
    ]
    big = np.array([[1e3, 0.0, -1e3], [-1e3, -1e3, -1e3], [800.0, 1e3, 999.0], [-1e3, 1e3, 0.0]])
    large_cases = [
        _categorical_case(np.array([0, 2, 1, 0]), big, "entries of magnitude 1e3"),
        _categorical_case(np.array([1, 1]), rng.normal(0, 1, (2, 6)) * 1e3, "entries of magnitude 1e3"),
    ]
    edge_cases = [
        Case(([0, 2], [[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]]), "a=[0, 2], logits as nested lists"),
        _categorical_case(np.array([0]), rng.normal(size=(1, 4)), "a batch of one"),
        _categorical_case(np.array([0, 0, 0]), rng.normal(size=(3, 1)), "K = 1 category"),
    ]
    judge = matches_reference()
    return [
        Check("values on random inputs", random_cases, judge, points=2),
        Check("broadcasting a against logits[..., 0]", broadcast_cases, judge),
        Check("logits of magnitude 1e3 stay finite and exact", large_cases, judge),
        Check("lists, a batch of one, K = 1", edge_cases, judge),
    ]


def _one_hot(a, logits):
    logits = np.asarray(logits, dtype=np.float64)
    return (np.asarray(a)[..., None] == np.arange(logits.shape[-1])).astype(np.float64)


CATEGORICAL_HINTS = [
    Hint("the softmax overflowed (exp(1000) is inf in float64): subtract logits.max(axis=-1, keepdims=True) "
         "before exponentiating; softmax is unchanged by that shift",
         lambda args, got, exp: (not np.all(np.isfinite(as_array(got)))) and np.abs(np.asarray(args[1], float)).max() > 700),
    Hint("the sign is flipped: the score is one_hot(a) - softmax(logits), not softmax - one_hot",
         lambda args, got, exp: close(got, -as_array(exp))),
    Hint("the one-hot term is missing: d/dlogits of log softmax(logits)[a] is one_hot(a) - softmax(logits)",
         lambda args, got, exp: close(got, -softmax(args[1]) + 0 * as_array(exp))),
    Hint("the log-probabilities were subtracted; subtract the probabilities softmax(logits)",
         lambda args, got, exp: close(got, _one_hot(*args) - np.log(softmax(args[1])) + 0 * as_array(exp))),
    Hint("the softmax is normalised over the wrong axis: sum over the last axis (the K categories)",
         lambda args, got, exp: np.ndim(args[1]) > 1 and close(got, _one_hot(*args) - softmax(args[1], axis=0) + 0 * as_array(exp))),
]


# --- 1.3 autograd_score ---------------------------------------------------------------------


def autograd_checks() -> list[Check]:
    rng = np.random.default_rng(1003)
    value_cases = [
        log_prob_case("gaussian_mu_log_sigma", [0.3, -0.2], rng.normal(0.3, 0.8, 12)),
        log_prob_case("categorical_logits", rng.normal(size=5), rng.integers(0, 5, 20), x_dtype="int64"),
        log_prob_case("poisson_log_rate", [0.7], rng.poisson(2.0, 8).astype(float)),
        log_prob_case("linear_gaussian", rng.normal(size=3), regression_data(rng, 15, 3)),
        log_prob_case("logistic_bernoulli", rng.normal(size=4), classification_data(rng, 10, 4),
                       requires_grad=False, note="theta does not require grad"),
    ]
    one_cases = [log_prob_case("gaussian_mu_log_sigma", [1.0, 0.5], rng.normal(size=1), note="N = 1")]
    f32_cases = [
        log_prob_case("gaussian_mu_log_sigma", [0.1, 0.3], rng.normal(size=7), theta_dtype="float32", x_dtype="float32"),
        log_prob_case("linear_gaussian", rng.normal(size=2), regression_data(rng, 6, 2), theta_dtype="float32", x_dtype="float32"),
    ]
    detach_cases = [log_prob_case("gaussian_mu_log_sigma", [0.0, 0.0], rng.normal(size=5))]
    untouched_cases = untouched_theta_cases(rng)
    return [
        Check("per-sample gradients on five models", value_cases, matches_reference(rtol=1e-6, atol=1e-9), points=2),
        Check("a batch of one sample", one_cases, matches_reference(rtol=1e-6, atol=1e-9)),
        Check("float32 in, float32 out", f32_cases, matches_reference(rtol=1e-4, atol=1e-5)),
        Check("the result is detached", detach_cases, result_is_detached()),
        Check("theta and theta.grad are left unchanged", untouched_cases, leaves_input_unchanged(1, "theta")),
    ]


AUTOGRAD_HINTS = [
    Hint("you returned the gradient of the summed log-probability; the exercise asks for one gradient per "
         "sample, a row for each of the N samples",
         lambda args, got, exp: close(got, as_array(exp).sum(axis=0))),
    Hint("you returned the gradient of the mean log-probability; the exercise asks for one gradient per sample",
         lambda args, got, exp: close(got, as_array(exp).mean(axis=0))),
    Hint("the result is transposed: rows are samples (N, d)",
         lambda args, got, exp: close(got, as_array(exp).T)),
    Hint("the rows add up as you go: with .backward() gradients accumulate in .grad; zero it between samples "
         "or use torch.autograd.grad",
         lambda args, got, exp: as_array(exp).shape[0] > 1 and close(got, np.cumsum(as_array(exp), axis=0))),
]


CHAPTER = Chapter(
    slug="01_log_derivative_trick",
    number=1,
    title="The log-derivative trick",
    solutions_module="solutions.ch01_log_derivative_trick",
    exercises=[
        Exercise("1.1", "gaussian_score", gaussian_checks, GAUSSIAN_HINTS, timeout=20),
        Exercise("1.2", "categorical_score", categorical_checks, CATEGORICAL_HINTS, timeout=20),
        Exercise("1.3", "autograd_score", autograd_checks, AUTOGRAD_HINTS, timeout=40),
    ],
)
