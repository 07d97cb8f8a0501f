"""The chapter 1 reference solutions against independent computations.

Nothing here reuses the solutions' own formulas: the Gaussian score is checked against finite
differences of ``scipy.stats.norm.logpdf`` and against torch autograd through
``torch.distributions.Normal``, and against its known moments (mean 0, Fisher information);
the categorical score against finite differences of ``scipy.special.log_softmax``, torch autograd
and ``scipy.special.softmax``; ``autograd_score`` against closed-form scores of the grader's
fixtures. All inputs come from fixed seeds, so every run checks exactly the same numbers.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.special
import scipy.stats
import torch

from autograder import fixtures
from log_prob_models import THETA_PRESETS, assert_theta_left_alone, fixture_inputs, sigmoid
from solutions.ch01_log_derivative_trick import autograd_score, categorical_score, gaussian_score

SEEDS = range(12)

# (x shape, mu shape, sigma shape): scalars, equal shapes and genuine broadcasting.
GAUSSIAN_SHAPES = [
    ((), (), ()),
    ((7,), (), ()),
    ((7,), (7,), (7,)),
    ((4, 1), (1, 3), (3,)),
    ((5,), (2, 1), ()),
    ((), (3,), (2, 1)),
    ((2, 3, 4), (4,), (3, 1)),
]


def _gaussian_inputs(rng, shapes):
    x_shape, mu_shape, sigma_shape = shapes
    mu = rng.normal(0.0, 2.0, mu_shape)
    sigma = rng.uniform(0.2, 3.0, sigma_shape)
    x = rng.normal(0.0, 3.0, x_shape)
    return x, mu, sigma


def _shape_id(shapes):
    return "x{}-mu{}-sigma{}".format(*(str(s).replace(" ", "") for s in shapes))


# --- 1.1 gaussian_score -------------------------------------------------------------------------

@pytest.mark.parametrize("shapes", GAUSSIAN_SHAPES, ids=_shape_id)
@pytest.mark.parametrize("seed", SEEDS)
def test_gaussian_score_matches_central_differences(seed, shapes):
    rng = np.random.default_rng(seed)
    x, mu, sigma = _gaussian_inputs(rng, shapes)
    got = gaussian_score(x, mu, sigma)
    shape = np.broadcast_shapes(np.shape(x), np.shape(mu), np.shape(sigma))
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    assert got.shape == shape + (2,)

    x_b, mu_b, sigma_b = np.broadcast_arrays(x, mu, sigma)

    def logp(m, s):
        return scipy.stats.norm.logpdf(x_b, loc=m, scale=s)

    # Central differences with a step proportional to sigma, the natural scale of both parameters.
    # Truncation error is h^2/6 * f''': log p is quadratic in mu, so that error is 0 for the mu
    # coordinate; in sigma f''' = (12 z^2 - 2) / sigma^3, so with h = 1e-5 sigma the error is
    # 1e-10 (2 z^2 - 1/3) / sigma, below 1e-7 / sigma for the |z| < 20 drawn here. Rounding error
    # is ~ eps * |log p| / h ~ 2e-16 * 200 / (1e-5 sigma) = 4e-9 / sigma. Hence atol = 1e-6 / sigma
    # (plus rtol 1e-6), while any wrong formula is off by O(1/sigma).
    h = 1e-5 * sigma_b
    fd_mu = (logp(mu_b + h, sigma_b) - logp(mu_b - h, sigma_b)) / (2 * h)
    fd_sigma = (logp(mu_b, sigma_b + h) - logp(mu_b, sigma_b - h)) / (2 * h)
    expected = np.stack([fd_mu, fd_sigma], axis=-1)
    err = np.abs(got - expected)
    allowed = 1e-6 * np.abs(expected) + 1e-6 / sigma_b[..., None]
    assert np.all(err <= allowed), f"max excess {np.max(err - allowed):.3g}"


@pytest.mark.parametrize("shapes", GAUSSIAN_SHAPES, ids=_shape_id)
@pytest.mark.parametrize("seed", SEEDS)
def test_gaussian_score_matches_torch_autograd(seed, shapes):
    rng = np.random.default_rng(100 + seed)
    x, mu, sigma = _gaussian_inputs(rng, shapes)
    # Broadcast first and make each element its own leaf: every log-density element depends only
    # on its own (mu, sigma), so the gradient of the sum is the per-element gradient.
    x_t, mu_t, sigma_t = (torch.tensor(v, dtype=torch.float64) for v in np.broadcast_arrays(x, mu, sigma))
    mu_t.requires_grad_(True)
    sigma_t.requires_grad_(True)
    torch.distributions.Normal(mu_t, sigma_t).log_prob(x_t).sum().backward()
    expected = np.stack([mu_t.grad.numpy(), sigma_t.grad.numpy()], axis=-1)
    # Two float64 evaluations of the same derivative by different routes: they agree to a few
    # ulps of the largest intermediate (z^2 / sigma), so rtol 1e-10 plus an absolute 1e-12 / sigma
    # (for entries that cancel to ~0, e.g. z^2 ~ 1 in the sigma coordinate) is generous.
    sigma_b = np.broadcast_to(sigma, expected.shape[:-1])[..., None]
    got = gaussian_score(x, mu, sigma)
    assert got.shape == expected.shape
    assert np.all(np.abs(got - expected) <= 1e-10 * np.abs(expected) + 1e-12 / sigma_b)


def test_gaussian_score_accepts_array_likes_and_ints():
    got = gaussian_score([0, 1, 2, -3], 1, 2)
    x = np.array([0.0, 1.0, 2.0, -3.0])
    expected = np.stack([(x - 1) / 4, ((x - 1) ** 2 - 4) / 8], axis=-1)  # integer inputs, true division
    assert got.dtype == np.float64 and got.shape == (4, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-15)


@pytest.mark.parametrize("mu, sigma", [(0.0, 1.0), (1.5, 0.3), (-2.0, 4.0)])
def test_gaussian_score_mean_zero_and_fisher_information(mu, sigma):
    """E[s] = 0 and E[s s^T] = diag(1/sigma^2, 2/sigma^2) under x ~ N(mu, sigma^2), by Monte Carlo."""
    n = 200_000
    rng = np.random.default_rng(20240601)  # fixed seed: the verdict is the same on every run
    x = rng.normal(mu, sigma, n)
    s = gaussian_score(x, mu, sigma)
    assert s.shape == (n, 2)

    # Five statistics per parameter set: the two means of s and the three distinct entries of
    # s s^T. Each sample mean is approximately normal (CLT; all moments of s are finite, and
    # N = 2e5 is large), so |mean - truth| / standard_error is ~ |N(0, 1)|, the standard error
    # being the sample std / sqrt(N). The threshold is a Bonferroni bound over the 3 * 5 = 15
    # statistics of the three parametrisations together: the probability that a correct
    # solution fails any of them is < 1e-6 (the threshold comes out at ~5.4 standard errors).
    # The seed is fixed, so the verdict is deterministic; the bound says that a correct solution
    # passes for all but a negligible fraction of seeds, i.e. the seed was not cherry-picked.
    n_stats = 15
    z = scipy.stats.norm.isf(1e-6 / (2 * n_stats))  # two-sided, Bonferroni: P(any |Z| > z) < 1e-6
    assert 5.3 < z < 5.5

    stats = {
        "E[s_mu]": (s[:, 0], 0.0),
        "E[s_sigma]": (s[:, 1], 0.0),
        "E[s_mu^2]": (s[:, 0] ** 2, 1 / sigma**2),
        "E[s_mu s_sigma]": (s[:, 0] * s[:, 1], 0.0),
        "E[s_sigma^2]": (s[:, 1] ** 2, 2 / sigma**2),
    }
    for name, (values, truth) in stats.items():
        mean = values.mean()
        se = values.std(ddof=1) / np.sqrt(n)
        assert abs(mean - truth) <= z * se, f"{name}: {mean:.5g} vs {truth:.5g} (se {se:.3g})"
    # The tolerance is also tight enough to matter: e.g. the Fisher entry in sigma is pinned to
    # within a few percent, so a score off by a constant factor would fail.
    se_sigma2 = (s[:, 1] ** 2).std(ddof=1) / np.sqrt(n)
    assert z * se_sigma2 < 0.1 * (2 / sigma**2)


# --- 1.2 categorical_score ----------------------------------------------------------------------

# (a shape, logits shape): a broadcasts against logits[..., 0].
CATEGORICAL_SHAPES = [
    ((), (5,)),
    ((6,), (6, 4)),
    ((3, 2), (3, 2, 5)),
    ((4, 1), (3, 5)),
    ((), (4, 6)),
    ((2,), (1, 3)),
    ((2, 3), (3, 7)),
    ((3,), (3, 1)),  # K = 1: the score is identically 0
]


def _categorical_inputs(rng, shapes, scale=2.0):
    a_shape, logits_shape = shapes
    k = logits_shape[-1]
    a = rng.integers(0, k, a_shape)
    logits = rng.normal(0.0, scale, logits_shape)
    return a, logits


def _cat_id(shapes):
    return "a{}-logits{}".format(*(str(s).replace(" ", "") for s in shapes))


def _broadcast_categorical(a, logits):
    batch = np.broadcast_shapes(np.shape(a), np.shape(logits)[:-1])
    k = np.shape(logits)[-1]
    return np.broadcast_to(a, batch), np.broadcast_to(logits, batch + (k,))


@pytest.mark.parametrize("shapes", CATEGORICAL_SHAPES, ids=_cat_id)
@pytest.mark.parametrize("seed", SEEDS)
def test_categorical_score_matches_central_differences(seed, shapes):
    rng = np.random.default_rng(200 + seed)
    a, logits = _categorical_inputs(rng, shapes)
    got = categorical_score(a, logits)
    a_b, logits_b = _broadcast_categorical(a, logits)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    assert got.shape == logits_b.shape

    def logp(z):
        return np.take_along_axis(scipy.special.log_softmax(z, axis=-1), a_b[..., None], axis=-1)[..., 0]

    # Central differences, h = 1e-6: log softmax has bounded third derivatives (|f'''| <= 1), so
    # the truncation error h^2/6 |f'''| is < 1e-12; rounding error ~ eps |log p| / h ~ 2e-16 * 20 /
    # 1e-6 = 4e-9. Entries of the score lie in [-1, 1], so atol 1e-7 is a wide margin that any
    # wrong formula (sign, missing term, wrong axis) exceeds by orders of magnitude.
    h = 1e-6
    k = logits_b.shape[-1]
    expected = np.empty(logits_b.shape)
    for j in range(k):
        step = np.zeros(k)
        step[j] = h
        expected[..., j] = (logp(logits_b + step) - logp(logits_b - step)) / (2 * h)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-7)


@pytest.mark.parametrize("shapes", CATEGORICAL_SHAPES, ids=_cat_id)
@pytest.mark.parametrize("seed", SEEDS)
def test_categorical_score_matches_torch_autograd(seed, shapes):
    rng = np.random.default_rng(300 + seed)
    a, logits = _categorical_inputs(rng, shapes)
    a_b, logits_b = _broadcast_categorical(a, logits)
    leaf = torch.tensor(np.array(logits_b), dtype=torch.float64, requires_grad=True)
    index = torch.tensor(np.array(a_b), dtype=torch.int64)[..., None]
    # Each row's log-probability depends only on that row's logits: grad of the sum = per-row grad.
    torch.log_softmax(leaf, dim=-1).gather(-1, index).sum().backward()
    # Both are float64 evaluations of the same smooth function: agreement to ~1e-15 expected.
    np.testing.assert_allclose(categorical_score(a, logits), leaf.grad.numpy(), rtol=0, atol=1e-13)


@pytest.mark.parametrize("shapes", CATEGORICAL_SHAPES, ids=_cat_id)
@pytest.mark.parametrize("seed", SEEDS)
def test_categorical_score_rows_sum_to_zero(seed, shapes):
    rng = np.random.default_rng(400 + seed)
    a, logits = _categorical_inputs(rng, shapes, scale=5.0)
    got = categorical_score(a, logits)
    # one_hot sums to 1 and softmax sums to 1 up to rounding (K terms of ulp size).
    np.testing.assert_allclose(got.sum(axis=-1), 0.0, atol=1e-14)
    # ... and the score is 1 - p >= 0 at the sampled category, -p <= 0 elsewhere.
    a_b, _ = _broadcast_categorical(a, logits)
    sampled = a_b[..., None] == np.arange(got.shape[-1])
    assert np.all(got[sampled] >= 0) and np.all(got[~sampled] <= 0)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["gaussian-1e3", "ties-and-extremes"])
def test_categorical_score_finite_and_exact_for_logits_of_magnitude_1e3(seed, kind):
    rng = np.random.default_rng(500 + seed)
    if kind == "gaussian-1e3":
        logits = rng.normal(0.0, 1.0, (8, 6)) * 1e3
    else:
        logits = rng.choice([-1e3, -999.0, 0.0, 999.0, 1e3], size=(8, 6))
        logits[0] = -1e3  # all equal, very negative: a naive softmax gives 0 / 0
        logits[1] = 1e3  # all equal, very positive: a naive softmax gives inf / inf
    a = rng.integers(0, 6, 8)
    got = categorical_score(a, logits)
    assert np.all(np.isfinite(got))
    # scipy.special.softmax is shift-stabilised (exact to rounding) at any magnitude.
    expected = np.eye(6)[a] - scipy.special.softmax(logits, axis=-1)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-13)
    if kind != "gaussian-1e3":
        np.testing.assert_allclose(got[0], np.eye(6)[a[0]] - 1 / 6, atol=1e-15)


def test_categorical_score_broadcasts_a_against_logits_rows():
    rng = np.random.default_rng(600)
    a = rng.integers(0, 5, (4, 1))
    logits = rng.normal(size=(3, 5))
    got = categorical_score(a, logits)
    assert got.shape == (4, 3, 5)
    for i in range(4):
        for j in range(3):
            np.testing.assert_allclose(got[i, j], np.eye(5)[a[i, 0]] - scipy.special.softmax(logits[j]),
                                       rtol=0, atol=1e-15)
    # One action for a batch of logits, and nested lists.
    got = categorical_score(2, [[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(got, np.eye(3)[2] - scipy.special.softmax([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]], axis=-1),
                               rtol=0, atol=1e-15)


# --- 1.3 autograd_score -------------------------------------------------------------------------

def _closed_form(fixture, theta, x):
    """Per-sample scores (N, d) of each fixture, derived by hand."""
    theta = np.asarray(theta, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if fixture == "gaussian_mu_log_sigma":
        mu, sigma = theta[0], np.exp(theta[1])
        return np.stack([(x - mu) / sigma**2, (x - mu) ** 2 / sigma**2 - 1.0], axis=-1)
    if fixture == "categorical_logits":
        return np.eye(theta.size)[x.astype(int)] - scipy.special.softmax(theta)
    if fixture == "poisson_log_rate":
        return (x - np.exp(theta[0]))[:, None]
    d = theta.size
    features, target = x[:, :d], x[:, d]
    if fixture == "linear_gaussian":
        return (target - features @ theta)[:, None] * features
    if fixture == "logistic_bernoulli":
        return (target - sigmoid(features @ theta))[:, None] * features
    raise ValueError(fixture)


@pytest.mark.parametrize("n", [1, 9])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("fixture", sorted(fixtures.FIXTURES))
def test_autograd_score_matches_closed_forms(fixture, seed, n):
    rng = np.random.default_rng(700 + seed)
    theta_np, x_np, x_dtype = fixture_inputs(fixture, rng, n)
    theta = torch.tensor(theta_np, dtype=torch.float64, requires_grad=True)
    x = torch.tensor(x_np, dtype=x_dtype)
    got = autograd_score(fixtures.get(fixture), theta, x)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float64
    assert got.shape == (n, theta_np.size)
    # float64 autograd vs a float64 closed form: identical up to rounding.
    np.testing.assert_allclose(got.numpy(), _closed_form(fixture, theta_np, x_np), rtol=1e-10, atol=1e-12)


def test_autograd_score_of_categorical_logits_is_categorical_score():
    rng = np.random.default_rng(800)
    logits = rng.normal(0, 3, 6)
    a = rng.integers(0, 6, 25)
    got = autograd_score(fixtures.categorical_logits, torch.tensor(logits), torch.tensor(a))
    np.testing.assert_allclose(got.numpy(), categorical_score(a, logits), rtol=0, atol=1e-13)


def test_autograd_score_chain_rule_with_gaussian_score():
    """d/dlog sigma = sigma * d/dsigma: the autograd score in (mu, log sigma) vs exercise 1.1."""
    rng = np.random.default_rng(801)
    mu, sigma = 0.4, 1.7
    x = rng.normal(mu, sigma, 30)
    got = autograd_score(fixtures.gaussian_mu_log_sigma, torch.tensor([mu, np.log(sigma)]), torch.tensor(x)).numpy()
    expected = gaussian_score(x, mu, sigma) * np.array([1.0, sigma])
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("preset", THETA_PRESETS)
def test_autograd_score_leaves_theta_alone_and_detaches(preset):
    assert_theta_left_alone(autograd_score, preset)


def test_autograd_score_keeps_float32():
    rng = np.random.default_rng(901)
    theta_np = np.array([0.1, 0.3])
    x_np = rng.normal(size=7)
    theta = torch.tensor(theta_np, dtype=torch.float32, requires_grad=True)
    got = autograd_score(fixtures.gaussian_mu_log_sigma, theta, torch.tensor(x_np, dtype=torch.float32))
    assert got.dtype == torch.float32 and got.shape == (7, 2)
    # float32 arithmetic: ~1e-7 relative rounding per operation, a handful of operations.
    np.testing.assert_allclose(got.numpy(), _closed_form("gaussian_mu_log_sigma", theta_np, x_np), rtol=1e-5, atol=1e-6)
