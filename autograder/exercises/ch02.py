"""Chapter 2 graders: empirical_fisher (2.1), gaussian_fisher (2.2), categorical_fisher (2.3),
hessian_fisher (2.4).

Inputs come from fixed seeds and cover the contract: random inputs, a batch of one, one
parameter, array-likes, extreme scales, logits of magnitude 1e3, float32 tensors, and a
caller's theta that must be left alone. Hints recognise the usual mistakes.
"""
from __future__ import annotations

import numpy as np

from autograder.checks import (
    as_array, close, describe_input, leaves_input_unchanged, matches_reference, matches_reference_at_scale, result_is_detached,
)
from autograder.spec import Case, Chapter, Check, Exercise, Hint
from autograder.fixtures import classification_data, log_prob_case, regression_data, untouched_theta_cases


# --- 2.1 empirical_fisher -------------------------------------------------------------------

def _scores_case(scores, note="") -> Case:
    return Case((scores,), describe_input("scores", scores) + (f" ({note})" if note else ""))


def empirical_fisher_checks() -> list[Check]:
    rng = np.random.default_rng(2001)
    random_cases = [
        _scores_case(rng.normal(0, 1, (50, 3))),
        _scores_case(rng.normal(0, 2, (200, 2))),
        _scores_case(rng.standard_t(5, (7, 5))),
    ]
    edge_cases = [
        _scores_case(rng.normal(size=(1, 3)), "N = 1"),
        _scores_case(rng.normal(size=(12, 1)), "d = 1"),
        _scores_case(rng.normal(size=(1, 1)), "N = d = 1"),
    ]
    arraylike_cases = [
        Case(([[1, 2], [3, 4], [5, 6]],), "scores=[[1, 2], [3, 4], [5, 6]] (nested lists of ints)"),
        Case(([[0.5, -1.0, 2.0]],), "scores=[[0.5, -1.0, 2.0]] (a list holding one row)"),
        _scores_case(rng.normal(size=(9, 2)).astype(np.float32), "float32 scores, float64 result"),
    ]
    offset_cases = [
        _scores_case(rng.normal(3.0, 1.0, (40, 2)), "scores whose mean is far from zero"),
        _scores_case(rng.normal(0, 1, (30, 4)) + np.array([5.0, -2.0, 0.0, 1.0]),
                     "scores whose mean is far from zero"),
    ]
    judge = matches_reference()
    return [
        Check("values on random scores", random_cases, judge, points=2),
        Check("a batch of one (N = 1), one parameter (d = 1)", edge_cases, judge),
        Check("array-likes: nested lists, ints, float32", arraylike_cases, judge),
        Check("the second moment is not centred", offset_cases, judge),
    ]


def _scores(args) -> np.ndarray:
    return np.asarray(args[0], dtype=np.float64)


def _cov(s, bias):
    return np.atleast_2d(np.cov(s, rowvar=False, bias=bias))


EMPIRICAL_FISHER_HINTS = [
    Hint("scores @ scores.T is the (N, N) matrix of inner products of the samples; the Fisher "
         "information is (d, d): scores.T @ scores / N",
         lambda args, got, exp: as_array(got).shape == (len(_scores(args)),) * 2
         and close(got, _scores(args) @ _scores(args).T / len(_scores(args)))),
    Hint("np.cov centres the scores and divides by N - 1; the exercise asks for the uncentred "
         "second moment scores.T @ scores / N (the score's true mean is 0, so E[s s^T] is its "
         "covariance, but a sample's mean is not 0)",
         lambda args, got, exp: len(_scores(args)) > 1 and close(got, _cov(_scores(args), bias=False))),
    Hint("the scores were centred (their sample mean subtracted); the exercise asks for the "
         "uncentred second moment scores.T @ scores / N",
         lambda args, got, exp: close(got, _cov(_scores(args), bias=True))),
    Hint("divide by N, the number of samples, not by N - 1: this is a mean of outer products, "
         "not an unbiased covariance estimate",
         lambda args, got, exp: len(_scores(args)) > 1
         and close(got, _scores(args).T @ _scores(args) / (len(_scores(args)) - 1))),
    Hint("the sum of the outer products was returned; divide by N to get their mean",
         lambda args, got, exp: len(_scores(args)) > 1 and close(got, _scores(args).T @ _scores(args))),
    Hint("divided by scores.size = N * d; divide by N = scores.shape[0], the number of samples",
         lambda args, got, exp: _scores(args).shape[1] > 1
         and close(got, _scores(args).T @ _scores(args) / _scores(args).size)),
    Hint("only the diagonal (the mean squares) was returned; the off-diagonal entries are the "
         "means of s_j s_k: use the outer product scores.T @ scores / N",
         lambda args, got, exp: _scores(args).shape[1] > 1
         and close(got, np.diag((_scores(args) ** 2).mean(axis=0)))),
    Hint("that is the outer product of the mean score; the Fisher information is the mean of "
         "the outer products s_i s_i^T",
         lambda args, got, exp: len(_scores(args)) > 1
         and close(got, np.outer(_scores(args).mean(axis=0), _scores(args).mean(axis=0)))),
]


