"""Chapter 8 graders: es_gradient (8.1), antithetic_es_gradient (8.2),
gumbel_softmax_sample (8.3).

The two evolution-strategies estimators are deterministic functions of their inputs and are
compared with the references on inputs from fixed seeds: several random batches (one with
N = d, so that broadcasting along the wrong axis gives a wrong value instead of an error),
d = 1, N = 1, lists, sigma as a Python float, an int and a 0-d array, zero values, large and
small magnitudes, and inputs that must come back unchanged.

``gumbel_softmax_sample`` is random, and correct implementations draw the Gumbel noise in
different ways (``rng.gumbel``, or ``-log(-log u)`` with ``u = rng.random(...)``), so it is
graded by distribution, never sample by sample. Each distribution case is a batch of n
identical rows of logits ``l``; for a correct sampler

* the argmax of each row is a draw from ``softmax(l)`` (the Gumbel-max trick): a Pearson
  chi-square test per case (``frequency_test``, 3 tests);
* ``temperature * (log y_i - log y_j) - (l_i - l_j) = g_i - g_j`` is the difference of two
  independent standard Gumbel variables, a standard Logistic variable: a Kolmogorov-Smirnov
  test per pair (4 tests).

Each of the ``GUMBEL_TESTS = 7`` tests is at level ``GUMBEL_ALPHA / 7``, so by Bonferroni a
correct sampler fails the exercise's statistical checks with probability at most
``GUMBEL_ALPHA = 1e-4`` (the KS test is exact; the chi-square test asymptotic, on 4000 draws).
The other checks are exact: shape, dtype and the simplex; finiteness at logits of magnitude
1e3 and temperature 0.05; the gradient (the vector-Jacobian product at the returned sample
must equal ``y * (w - <w, y>) / temperature``, the Jacobian of a softmax, whatever the noise
was: probe ``gumbel_softmax_vjp``); reproducibility from ``rng`` (probe ``replay_rng``:
samples of 400 continuous entries from two generators coincide with probability 0); and
an input left unchanged. The seeds are fixed, so each verdict is the same on every run.
"""
from __future__ import annotations

import numpy as np

from autograder.checks import (as_array, bonferroni, close, compare_arrays, describe_type,
                               frequency_test, leaves_arrays_unchanged, leaves_input_unchanged,
                               matches_reference, softmax)
from autograder.spec import Case, Chapter, Check, Exercise, Hint, Outcome
from autograder.wire import Rng, Tensor, TensorData

GUMBEL_ALPHA = 1e-4


def _floats(v) -> np.ndarray:
    return np.asarray(v, dtype=np.float64)


def _sigma_label(sigma) -> str:
    if isinstance(sigma, np.ndarray):
        return f"sigma = {sigma.item():.4g} (0-d array)"
    return f"sigma={sigma!r}"


# --- 8.1 and 8.2: inputs -----------------------------------------------------------------

def _es_label(arrays, names, sigma, note="") -> str:
    parts = [f"{n} of shape {np.shape(a)}" for n, a in zip(names, arrays)]
    text = ", ".join(parts) + ", " + _sigma_label(sigma)
    return text + (f" ({note})" if note else "")


def _quadratic(rng, d, scale=1.0):
    """f(x) = c + g.x - h |x|^2 / 2 around theta: a realistic objective of the perturbations."""
    c, g, h = rng.normal(0, 3), rng.normal(0, 1, d), abs(rng.normal(1, 0.5))
    theta = rng.normal(0, 1, d)
    return lambda x: scale * (c + x @ g - 0.5 * h * (x * x).sum(axis=-1)), theta


def _es_batch(rng, n, d, sigma, scale=1.0, antithetic=False, eps_scale=1.0):
    f, theta = _quadratic(rng, d, scale)
    eps = eps_scale * rng.normal(size=(n, d))
    plus = f(theta + sigma * eps)
    return (plus, f(theta - sigma * eps), eps) if antithetic else (plus, eps)


