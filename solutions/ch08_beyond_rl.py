"""Chapter 8, the score function across machine learning: reference solutions, 8.1-8.3.

Each function's source is copied verbatim into the book and into filled notebooks,
so it may use only ``np`` and ``torch`` (imported by the chapter notebook's first code cell).

Evolution strategies (8.1, 8.2) perturb the parameters, ``x_i = theta + sigma * eps_i`` with
``eps_i ~ N(0, I)``: ``eps`` has shape ``(N, d)``, one perturbation per row, and ``f_values``
shape ``(N,)``. The Gumbel-softmax sample (8.3) is a torch tensor, differentiable in the logits.
"""
import numpy as np
import torch


def es_gradient(f_values, eps, sigma):
    """Evolution-strategies estimate of grad_theta E[f(theta + sigma * eps)].

    The score of x = theta + sigma * eps under N(theta, sigma^2 I) is eps / sigma, so this
    is the score-function estimator of the Gaussian smoothing of f.

    Args:
        f_values: array-like of shape (N,), ``f_values[i] = f(theta + sigma * eps[i])``.
        eps: array-like of shape (N, d), the standard normal perturbations, one per row.
        sigma: the noise scale, a number > 0.

    Returns:
        np.ndarray of float64, shape (d,): ``(1 / (N sigma)) sum_i f_i eps_i``.
        The inputs are not modified.
    """
    f = np.asarray(f_values, dtype=np.float64)
    e = np.asarray(eps, dtype=np.float64)
    # f[:, None] pairs f_i with every coordinate of row i: shape (N, 1) * (N, d).
    return (f[:, None] * e).mean(axis=0) / sigma


def antithetic_es_gradient(f_plus, f_minus, eps, sigma):
    """Antithetic (mirrored) evolution-strategies estimate of grad_theta E[f(theta + sigma eps)].

    Each perturbation is used twice, as +eps_i and -eps_i: 2N evaluations of f.

    Args:
        f_plus: array-like of shape (N,), ``f_plus[i] = f(theta + sigma * eps[i])``.
        f_minus: array-like of shape (N,), ``f_minus[i] = f(theta - sigma * eps[i])``.
        eps: array-like of shape (N, d), the standard normal perturbations, one per row.
        sigma: the noise scale, a number > 0.

    Returns:
        np.ndarray of float64, shape (d,):
        ``(1 / (2 N sigma)) sum_i (f_plus_i - f_minus_i) eps_i``. The inputs are not modified.
    """
    diff = np.asarray(f_plus, dtype=np.float64) - np.asarray(f_minus, dtype=np.float64)
    e = np.asarray(eps, dtype=np.float64)
    return (diff[:, None] * e).mean(axis=0) / (2.0 * sigma)


def gumbel_softmax_sample(logits, temperature, rng):
    """A Gumbel-softmax (Concrete) sample: softmax((logits + g) / temperature) over the last axis.

    Args:
        logits: torch.Tensor of shape (K,) or (n, K) (any leading axes), float32 or
            float64, possibly requiring grad. It is not modified.
        temperature: a number > 0.
        rng: a numpy.random.Generator, the only source of randomness: g holds independent
            standard Gumbel draws, one per entry of logits.

    Returns:
        torch.Tensor of the shape and dtype of logits, each row on the probability simplex
        (entries >= 0, summing to 1 over the last axis), finite even for logits of
        magnitude 1e3 and small temperatures, and differentiable with respect to logits
        (the noise is a constant).
    """
    noise = rng.gumbel(size=tuple(logits.shape))  # -log(-log u), u ~ Uniform(0, 1)
    g = torch.as_tensor(noise, dtype=logits.dtype, device=logits.device)
    # torch.softmax subtracts the row maximum first, so large logits cannot overflow.
    return torch.softmax((logits + g) / temperature, dim=-1)