# --- 2.2 gaussian_fisher --------------------------------------------------------------------

def _gauss_case(mu, sigma, note="") -> Case:
    label = f"mu={mu!r}, sigma={sigma!r}" + (f" ({note})" if note else "")
    return Case((mu, sigma), label)


def gaussian_fisher_checks() -> list[Check]:
    rng = np.random.default_rng(2002)
    random_cases = [
        _gauss_case(float(np.round(rng.normal(0, 2), 4)), float(np.round(s, 4)))
        for s in (rng.uniform(0.2, 0.8), rng.uniform(1.3, 4.0), rng.uniform(0.5, 3.0))
    ]
    number_cases = [
        _gauss_case(0, 2, "Python ints"),
        _gauss_case(np.float32(0.5), np.float32(1.5), "NumPy float32 scalars; the result is float64"),
        _gauss_case(np.int64(-1), np.int64(3), "NumPy int64 scalars"),
    ]
    scale_cases = [
        _gauss_case(0.3, 1e-3, "tiny sigma"),
        _gauss_case(-2.0, 1e3, "huge sigma"),
    ]
    mu_cases = [
        _gauss_case(1e6, 0.7, "mu far from zero"),
        _gauss_case(-350.25, 0.7, "the same sigma, another mu"),
    ]
    judge = matches_reference()
    return [
        Check("values at random (mu, sigma)", random_cases, judge, points=2),
        Check("Python and NumPy numbers (ints, float32)", number_cases, judge),
        Check("tiny and huge sigma (1e-3, 1e3)", scale_cases, matches_reference_at_scale(1e-7)),
        Check("the information does not depend on mu", mu_cases, judge),
    ]


def _gauss_diag(a, b):
    def applies(args, got, exp):
        s = float(args[1])
        return close(got, np.diag([a(s), b(s)]))
    return applies


GAUSSIAN_FISHER_HINTS = [
    Hint("that is the Fisher information in (mu, log sigma), diag(1/sigma^2, 2); in (mu, sigma) "
         "the sigma entry is 2 / sigma^2 (the score in sigma is the log-sigma score divided by sigma)",
         _gauss_diag(lambda s: 1 / s**2, lambda s: 2.0)),
    Hint("the sigma entry misses a factor 2: E[((z^2 - 1) / sigma)^2] = E[z^4 - 2 z^2 + 1] / sigma^2 "
         "= (3 - 2 + 1) / sigma^2 = 2 / sigma^2",
         _gauss_diag(lambda s: 1 / s**2, lambda s: 1 / s**2)),
    Hint("that is the Fisher information in (mu, sigma^2), whose variance entry is 1 / (2 sigma^4); "
         "the exercise uses sigma, the standard deviation: 2 / sigma^2",
         _gauss_diag(lambda s: 1 / s**2, lambda s: 1 / (2 * s**4))),
    Hint("that is the inverse of the Fisher information (the Cramer-Rao bound for one sample); "
         "the information itself is diag(1/sigma^2, 2/sigma^2)",
         _gauss_diag(lambda s: s**2, lambda s: s**2 / 2)),
    Hint("the entries are divided by sigma once; the scores are (z / sigma, (z^2 - 1) / sigma), so "
         "their second moments carry 1 / sigma^2",
         _gauss_diag(lambda s: 1 / s, lambda s: 2 / s)),
    Hint("return the full 2 x 2 matrix, e.g. np.diag([...]), not just its diagonal",
         lambda args, got, exp: as_array(got).shape == (2,)
         and close(got, np.diag(as_array(exp)))),
]


# --- 2.3 categorical_fisher -----------------------------------------------------------------

def _logits_case(logits, note="") -> Case:
    return Case((logits,), describe_input("logits", logits) + (f" ({note})" if note else ""))