def _es_cases(seed, antithetic):
    names = ("f_plus", "f_minus", "eps") if antithetic else ("f_values", "eps")
    rng = np.random.default_rng(seed)

    def case(arrays, sigma, note=""):
        return Case((*arrays, sigma), _es_label(arrays, names, sigma, note))

    def batch(n, d, sigma, **kw):
        return case(_es_batch(rng, n, d, sigma, antithetic=antithetic, **kw), sigma)

    random = [  # N = d first: broadcasting along the wrong axis then gives a wrong value
        case(_es_batch(rng, 4, 4, 0.3, antithetic=antithetic), 0.3, "N = d"),
        batch(50, 3, 0.1),
        batch(9, 2, 0.7),
        case(tuple(rng.normal(1.0, 3.0, 12) for _ in names[:-1]) + (rng.normal(size=(12, 3)),),
             0.2, "f unrelated to eps"),
    ]
    small = [
        case(_es_batch(rng, 30, 1, 0.5, antithetic=antithetic), 0.5, "d = 1"),
        case(_es_batch(rng, 1, 3, 0.25, antithetic=antithetic), 0.25, "N = 1"),
        case(_es_batch(rng, 1, 1, 2.0, antithetic=antithetic), 2.0, "N = 1, d = 1"),
        case(tuple(np.zeros(6) for _ in names[:-1]) + (rng.normal(size=(6, 2)),), 0.4,
             "f identically zero"),
    ]
    sigmas = [
        batch(20, 3, 1),
        case(_es_batch(rng, 15, 2, 0.05, antithetic=antithetic), np.array(0.05)),
        case(_es_batch(rng, 10, 4, 3.5, antithetic=antithetic), np.float64(3.5)),
    ]
    if antithetic:
        lists = [
            Case(([1, 2, 3], [0, 1, -1], [[1, 0], [0, 1], [1, -1]], 0.5),
                 "f_plus=[1, 2, 3], f_minus=[0, 1, -1], eps=[[1, 0], [0, 1], [1, -1]], "
                 "sigma=0.5 (lists of ints)"),
            Case(([0.5, -1.5], [2.0, 3.0], [[0.2], [-1.0]], 2),
                 "f_plus=[0.5, -1.5], f_minus=[2.0, 3.0], eps=[[0.2], [-1.0]], sigma=2 (lists)"),
        ]
    else:
        lists = [
            Case(([1, 2, 3], [[1, 0], [0, 1], [1, -1]], 0.5),
                 "f_values=[1, 2, 3], eps=[[1, 0], [0, 1], [1, -1]], sigma=0.5 (lists of ints)"),
            Case(([0.5, -1.5, 2.0, 3.0], [[0.2], [-1.0], [0.7], [1.1]], 2),
                 "f_values=[0.5, -1.5, 2.0, 3.0], eps=[[0.2], [-1.0], [0.7], [1.1]], sigma=2 "
                 "(lists)"),
        ]
    large = [
        case(_es_batch(rng, 20, 3, 0.1, scale=1e6, antithetic=antithetic), 0.1,
             "f of magnitude 1e6"),
        case(_es_batch(rng, 12, 2, 1e-3, scale=1e3, antithetic=antithetic), 1e-3,
             "sigma = 1e-3, f of magnitude 1e3"),
    ]
    unchanged = [
        Case(c.args, c.label + "; the inputs must come back unchanged", observe_args=True)
        for c in (batch(8, 3, 0.5), batch(5, 2, 0.2))
    ]
    return random, small, sigmas, lists, large, unchanged


def _es_checks(seed, antithetic) -> list[Check]:
    random, small, sigmas, lists, large, unchanged = _es_cases(seed, antithetic)
    judge = matches_reference()
    return [
        Check("values on random batches", random, judge, points=2),
        Check("d = 1, N = 1, f = 0", small, judge),
        Check("sigma as an int, a 0-d array and a NumPy float", sigmas, judge),
        Check("array-like inputs (lists of ints and floats)", lists, judge),
        Check("large values and a small sigma", large, judge),
        Check("the inputs are left unchanged", unchanged, leaves_arrays_unchanged()),
    ]


