"""The chapter 3 reference solutions against independent computations.

Nothing here reuses the solutions' own formulas: every estimator is checked against explicit
Python loops; the expectations of the estimators are computed *exactly* by enumerating every
possible batch of a categorical distribution (so unbiasedness, and the 1/N bias of the
sample-mean baseline, are checked without any Monte Carlo error); the optimal baseline
against a numerical minimisation of the empirical variance; and the single-sample variances
of the Gaussian example of Mohamed et al. (2020) against scipy quadrature (30, 18, 14, 4 and
136, 96, 64, 12) and against Monte Carlo runs of the references. All inputs come from fixed
seeds, so every run checks exactly the same numbers.
"""
from __future__ import annotations

import ast
import inspect
import itertools

import numpy as np
import pytest
import scipy.integrate
import scipy.optimize
import scipy.special
import scipy.stats

import solutions.ch03_score_function_estimator as ch03
from solutions.ch03_score_function_estimator import (
    baselined_gradient,
    leave_one_out_gradient,
    optimal_baseline,
    pathwise_gaussian_gradient,
    score_function_gradient,
)

SEEDS = range(8)
SHAPES = [(1, 1), (1, 4), (2, 1), (2, 3), (5, 5), (17, 2), (60, 6)]  # (N, d)


def _batch(seed, n, d):
    rng = np.random.default_rng(seed)
    return rng.normal(1.0, 3.0, n), rng.normal(0.0, 1.5, (n, d))


def _shape_id(shape):
    return "N{}-d{}".format(*shape)


def _check(got, expected, d):
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (d,)
    # Sums of at most 60 products of O(10) numbers, in a different order: a few ulps.
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


# --- explicit loops -----------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES, ids=_shape_id)
@pytest.mark.parametrize("seed", SEEDS)
def test_estimators_match_explicit_loops(seed, shape):
    n, d = shape
    f, s = _batch(seed, n, d)
    rng = np.random.default_rng(1000 + seed)
    b_vec, b_scalar = rng.normal(0.0, 2.0, d), float(rng.normal())

    sf, vec, sca, opt_num, opt_den = ([0.0] * d for _ in range(5))
    for j in range(d):
        for i in range(n):
            sf[j] += f[i] * s[i, j] / n
            vec[j] += (f[i] - b_vec[j]) * s[i, j] / n
            sca[j] += (f[i] - b_scalar) * s[i, j] / n
            opt_num[j] += f[i] * s[i, j] ** 2
            opt_den[j] += s[i, j] ** 2
    _check(score_function_gradient(f, s), sf, d)
    _check(baselined_gradient(f, s, b_vec), vec, d)
    _check(baselined_gradient(f, s, b_scalar), sca, d)
    _check(optimal_baseline(f, s), [a / b for a, b in zip(opt_num, opt_den)], d)

    if n >= 2:
        loo = [0.0] * d
        for i in range(n):
            others = [f[k] for k in range(n) if k != i]
            b_i = sum(others) / len(others)
            for j in range(d):
                loo[j] += (f[i] - b_i) * s[i, j] / n
        _check(leave_one_out_gradient(f, s), loo, d)


@pytest.mark.parametrize("n", [1, 2, 7, 100])
@pytest.mark.parametrize("seed", SEEDS)
def test_pathwise_matches_explicit_loop(seed, n):
    rng = np.random.default_rng(2000 + seed)
    eps = rng.normal(size=n)
    fprime = rng.normal(0.0, 4.0, n)
    mean_fprime = sum(fprime) / n
    mean_fprime_eps = sum(a * e for a, e in zip(fprime, eps)) / n
    got = pathwise_gaussian_gradient(fprime, eps)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (2,)
    np.testing.assert_allclose(got, [mean_fprime, mean_fprime_eps], rtol=1e-12, atol=1e-12)