def categorical_fisher_checks() -> list[Check]:
    rng = np.random.default_rng(2003)
    random_cases = [
        _logits_case(rng.normal(0, 1, 4)),
        _logits_case(rng.normal(0, 3, 7)),
        _logits_case(rng.normal(0, 1, 2)),
    ]
    large_cases = [
        _logits_case(np.array([1e3, 999.0, -1e3, 998.5]), "entries of magnitude 1e3"),
        _logits_case(np.array([-1e3, -1e3, -1e3]), "all equal and very negative"),
        _logits_case(rng.normal(0, 1, 5) * 1e3, "entries of magnitude 1e3"),
        _logits_case(np.array([1e3, -1e3, -1e3, -1e3]), "one logit far above the others"),
    ]
    edge_cases = [
        Case(([0.5, -1.0, 2.0],), "logits=[0.5, -1.0, 2.0] (a list)"),
        Case(([0, 0, 0, 0],), "logits=[0, 0, 0, 0] (ints, all equal: p is uniform)"),
        _logits_case(np.array([0.3]), "K = 1 category"),
        _logits_case(rng.normal(size=3).astype(np.float32), "float32 logits, float64 result"),
    ]
    judge = matches_reference()
    return [
        Check("values on random logits", random_cases, judge, points=2),
        Check("logits of magnitude 1e3 stay finite and exact", large_cases, judge),
        Check("lists, ints, K = 1, float32", edge_cases, judge),
        Check("a larger K", [_logits_case(rng.normal(0, 2, 40), "K = 40")], judge),
    ]


def _probs(args) -> np.ndarray:
    z = np.asarray(args[0], dtype=np.float64)
    z = np.exp(z - z.max())
    return z / z.sum()


def _cat_is(fn):
    return lambda args, got, exp: close(got, fn(_probs(args)))


CATEGORICAL_FISHER_HINTS = [
    Hint("the softmax overflowed (exp(1000) is inf in float64): subtract logits.max() before "
         "exponentiating; softmax is unchanged by that shift",
         lambda args, got, exp: (not np.all(np.isfinite(as_array(got))))
         and np.abs(np.asarray(args[0], dtype=np.float64)).max() > 700),
    Hint("the sign of the outer product is flipped: the Fisher information is diag(p) - p p^T, "
         "E[(e_a - p)(e_a - p)^T] = E[e_a e_a^T] - p p^T",
         _cat_is(lambda p: np.diag(p) + np.outer(p, p))),
    Hint("the whole matrix has the wrong sign: diag(p) - p p^T is positive semi-definite (a "
         "covariance); minus it is the Hessian of log softmax(logits)[a]",
         lambda args, got, exp: close(got, -as_array(exp))),
    Hint("the - p p^T term is missing: the score e_a - p has mean 0, and its second moment is "
         "diag(p) - p p^T",
         _cat_is(np.diag)),
    Hint("the diagonal alone is missing: E[(e_a - p)(e_a - p)^T] = diag(p) - p p^T",
         _cat_is(lambda p: -np.outer(p, p))),
    Hint("only the diagonal p (1 - p) is there; the off-diagonal entries are -p_j p_k",
         _cat_is(lambda p: np.diag(p * (1 - p)))),
    Hint("p * p is elementwise (a vector); the outer product p p^T is np.outer(p, p)",
         lambda args, got, exp: close(got, np.diag(_probs(args)) - _probs(args) ** 2)
         or close(got, np.diag(_probs(args)) - (_probs(args) ** 2)[:, None])),
    Hint("log-probabilities were used where the probabilities p = softmax(logits) belong",
         lambda args, got, exp: close(got, np.diag(np.log(_probs(args)))
                                      - np.outer(np.log(_probs(args)), np.log(_probs(args))))),
]


# --- 2.4 hessian_fisher ---------------------------------------------------------------------