# --- detectors shared by 8.1 and 8.2 -----------------------------------------------------

def _n(args) -> int:
    return _floats(args[0]).shape[0]


def _sigma(args) -> float:
    return float(np.asarray(args[-1], dtype=np.float64))


def _eps(args) -> np.ndarray:
    return _floats(args[-2])


def _sigma_hint(text, factor):
    return Hint(text, lambda args, got, exp: _sigma(args) != 1.0
                and close(got, factor(_sigma(args)) * as_array(exp)))


NOT_DIVIDED_HINT = _sigma_hint(
    "you did not divide by sigma: the score of theta + sigma eps under N(theta, sigma^2 I) is "
    "eps / sigma", lambda s: s)
SIGMA_SQUARED_HINT = _sigma_hint(
    "you divided by sigma^2: the score is (x - theta) / sigma^2 = eps / sigma, so with eps "
    "(not x - theta) divide by sigma once", lambda s: 1.0 / s)
TIMES_SIGMA_HINT = _sigma_hint("you multiplied by sigma; divide by it (the score is eps / sigma)",
                               lambda s: s * s)
SUM_HINT = Hint("you summed over the samples; the estimate is their mean (divide by N)",
                lambda args, got, exp: _n(args) > 1 and close(got, _n(args) * as_array(exp)))
AXIS_HINT = Hint("the result has one entry per sample: average over the samples (axis 0), which "
                 "leaves one entry per parameter, shape (d,)",
                 lambda args, got, exp: as_array(got).shape == (_n(args),)
                 and as_array(exp).shape != (_n(args),))
TERMS_HINT = Hint("you returned the per-sample terms, shape (N, d); average them over the "
                  "samples (axis 0)",
                  lambda args, got, exp: as_array(got).shape == _eps(args).shape
                  and as_array(exp).shape != _eps(args).shape)


# --- 8.1 es_gradient ---------------------------------------------------------------------

def es_checks() -> list[Check]:
    return _es_checks(8001, antithetic=False)


ES_HINTS = [
    Hint("f_values was broadcast against the last axis of eps (f * eps pairs f_j with column "
         "j); write f_values[:, None] * eps so that f_i multiplies row i",
         lambda args, got, exp: close(got, _floats(args[0]) * _eps(args).mean(axis=0)
                                      / _sigma(args))),
    Hint("you multiplied the mean of f by the mean of eps; the estimator is the mean of the "
         "products f_i eps_i (the mean of a product is not the product of the means)",
         lambda args, got, exp: close(got, _floats(args[0]).mean() * _eps(args).mean(axis=0)
                                      / _sigma(args))),
    NOT_DIVIDED_HINT,
    SIGMA_SQUARED_HINT,
    TIMES_SIGMA_HINT,
    SUM_HINT,
    AXIS_HINT,
    TERMS_HINT,
]


# --- 8.2 antithetic_es_gradient ----------------------------------------------------------

def antithetic_checks() -> list[Check]:
    return _es_checks(8002, antithetic=True)


def _pair_combination(args, a, b):
    """mean_i (a f_plus_i + b f_minus_i) eps_i / (2 sigma)."""
    combo = a * _floats(args[0]) + b * _floats(args[1])
    return (combo[:, None] * _eps(args)).mean(axis=0) / (2 * _sigma(args))


