"""Chapter 1, the log-derivative trick: reference solutions of exercises 1.1-1.3.

Each function's source is copied verbatim into the book and into filled notebooks, so it
may use only ``np`` and ``torch`` (imported by the chapter notebook's first code cell).
"""
import numpy as np
import torch


def gaussian_score(x, mu, sigma):
    """Score of the Gaussian N(x; mu, sigma^2) with respect to (mu, sigma).

    Args:
        x, mu, sigma: array-likes (or floats) that broadcast together; sigma > 0.

    Returns:
        np.ndarray of float64 with shape ``broadcast(x, mu, sigma).shape + (2,)``:
        ``[..., 0]`` is d/dmu log p = (x - mu) / sigma^2 and
        ``[..., 1]`` is d/dsigma log p = ((x - mu)^2 - sigma^2) / sigma^3.
    """
    x, mu, sigma = (np.asarray(v, dtype=np.float64) for v in (x, mu, sigma))
    z = (x - mu) / sigma  # the standardised sample: both coordinates are simple in z
    d_mu = z / sigma
    d_sigma = (z**2 - 1.0) / sigma
    return np.stack(np.broadcast_arrays(d_mu, d_sigma), axis=-1)


def categorical_score(a, logits):
    """Score of a categorical distribution with respect to its logits.

    Args:
        a: int array-like of shape ``(...)``, the sampled categories in ``0..K-1``.
        logits: array-like of shape ``(..., K)``; ``a`` broadcasts against
            ``logits[..., 0]``.

    Returns:
        np.ndarray of float64, shape ``broadcast(a, logits[..., 0]).shape + (K,)``:
        ``one_hot(a, K) - softmax(logits)``. Finite for logits of any magnitude
        (1e3 included).
    """
    a = np.asarray(a)
    logits = np.asarray(logits, dtype=np.float64)
    k = logits.shape[-1]
    # Subtracting the max changes nothing mathematically (softmax is shift invariant) but
    # keeps exp() from overflowing: the largest exponent becomes exp(0) = 1.
    shifted = logits - logits.max(axis=-1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=-1, keepdims=True)
    one_hot = (a[..., None] == np.arange(k)).astype(np.float64)
    return one_hot - probs


def autograd_score(log_prob, theta, x):
    """Per-sample score vectors computed with torch autograd.

    Args:
        log_prob: callable ``log_prob(theta, x)`` returning the per-sample
            log-densities, shape (N,).
        theta: torch.Tensor of shape (d,); it may or may not require grad.
        x: the N samples, in whatever form ``log_prob`` accepts.

    Returns:
        torch.Tensor of shape (N, d) and the dtype of ``theta``, detached from any
        graph: row i is the gradient of ``log_prob(theta, x)[i]`` with respect to
        theta. ``theta`` and ``theta.grad`` are left exactly as they were.
    """
    # A fresh leaf that shares no autograd history with the caller's theta, so nothing
    # we do here can touch theta.grad or the caller's graph.
    theta = theta.detach().clone().requires_grad_(True)
    log_p = log_prob(theta, x)
    rows = []
    for i in range(log_p.shape[0]):
        (grad_i,) = torch.autograd.grad(log_p[i], theta, retain_graph=True)
        rows.append(grad_i)
    return torch.stack(rows).detach()