def test_array_likes_and_ints_give_float64():
    f, s = [1, 2, 3], [[1, 0], [0, 1], [1, -1]]
    # By hand: mean f s = ((1 + 3), (2 - 3)) / 3; b* = ((1 + 3) / 2, (2 + 3) / 2).
    cases = [
        (score_function_gradient(f, s), [4 / 3, -1 / 3]),
        (baselined_gradient(f, s, 1), [(0 + 2) / 3, (1 - 2) / 3]),
        (baselined_gradient(f, s, [1, 2]), [(0 + 2) / 3, (0 - 1) / 3]),
        (optimal_baseline(f, s), [2.0, 2.5]),
        # b = (2.5, 2, 1.5): terms (-1.5, 0), (0, 0), (1.5, -1.5)
        (leave_one_out_gradient(f, s), [0.0, -0.5]),
        (pathwise_gaussian_gradient([2, -1, 4], [1, 0, -2]), [5 / 3, (2 - 8) / 3]),
    ]
    for got, expected in cases:
        assert isinstance(got, np.ndarray) and got.dtype == np.float64
        np.testing.assert_allclose(got, expected, rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
def test_baseline_identities(seed):
    f, s = _batch(3000 + seed, 9, 3)
    # A scalar baseline is the same baseline for every coordinate; 0 is no baseline.
    np.testing.assert_allclose(baselined_gradient(f, s, 1.7), baselined_gradient(f, s, np.full(3, 1.7)),
                               rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(baselined_gradient(f, s, 0.0), score_function_gradient(f, s), rtol=1e-13)
    # Leave-one-out = N/(N-1) x sample-mean baseline (the chapter's proposition).
    np.testing.assert_allclose(leave_one_out_gradient(f, s), 9 / 8 * baselined_gradient(f, s, f.mean()),
                               rtol=1e-10, atol=1e-12)
    # Equal values of f: the leave-one-out estimate is exactly zero.
    assert np.allclose(leave_one_out_gradient(np.full(9, 5.0), s), 0.0, atol=1e-14)
    # The optimal baseline moves with shifts of f and ignores the scale of each score column.
    b = optimal_baseline(f, s)
    np.testing.assert_allclose(optimal_baseline(f + 10.0, s), b + 10.0, rtol=1e-13)
    np.testing.assert_allclose(optimal_baseline(f, s * np.array([1e-3, 1.0, 1e3])), b, rtol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_optimal_baseline_minimises_the_empirical_variance(seed):
    """b_hat_j is the b minimising mean_i ((f_i - b) s_ij)^2, found here by Brent's method."""
    f, s = _batch(4000 + seed, 25, 3)
    got = optimal_baseline(f, s)
    for j in range(3):
        result = scipy.optimize.minimize_scalar(lambda b: np.mean(((f - b) * s[:, j]) ** 2),
                                                bracket=(-50.0, 50.0), tol=1e-12)
        # Brent's method locates the minimum of a smooth quadratic to ~sqrt(eps) relative.
        assert abs(result.x - got[j]) < 1e-6 * max(1.0, abs(got[j]))


# --- exact expectations, by enumerating every batch of a categorical distribution -----------

LOGITS = np.array([0.3, -1.2, 0.8])
REWARDS = np.array([2.0, -1.0, 5.0])  # f(a) for the K = 3 categories


def _exact_expectation(estimator, n, *extra):
    """E[estimator(f(a_1..a_n), scores)] with a_i iid ~ softmax(LOGITS), summing over all K^n
    batches with their probabilities: no sampling, so no Monte Carlo error."""
    p = scipy.special.softmax(LOGITS)
    k = len(p)
    total = np.zeros(k)
    for batch in itertools.product(range(k), repeat=n):
        a = np.array(batch)
        scores = np.eye(k)[a] - p  # the categorical score (chapter 1)
        total += np.prod(p[a]) * estimator(REWARDS[a], scores, *extra)
    return total


def _exact_gradient():
    p = scipy.special.softmax(LOGITS)
    return p * (REWARDS - p @ REWARDS)  # d/dz_j sum_a softmax(z)_a r_a


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_score_function_and_baselines_are_exactly_unbiased(n):
    grad = _exact_gradient()
    np.testing.assert_allclose(_exact_expectation(score_function_gradient, n), grad, rtol=1e-12, atol=1e-14)
    for b in [0.0, 3.0, -7.5, np.array([1.0, 10.0, -2.0])]:
        np.testing.assert_allclose(_exact_expectation(baselined_gradient, n, b), grad, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_leave_one_out_is_unbiased_and_the_sample_mean_biased_by_one_over_n(n):
    grad = _exact_gradient()
    np.testing.assert_allclose(_exact_expectation(leave_one_out_gradient, n), grad, rtol=1e-12, atol=1e-14)

    def sample_mean_baseline(f, s):
        return baselined_gradient(f, s, f.mean())

    np.testing.assert_allclose(_exact_expectation(sample_mean_baseline, n), (n - 1) / n * grad,
                               rtol=1e-12, atol=1e-14)


def test_plug_in_optimal_baseline_is_biased_and_the_bias_shrinks():
    """The chapter's caveat: b_hat from the same batch biases the estimate, by O(1/N)."""
    grad = _exact_gradient()

    def plug_in(f, s):
        return baselined_gradient(f, s, optimal_baseline(f, s))

    # N = 1: b_hat = f_1, so every estimate is exactly zero (a bias of -grad).
    np.testing.assert_allclose(_exact_expectation(plug_in, 1), 0.0, atol=1e-15)
    sizes = [2, 4, 6, 8]
    bias = [np.abs(_exact_expectation(plug_in, n) - grad).max() for n in sizes]
    assert bias[0] > 0.1 * np.abs(grad).max()  # large for small batches
    assert all(a > b for a, b in zip(bias, bias[1:]))  # and shrinking with N ...
    assert all(n * b < 2.0 for n, b in zip(sizes, bias))  # ... like 1/N (here N * bias ~ 1-1.5)


# --- the Gaussian example of Mohamed et al. (2020), by quadrature ---------------------------

MU = SIGMA = 1.0


def _quad(g):
    """E[g(x)] for x ~ N(MU, SIGMA^2), by adaptive quadrature over +-12 standard deviations
    (the mass outside is < 1e-32, negligible against polynomial integrands of degree <= 8)."""
    value, error = scipy.integrate.quad(lambda x: g(x) * scipy.stats.norm.pdf(x, MU, SIGMA),
                                        MU - 12 * SIGMA, MU + 12 * SIGMA, epsabs=1e-11, epsrel=1e-12, limit=200)
    return value


def _quad_variances(k):
    def f(x):
        return (x - k) ** 2

    def s_mu(x):
        return (x - MU) / SIGMA**2

    def s_sigma(x):
        return ((x - MU) ** 2 - SIGMA**2) / SIGMA**3

    def eps(x):
        return (x - MU) / SIGMA

    def var(g):
        return _quad(lambda x: g(x) ** 2) - _quad(g) ** 2

    mean_f = _quad(f)
    out = {}
    for j, s in enumerate([s_mu, s_sigma]):
        b_star = _quad(lambda x: f(x) * s(x) ** 2) / _quad(lambda x: s(x) ** 2)
        out.setdefault("b_star", []).append(b_star)
        out.setdefault("score function", []).append(var(lambda x: f(x) * s(x)))
        out.setdefault("mean baseline", []).append(var(lambda x: (f(x) - mean_f) * s(x)))
        out.setdefault("optimal baseline", []).append(var(lambda x: (f(x) - b_star) * s(x)))
    out["pathwise"] = [var(lambda x: 2 * (x - k)), var(lambda x: 2 * (x - k) * eps(x))]
    return out


def test_mohamed_variances_by_quadrature():
    got = _quad_variances(0.0)
    expected = {"b_star": [4, 6], "score function": [30, 136], "mean baseline": [18, 96],
                "optimal baseline": [14, 64], "pathwise": [4, 12]}
    for name, values in expected.items():
        # quad is accurate to ~1e-10 on these smooth integrands; the values are integers.
        np.testing.assert_allclose(got[name], values, rtol=1e-8, err_msg=name)


@pytest.mark.parametrize("k", [-2.0, 0.5, 3.0])
def test_variance_ordering_across_k(k):
    v = _quad_variances(k)
    for j in range(2):
        assert v["pathwise"][j] < v["optimal baseline"][j] <= v["mean baseline"][j] + 1e-9
        assert v["optimal baseline"][j] < v["score function"][j]
    assert abs(v["pathwise"][0] - 4 * SIGMA**2) < 1e-8  # Var(2 sigma eps), whatever k


def test_references_reproduce_the_mohamed_variances_by_monte_carlo():
    """The references' batch estimates have variance (single-sample variance) / N.

    B = 20000 batches of N = 10 samples each, k = 0. For each estimator and coordinate, the
    sample variance of the B batch estimates, times N, estimates the single-sample variance.
    Its standard error is estimated from the same B values, sqrt((m4 - v^2) / B). The 8
    variances, and the 8 means (which must be the gradient (2, 2): unbiasedness), must each
    lie within z standard errors of the truth, z from a Bonferroni bound over the 16
    two-sided normal approximations: a correct reference fails any of them with probability
    < 1e-6 (z ~ 5.4). The tolerance is still tight: a few percent of each variance, far
    below the gaps between the estimators (30 vs 18 vs 14 vs 4).
    """
    rng = np.random.default_rng(20240603)
    b_count, n = 20_000, 10
    b_star = np.array([4.0, 6.0])
    estimates = {name: np.empty((b_count, 2)) for name in ["sf", "mean", "opt", "path"]}
    for t in range(b_count):
        e = rng.standard_normal(n)
        x = MU + SIGMA * e
        f = x**2
        s = np.stack([(x - MU) / SIGMA**2, ((x - MU) ** 2 - SIGMA**2) / SIGMA**3], axis=-1)
        estimates["sf"][t] = score_function_gradient(f, s)
        estimates["mean"][t] = baselined_gradient(f, s, 2.0)  # E[f] = mu^2 + sigma^2
        estimates["opt"][t] = baselined_gradient(f, s, b_star)
        estimates["path"][t] = pathwise_gaussian_gradient(2 * x, e)
    exact = {"sf": (30, 136), "mean": (18, 96), "opt": (14, 64), "path": (4, 12)}
    z = scipy.stats.norm.isf(1e-6 / (2 * 16))
    assert 5.3 < z < 5.5
    for name, g in estimates.items():
        # Unbiased, all of them: the batch means average to the gradient (2, 2).
        se_mean = g.std(axis=0, ddof=1) / np.sqrt(b_count)
        assert np.all(np.abs(g.mean(axis=0) - 2.0) < z * se_mean), name
        centred = g - g.mean(axis=0)
        v = centred.var(axis=0, ddof=1)
        se_v = np.sqrt((np.mean(centred**4, axis=0) - v**2) / b_count)
        assert np.all(np.abs(n * v - exact[name]) < z * n * se_v), (name, n * v, exact[name])


# --- the reference sources ----------------------------------------------------------------

def test_reference_sources_use_only_numpy_and_short_docstrings():
    """The book shows the references verbatim: they may use np only, and lines stay <= 84."""
    tree = ast.parse(inspect.getsource(ch03))
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert [alias.name for node in imports for alias in node.names] == ["numpy"]
    for name in ["score_function_gradient", "baselined_gradient", "optimal_baseline",
                 "leave_one_out_gradient", "pathwise_gaussian_gradient"]:
        source = inspect.getsource(getattr(ch03, name))
        assert max(len(line) for line in source.splitlines()) <= 84, name