ANTITHETIC_HINTS = [
    Hint("the sign is flipped: the difference is f_plus - f_minus (f at theta + sigma eps "
         "minus f at theta - sigma eps)",
         lambda args, got, exp: close(got, _pair_combination(args, -1.0, 1.0))),
    Hint("the factor 1/2 is missing: each pair of evaluations gives (f_plus - f_minus) eps / "
         "(2 sigma); the difference counts the slope twice, once on each side of theta",
         lambda args, got, exp: close(got, _pair_combination(args, 2.0, -2.0))),
    Hint("f_minus was added; the mirrored sample -eps_i has score -eps_i / sigma, so f_minus "
         "enters with a minus sign: (f_plus - f_minus) eps",
         lambda args, got, exp: close(got, _pair_combination(args, 1.0, 1.0))),
    Hint("f_minus was not used: this is the plain estimate of the f_plus samples (halved); the "
         "antithetic estimate uses both, (f_plus - f_minus) eps / (2 sigma)",
         lambda args, got, exp: close(got, _pair_combination(args, 1.0, 0.0))
         or close(got, _pair_combination(args, 2.0, 0.0))),
    Hint("the mean was taken over all 2N evaluations: there are N pairs, so divide the sum of "
         "(f_plus_i - f_minus_i) eps_i by N (and by 2 sigma), not by 2N",
         lambda args, got, exp: close(got, _pair_combination(args, 0.5, -0.5))),
    NOT_DIVIDED_HINT,
    SIGMA_SQUARED_HINT,
    SUM_HINT,
    AXIS_HINT,
    TERMS_HINT,
]


# --- 8.3 gumbel_softmax_sample -----------------------------------------------------------

# (seed, logits of one row, temperature, rows, pairs (i, j) tested for the Logistic law)
_DIST_SPECS = [
    (8031, [0.5, -0.3, 1.2, 0.0], 0.5, 4000, [(0, 1), (2, 3)]),
    (8032, [-1.0, 0.4, 0.9], 2.0, 4000, [(0, 2)]),
    (8033, [1000.0, 1000.5, 999.0, 1001.5], 0.05, 4000, [(1, 3)]),
]
FREQUENCY_TESTS = len(_DIST_SPECS)
LOGISTIC_TESTS = sum(len(pairs) for *_, pairs in _DIST_SPECS)
GUMBEL_TESTS = FREQUENCY_TESTS + LOGISTIC_TESTS  # 7
_PER_TEST_ALPHA = bonferroni(GUMBEL_ALPHA, GUMBEL_TESTS)
# Looked up by the first row of logits, not by the seed (benchmarks reseed the cases).
_PAIRS = {tuple(row): pairs for _, row, *_, pairs in _DIST_SPECS}


def _logits_label(logits, dtype, temperature, seed, note="") -> str:
    shape = np.shape(logits)
    text = (f"logits of shape {shape} ({dtype}), temperature={temperature!r}, "
            f"rng=np.random.default_rng({seed})")
    return text + (f" ({note})" if note else "")


def _gumbel_case(logits, temperature, seed, dtype="float64", note="", requires_grad=False,
                 **kw) -> Case:
    logits = np.asarray(logits, dtype=np.float64)
    return Case((Tensor(logits, dtype, requires_grad), temperature, Rng(seed)),
                _logits_label(logits, dtype, temperature, seed, note), **kw)


def _distribution_cases() -> list[Case]:
    cases = []
    for seed, row, temperature, n, _ in _DIST_SPECS:
        logits = np.tile(np.asarray(row, dtype=np.float64), (n, 1))
        note = f"{n} identical rows {row}"
        cases.append(_gumbel_case(logits, temperature, seed, note=note))
    return cases


def _input_dtype(args) -> str:
    return str(args[0].dtype).removeprefix("torch.")


def _input_array(args) -> np.ndarray:
    return args[0].detach().to(dtype=__import__("torch").float64).numpy()


