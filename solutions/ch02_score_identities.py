"""Chapter 2, score identities: reference solutions of exercises 2.1-2.4.

Each function's source is copied verbatim into the book and into filled notebooks,
so it may use only ``np`` and ``torch`` (imported by the chapter's first code cell).
"""
import numpy as np
import torch


def empirical_fisher(scores):
    """Empirical Fisher information: the mean outer product of score vectors.

    Args:
        scores: array-like of shape (N, d), one score vector s_i per row; N >= 1.

    Returns:
        np.ndarray of float64, shape (d, d): ``scores.T @ scores / N``, the mean of
        s_i s_i^T over the N rows. It is the uncentred second moment: no sample
        mean is subtracted, and it divides by N, not N - 1.
    """
    scores = np.asarray(scores, dtype=np.float64)
    n = scores.shape[0]
    # (d, N) @ (N, d) sums the s_i s_i^T over the samples: (d, d), never (N, N).
    return scores.T @ scores / n


def gaussian_fisher(mu, sigma):
    """Fisher information of N(mu, sigma^2) in the parameters (mu, sigma).

    Args:
        mu: the mean, a number (the information does not depend on it).
        sigma: the standard deviation, a number > 0.

    Returns:
        np.ndarray of float64, shape (2, 2): ``diag(1 / sigma^2, 2 / sigma^2)``,
        rows and columns ordered (mu, sigma) as in ``gaussian_score``.
    """
    sigma = float(sigma)
    # With z = (x - mu) / sigma ~ N(0, 1): E[s_mu^2] = E[z^2] / sigma^2,
    # E[s_sigma^2] = E[(z^2 - 1)^2] / sigma^2 = 2 / sigma^2, E[s_mu s_sigma] = 0.
    return np.diag([1.0 / sigma**2, 2.0 / sigma**2])


def categorical_fisher(logits):
    """Fisher information of a categorical distribution in its logits.

    Args:
        logits: array-like of shape (K,).

    Returns:
        np.ndarray of float64, shape (K, K): ``diag(p) - outer(p, p)`` with
        ``p = softmax(logits)``. Finite for logits of any magnitude (1e3 included).
    """
    logits = np.asarray(logits, dtype=np.float64)
    # Shift before exponentiating: softmax is unchanged, and exp() cannot overflow.
    p = np.exp(logits - logits.max())
    p /= p.sum()
    return np.diag(p) - np.outer(p, p)


def hessian_fisher(log_prob, theta, x):
    """Fisher information as minus the mean Hessian of the log-density.

    Args:
        log_prob: callable ``log_prob(theta, x)`` returning the per-sample
            log-densities, shape (N,).
        theta: torch.Tensor of shape (d,); it may or may not require grad.
        x: the N samples, in whatever form ``log_prob`` accepts.

    Returns:
        torch.Tensor of shape (d, d) and the dtype of ``theta``, detached from any
        graph: minus the mean over the N samples of the Hessian of
        ``log_prob(theta, x)[i]`` with respect to theta. ``theta`` and
        ``theta.grad`` are left exactly as they were.
    """
    # A fresh leaf: nothing done here can reach the caller's theta or theta.grad.
    theta = theta.detach().clone()

    def mean_log_prob(t):
        # The Hessian is linear: Hessian of the mean = mean of the Hessians.
        return log_prob(t, x).mean()

    hessian = torch.autograd.functional.hessian(mean_log_prob, theta)
    return -hessian.detach()
