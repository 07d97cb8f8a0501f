"""Chapter 3, the score-function gradient estimator: reference solutions, 3.1-3.5.

Each function's source is copied verbatim into the book and into filled notebooks,
so it may use only ``np`` (imported by the chapter notebook's first code cell).

Shapes follow the course notation: ``f_values (N,)`` holds f(x_i) and ``scores``
``(N, d)`` holds the scores s_i = grad_theta log p_theta(x_i), one sample per row.
"""
import numpy as np


def score_function_gradient(f_values, scores):
    """Score-function (REINFORCE) estimate of grad_theta E[f(x)], x ~ p_theta.

    Args:
        f_values: array-like of shape (N,), the values f(x_i).
        scores: array-like of shape (N, d), row i is the score s_i of x_i.

    Returns:
        np.ndarray of float64, shape (d,): the mean over the N samples of
        ``f_i * s_i``, that is ``g_j = (1/N) sum_i f_i s_ij``.
    """
    f = np.asarray(f_values, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    # f[:, None] pairs f_i with every coordinate of row i: shape (N, 1) * (N, d).
    return (f[:, None] * s).mean(axis=0)


def baselined_gradient(f_values, scores, baseline):
    """Score-function estimate with a constant baseline subtracted from f.

    Args:
        f_values: array-like of shape (N,), the values f(x_i).
        scores: array-like of shape (N, d), row i is the score s_i of x_i.
        baseline: a number (one baseline for every coordinate) or an array-like
            of shape (d,) (``baseline[j]`` is used for coordinate j).

    Returns:
        np.ndarray of float64, shape (d,): ``g_j = (1/N) sum_i (f_i - b_j) s_ij``.
    """
    f = np.asarray(f_values, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    b = np.asarray(baseline, dtype=np.float64)
    # (N, 1) - (d,) or (N, 1) - (): row i, column j holds f_i - b_j.
    return ((f[:, None] - b) * s).mean(axis=0)


def optimal_baseline(f_values, scores):
    """Per-coordinate variance-minimising constant baseline, estimated from samples.

    Args:
        f_values: array-like of shape (N,), the values f(x_i).
        scores: array-like of shape (N, d), row i is the score s_i of x_i; every
            column has at least one nonzero entry.

    Returns:
        np.ndarray of float64, shape (d,):
        ``b_j = sum_i f_i s_ij^2 / sum_i s_ij^2``, the sample version of
        E[f s_j^2] / E[s_j^2].
    """
    f = np.asarray(f_values, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    squared = s**2
    # A weighted mean of f per coordinate, with weights s_ij^2.
    return (f @ squared) / squared.sum(axis=0)


def leave_one_out_gradient(f_values, scores):
    """Score-function estimate with the leave-one-out (RLOO) baseline.

    Sample i gets the baseline ``b_i = mean_{k != i} f_k``, the mean of the other
    N - 1 values, which does not depend on x_i.

    Args:
        f_values: array-like of shape (N,) with N >= 2, the values f(x_i).
        scores: array-like of shape (N, d), row i is the score s_i of x_i.

    Returns:
        np.ndarray of float64, shape (d,): ``(1/N) sum_i (f_i - b_i) s_i``.
    """
    f = np.asarray(f_values, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    n = f.shape[0]
    others = (f.sum() - f) / (n - 1)  # b_i: the total minus f_i, over N - 1
    return ((f - others)[:, None] * s).mean(axis=0)


def pathwise_gaussian_gradient(fprime_values, eps):
    """Reparameterisation (pathwise) estimate of grad E[f(x)], x ~ N(mu, sigma^2).

    With x_i = mu + sigma * eps_i and eps_i ~ N(0, 1), dx_i/dmu = 1 and
    dx_i/dsigma = eps_i, so by the chain rule the gradient with respect to
    (mu, sigma) is estimated by averaging f'(x_i) * (1, eps_i).

    Args:
        fprime_values: array-like of shape (N,), the derivatives f'(x_i).
        eps: array-like of shape (N,), the standard normal draws eps_i.

    Returns:
        np.ndarray of float64, shape (2,):
        ``[mean_i f'(x_i), mean_i f'(x_i) * eps_i]``.
    """
    fprime = np.asarray(fprime_values, dtype=np.float64)
    e = np.asarray(eps, dtype=np.float64)
    return np.array([fprime.mean(), (fprime * e).mean()])