def _check_sample(value, args) -> Outcome:
    """A tensor of the input's shape and dtype, finite, on the simplex along the last axis."""
    if not isinstance(value, TensorData):
        return Outcome(False, f"expected a torch.Tensor, got {describe_type(value)}")
    dtype, shape = _input_dtype(args), tuple(args[0].shape)
    if value.dtype != dtype:
        return Outcome(False, f"expected dtype torch.{dtype} (the dtype of logits), got "
                              f"torch.{value.dtype}")
    y = value.array.astype(np.float64)
    if y.shape != shape:
        return Outcome(False, f"expected shape {shape} (the shape of logits), got {y.shape}")
    if not np.all(np.isfinite(y)):
        return Outcome(False, f"{int((~np.isfinite(y)).sum())} entries are not finite (nan or "
                              "inf)")
    tol = 1e-5 if dtype == "float32" else 1e-10
    if y.min() < -tol:
        return Outcome(False, f"entries must be >= 0 (points of the simplex), got {y.min():.4g}")
    sums = y.sum(axis=-1)
    worst = np.abs(sums - 1).max()
    if worst > tol * y.shape[-1]:
        return Outcome(False, f"each row must sum to 1 over the last axis (the K categories); "
                              f"sums range from {sums.min():.6g} to {sums.max():.6g}")
    return Outcome(True)


def _valid_sample(case, got, expected, args) -> Outcome:
    return _check_sample(got.value, args)


def _one_hot_when_dominant(case, got, expected, args) -> Outcome:
    """Logits of magnitude 1e3 where one logit leads by >= 1e3: the sample is its one-hot."""
    outcome = _check_sample(got.value, args)
    if not outcome.passed:
        return outcome
    logits = np.atleast_2d(_input_array(args))
    y = np.atleast_2d(got.value.array.astype(np.float64))
    top = np.sort(logits, axis=-1)
    dominant = top[:, -1] - top[:, -2] >= 1e3 if logits.shape[-1] > 1 else np.ones(len(y), bool)
    lead = np.argmax(logits, axis=-1)
    rows = np.flatnonzero(dominant)
    bad = rows[y[rows, lead[rows]] < 0.999]
    if bad.size:
        r = int(bad[0])
        return Outcome(False, f"row {r}: logit {lead[r]} leads the others by >= 1e3, so the "
                              f"sample is (numerically) its one-hot vector, but y[{r}] = "
                              f"{np.round(y[r], 4).tolist()}")
    return Outcome(True)


def _argmax_frequencies(case, got, expected, args) -> Outcome:
    outcome = _check_sample(got.value, args)
    if not outcome.passed:
        return outcome
    logits = _input_array(args)
    y = got.value.array.astype(np.float64)
    probs = softmax(logits[0])
    counts = np.bincount(np.argmax(y, axis=-1), minlength=probs.size)
    outcome = frequency_test(counts, probs, _PER_TEST_ALPHA)
    if outcome.passed:
        return outcome
    return Outcome(False, f"the argmax of the rows should be distributed as softmax(logits) "
                          f"(Gumbel-max): {outcome.message}")


def _logistic_differences(args, value, i, j) -> np.ndarray:
    logits = _input_array(args)
    y = value.array.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):  # zeros and NaNs are judged later
        log_y = np.log(y)
        return args[1] * (log_y[:, i] - log_y[:, j]) - (logits[:, i] - logits[:, j])


def _logistic_law(case, got, expected, args) -> Outcome:
    from scipy import stats

    outcome = _check_sample(got.value, args)
    if not outcome.passed:
        return outcome
    for i, j in _PAIRS[tuple(_input_array(args)[0].tolist())]:
        d = _logistic_differences(args, got.value, i, j)
        if not np.all(np.isfinite(d)):
            return Outcome(False, f"some entries y[:, {i}] or y[:, {j}] are exactly 0: the "
                                  "relaxed sample has no zero entries (is it one-hot?)")
        p_value = float(stats.kstest(d, "logistic").pvalue)
        if p_value < _PER_TEST_ALPHA:
            return Outcome(False, f"temperature * (log y_{i} - log y_{j}) - (l_{i} - l_{j}) "
                                  f"should be g_{i} - g_{j}, a difference of independent "
                                  f"standard Gumbels, which is standard Logistic; a "
                                  f"Kolmogorov-Smirnov test rejects it (p = {p_value:.2g} < "
                                  f"{_PER_TEST_ALPHA:.2g}; a correct sampler fails this test "
                                  f"with probability {_PER_TEST_ALPHA:.2g}); its mean is "
                                  f"{d.mean():.3g} (0 expected), its standard deviation "
                                  f"{d.std():.3g} (pi / sqrt(3) = 1.814 expected)")
    return Outcome(True)