def hessian_fisher_checks() -> list[Check]:
    rng = np.random.default_rng(2004)
    value_cases = [
        log_prob_case("gaussian_mu_log_sigma", [0.3, -0.2], rng.normal(0.3, 0.8, 12)),
        log_prob_case("categorical_logits", rng.normal(size=5), rng.integers(0, 5, 20), x_dtype="int64"),
        log_prob_case("linear_gaussian", rng.normal(size=3), regression_data(rng, 15, 3)),
        log_prob_case("logistic_bernoulli", rng.normal(size=4), classification_data(rng, 10, 4),
                      requires_grad=False, note="theta does not require grad"),
        log_prob_case("gaussian_mu_log_sigma", [-1.0, 0.7], rng.normal(-1.0, 2.0, 30)),
    ]
    small_cases = [
        log_prob_case("gaussian_mu_log_sigma", [1.0, 0.5], rng.normal(size=1), note="N = 1"),
        log_prob_case("poisson_log_rate", [0.7], rng.poisson(2.0, 8).astype(float), note="d = 1"),
        log_prob_case("logistic_bernoulli", rng.normal(size=3), classification_data(rng, 1, 3), note="N = 1"),
    ]
    f32_cases = [
        log_prob_case("gaussian_mu_log_sigma", [0.1, 0.3], rng.normal(size=7),
                      theta_dtype="float32", x_dtype="float32"),
        log_prob_case("logistic_bernoulli", rng.normal(size=2), classification_data(rng, 6, 2),
                      theta_dtype="float32", x_dtype="float32"),
    ]
    detach_cases = [log_prob_case("gaussian_mu_log_sigma", [0.0, 0.0], rng.normal(size=5))]
    untouched_cases = untouched_theta_cases(rng)
    return [
        Check("minus the mean Hessian on four models", value_cases, matches_reference(rtol=1e-6, atol=1e-9),
              points=2),
        Check("one sample (N = 1), one parameter (d = 1)", small_cases, matches_reference(rtol=1e-6, atol=1e-9)),
        Check("float32 in, float32 out", f32_cases, matches_reference(rtol=1e-4, atol=1e-5)),
        Check("the result is detached", detach_cases, result_is_detached()),
        Check("theta and theta.grad are left unchanged", untouched_cases, leaves_input_unchanged(1, "theta")),
    ]


def _n_samples(args) -> int:
    log_prob, theta, x = args
    return int(log_prob(theta.detach(), x).shape[0])


def _empirical_fisher_of(args) -> np.ndarray:
    """Mean outer product of the per-sample gradients: the other estimate of the information."""
    import torch

    log_prob, theta, x = args
    t = theta.detach().clone().requires_grad_(True)
    log_p = log_prob(t, x)
    rows = [torch.autograd.grad(log_p[i], t, retain_graph=True)[0] for i in range(log_p.shape[0])]
    s = torch.stack(rows).double().numpy()
    return s.T @ s / len(s)


def _is_fraction_of_expected(factor):
    return lambda args, got, exp: close(got, factor(args) * as_array(exp))


HESSIAN_FISHER_HINTS = [
    Hint("the sign is flipped: the Fisher information is MINUS the mean Hessian of log p "
         "(log p is concave near its peak, so its Hessian is negative semi-definite)",
         _is_fraction_of_expected(lambda args: -1.0)),
    Hint("the Hessian of the summed log-probability was returned; the exercise asks for the mean "
         "over the N samples (divide by N, or differentiate log_prob(theta, x).mean())",
         lambda args, got, exp: _n_samples(args) > 1 and close(got, _n_samples(args) * as_array(exp))),
    Hint("the Hessian of the summed log-probability, and with the wrong sign: the exercise asks "
         "for MINUS the MEAN Hessian",
         lambda args, got, exp: _n_samples(args) > 1 and close(got, -_n_samples(args) * as_array(exp))),
    Hint("that is the mean outer product of the per-sample gradients (the empirical Fisher of "
         "exercise 2.1); the exercise asks for the other estimate, minus the mean Hessian "
         "(second derivatives, e.g. torch.autograd.functional.hessian)",
         lambda args, got, exp: close(got, _empirical_fisher_of(args), rtol=1e-4, atol=1e-6)),
    Hint("only the diagonal of the Hessian is there; the off-diagonal entries d^2 log p / "
         "dtheta_j dtheta_k are needed too",
         lambda args, got, exp: as_array(exp).shape[0] > 1
         and close(got, np.diag(np.diag(as_array(exp))))),
    Hint("that is the gradient of the sum of the gradient's entries (row sums of the Hessian, "
         "shape (d,)); differentiate each entry of the gradient separately to get (d, d)",
         lambda args, got, exp: as_array(got).ndim == 1 and close(np.abs(as_array(got)),
                                                                  np.abs(as_array(exp).sum(axis=1)))),
]


CHAPTER = Chapter(
    slug="02_score_identities",
    number=2,
    title="Score identities: zero mean and Fisher information",
    solutions_module="solutions.ch02_score_identities",
    exercises=[
        Exercise("2.1", "empirical_fisher", empirical_fisher_checks, EMPIRICAL_FISHER_HINTS, timeout=20),
        Exercise("2.2", "gaussian_fisher", gaussian_fisher_checks, GAUSSIAN_FISHER_HINTS, timeout=20),
        Exercise("2.3", "categorical_fisher", categorical_fisher_checks, CATEGORICAL_FISHER_HINTS, timeout=20),
        Exercise("2.4", "hessian_fisher", hessian_fisher_checks, HESSIAN_FISHER_HINTS, timeout=40),
    ],
)