def _vjp_case(logits, temperature, seed, weights, dtype="float64", note="") -> Case:
    logits = np.asarray(logits, dtype=np.float64)
    label = _logits_label(logits, dtype, temperature, seed, note)
    return Case((Tensor(logits, dtype), temperature, Rng(seed), np.asarray(weights, float)),
                label + "; gradient of sum(w * y) with respect to logits",
                op="probe:gumbel_softmax_vjp")


def _vjp_matches(case, got, expected, args) -> Outcome:
    """d sum(w * y) / d logits = y * (w - <w, y>) / temperature, at the returned y."""
    value = got.value
    if not (isinstance(value, tuple) and len(value) == 2):
        return Outcome(False, f"the gradient could not be computed ({describe_type(value)})")
    y, grad = value
    outcome = _check_sample(y, args)
    if not outcome.passed:
        return outcome
    if grad is None:
        return Outcome(False, "no gradient reaches logits: the sample is cut off from the "
                              "autograd graph (.detach(), .item(), NumPy or a new tensor?); "
                              "only the noise is a constant")
    w = _floats(args[3])
    y64 = y.array.astype(np.float64)
    want = y64 * (w - (w * y64).sum(axis=-1, keepdims=True)) / args[1]
    tol = dict(rtol=1e-3, atol=1e-5) if y.dtype == "float32" else dict(rtol=1e-6, atol=1e-9)
    outcome = compare_arrays(grad, want, kind="tensor", dtype=y.dtype, **tol)
    if outcome.passed:
        return outcome
    return Outcome(False, "the gradient with respect to logits is not that of "
                          "softmax((logits + g) / temperature) at the returned sample, "
                          f"y * (w - <w, y>) / temperature: {outcome.message}")


def _reproducible(case, got, expected, args) -> Outcome:
    """Judge of the replay_rng probe: (rng, a copy of rng, another generator)."""
    runs = got.value
    if not (isinstance(runs, tuple) and len(runs) == 3):
        return Outcome(False, f"unexpected result {describe_type(runs)}")
    for run in runs:
        outcome = _check_sample(run, args)
        if not outcome.passed:
            return outcome
    first, copy, other = (r.array for r in runs)
    if not np.array_equal(first, copy):
        return Outcome(False, "two calls with identical generators gave different samples: draw "
                              "the noise from rng (rng.gumbel or rng.random), never from "
                              "torch.rand, np.random.* or a new generator")
    if np.array_equal(first, other):
        return Outcome(False, "calls with different generators gave the same sample: draw the "
                              "noise from the rng you are given")
    return Outcome(True)


def gumbel_checks() -> list[Check]:
    rng = np.random.default_rng(8003)
    shapes = [
        _gumbel_case(rng.normal(0, 1, (6, 4)), 0.5, 11),
        _gumbel_case(rng.normal(0, 2, 5), 1.0, 12, note="a single row (K,)"),
        _gumbel_case(rng.normal(0, 1, (3, 2)), 2.0, 13, note="K = 2"),
        _gumbel_case(rng.normal(0, 1, (4, 1)), 0.7, 14, note="K = 1"),
        _gumbel_case(rng.normal(0, 1, (5, 3)), 0.3, 15, dtype="float32", note="float32"),
        _gumbel_case(rng.normal(0, 1, 4), 1.5, 16, dtype="float32", note="float32, (K,)"),
        _gumbel_case(rng.normal(0, 1, (2, 6)), 1, 17, requires_grad=True,
                     note="requires grad, temperature an int"),
    ]
    big = np.array([[1e3, 0.0, -1e3], [-1e3, 1e3, -1e3], [1e3, 1e3, -1e3], [999.0, 1e3, 998.5]])
    large = [
        _gumbel_case(big, 0.05, 21, note="magnitude 1e3, ties included"),
        _gumbel_case(big, 0.05, 22, dtype="float32", note="float32, magnitude 1e3"),
        _gumbel_case(-big[0], 0.05, 23, note="(K,), magnitude 1e3"),
        _gumbel_case(rng.normal(0, 1, (3, 4)) * 1e3, 1.0, 24, note="magnitude 1e3"),
    ]
    vjp = [
        _vjp_case(rng.normal(0, 1, (5, 4)), 0.5, 31, rng.normal(size=(5, 4))),
        _vjp_case(rng.normal(0, 1, 3), 2.0, 32, rng.normal(size=3), note="(K,)"),
        _vjp_case(rng.normal(0, 1, (4, 3)), 1.0, 33, rng.normal(size=(4, 3)), dtype="float32",
                  note="float32"),
    ]
    repro = [Case((Tensor(rng.normal(0, 1, (100, 4))), 0.5, Rng(41)),
                  "logits of shape (100, 4), temperature=0.5, called with rng, a copy of it and "
                  "another generator", op="probe:replay_rng")]
    grad0 = rng.normal(size=(3, 4))
    unchanged = [
        _gumbel_case(rng.normal(0, 1, (3, 4)), 0.5, 51, observe_args=True,
                     note="logits must come back unchanged"),
        Case((Tensor(rng.normal(0, 1, (3, 4)), "float64", True, grad0), 0.5, Rng(52)),
             "logits of shape (3, 4) requiring grad, with a .grad already set: both must come "
             "back unchanged", observe_args=True),
    ]
    return [
        Check("a tensor of the shape and dtype of logits, on the simplex", shapes,
              _valid_sample),
        Check("logits of magnitude 1e3 and temperature 0.05: finite, one-hot where a logit "
              "dominates", large, _one_hot_when_dominant),
        Check("argmax frequencies follow softmax(logits) (chi-square tests)",
              _distribution_cases(), _argmax_frequencies, points=2,
              false_failure_rate=FREQUENCY_TESTS * _PER_TEST_ALPHA),
        Check("log-ratios carry standard Gumbel noise (Kolmogorov-Smirnov tests)",
              _distribution_cases(), _logistic_law, points=2,
              false_failure_rate=LOGISTIC_TESTS * _PER_TEST_ALPHA),
        Check("the gradient reaches logits and is the softmax Jacobian's", vjp, _vjp_matches,
              points=2),
        Check("rng is the only source of randomness (same seed, same sample)", repro,
              _reproducible),
        Check("logits and logits.grad are left unchanged", unchanged,
              leaves_input_unchanged(0, "logits", then=_valid_sample)),
    ]


# Detectors of 8.3: args = (logits tensor, temperature, rng[, weights]), got the sample
# (TensorData) or a probe's tuple.

def _sample(got) -> np.ndarray:
    if isinstance(got, tuple) and got and isinstance(got[0], TensorData):
        got = got[0]
    return got.array.astype(np.float64)


def _identical_rows(args) -> bool:
    logits = np.atleast_2d(_input_array(args))
    return logits.shape[0] > 50 and bool(np.all(logits == logits[0]))


def _d01(args, got, temperature=None) -> np.ndarray:
    """temperature * (log y_0 - log y_1) - (l_0 - l_1), the noise difference g_0 - g_1."""
    logits = _input_array(args)
    y = _sample(got)
    t = args[1] if temperature is None else temperature
    return t * (np.log(y[:, 0]) - np.log(y[:, 1])) - (logits[:, 0] - logits[:, 1])


def _fits(d, dist, *params) -> bool:
    from scipy import stats

    return (np.all(np.isfinite(d)) and d.size > 50
            and stats.kstest(d, dist, args=params).pvalue > 1e-3)


def _frequencies_wrong(args, got) -> bool:
    y = _sample(got)
    probs = softmax(_input_array(args)[0])
    counts = np.bincount(np.argmax(y, axis=-1), minlength=probs.size)
    return not frequency_test(counts, probs, 1e-6).passed


GUMBEL_HINTS = [
    Hint("the softmax overflowed (exp of (logits + g) / temperature is inf for logits of "
         "magnitude 1e3): use torch.softmax, which subtracts the row maximum first",
         lambda args, got, exp: not np.all(np.isfinite(_sample(got)))
         and np.abs(_input_array(args)).max() > 100),
    Hint("the softmax is taken over the wrong axis: normalise over the last axis, the K "
         "categories (dim=-1)",
         lambda args, got, exp: _sample(got).ndim == 2
         and np.allclose(_sample(got).sum(axis=0), 1.0)
         and not np.allclose(_sample(got).sum(axis=-1), 1.0)),
    Hint("the sample is one-hot (a hard argmax, or a straight-through sample): return the "
         "relaxed sample softmax((logits + g) / temperature)",
         lambda args, got, exp: _sample(got).shape[-1] > 1
         and np.all((_sample(got) == 0) | (_sample(got) == 1))),
    Hint("NumPy's noise is float64 and promotes float32 logits: convert it to the dtype of "
         "logits, torch.as_tensor(noise, dtype=logits.dtype)",
         lambda args, got, exp: _input_dtype(args) == "float32"
         and isinstance(got, TensorData) and got.dtype == "float64"),
    Hint("every row got the same noise (or none): draw one Gumbel variable per entry of "
         "logits, size=logits.shape",
         lambda args, got, exp: _identical_rows(args)
         and np.allclose(_sample(got), _sample(got)[0])),
    Hint("the noise is not divided by the temperature: the sample is "
         "softmax((logits + g) / temperature), not softmax(logits / temperature + g)",
         lambda args, got, exp: _identical_rows(args) and args[1] != 1
         and _fits(_d01(args, got) / args[1], "logistic")),
    Hint("the temperature is ignored (or multiplies): divide logits + g by it",
         lambda args, got, exp: _identical_rows(args) and args[1] != 1
         and (_fits(_d01(args, got, 1.0), "logistic")
              or _fits(_d01(args, got, 1.0 / args[1]), "logistic"))),
    Hint("the noise has the right spread but the wrong sign: standard Gumbel noise is "
         "g = -log(-log u), added to the logits (with -g the argmax is not softmax-distributed)",
         lambda args, got, exp: _identical_rows(args) and _fits(_d01(args, got), "logistic")
         and _frequencies_wrong(args, got)),
    Hint("the noise is Gaussian; the Gumbel-max trick needs standard Gumbel noise: "
         "rng.gumbel(size=logits.shape), or -log(-log u) with u = rng.random(logits.shape)",
         lambda args, got, exp: _identical_rows(args)
         and _fits(_d01(args, got), "norm", 0.0, np.sqrt(2.0))),
    Hint("the noise is uniform: transform u ~ Uniform(0, 1) into a Gumbel variable, "
         "g = -log(-log u)",
         lambda args, got, exp: _identical_rows(args)
         and np.all(np.abs(_d01(args, got)) <= 1.0 + 1e-6)),
    Hint("-log u is exponential noise, not Gumbel: the Gumbel transform takes the log twice, "
         "g = -log(-log u)",
         lambda args, got, exp: _identical_rows(args) and _fits(_d01(args, got), "laplace")),
]


CHAPTER = Chapter(
    slug="08_beyond_rl",
    number=8,
    title="The score function across machine learning",
    solutions_module="solutions.ch08_beyond_rl",
    exercises=[
        Exercise("8.1", "es_gradient", es_checks, ES_HINTS, timeout=20),
        Exercise("8.2", "antithetic_es_gradient", antithetic_checks, ANTITHETIC_HINTS, timeout=20),
        Exercise("8.3", "gumbel_softmax_sample", gumbel_checks, GUMBEL_HINTS, timeout=40),
    ],
)
