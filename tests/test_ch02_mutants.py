"""Mutation testing of the chapter 2 grader (the harness: tests/mutation.py)."""
from __future__ import annotations

from mutation import Impl, define_tests

IMPORTS = "import numpy as np\nimport torch"


# --- 2.1 empirical_fisher: wrong ----------------------------------------------------------------

EMPIRICAL_MUTANTS = [
    Impl("np-cov", "empirical_fisher", """
        def empirical_fisher(scores):
            return np.cov(np.asarray(scores, dtype=float), rowvar=False)
        """, expect="np.cov centres the scores"),
    Impl("centred-divide-by-n", "empirical_fisher", """
        def empirical_fisher(scores):
            s = np.asarray(scores, dtype=np.float64)
            s = s - s.mean(axis=0)
            return s.T @ s / len(s)
        """, expect="the scores were centred"),
    Impl("divide-by-n-minus-1", "empirical_fisher", """
        def empirical_fisher(scores):
            s = np.asarray(scores, dtype=np.float64)
            return s.T @ s / (len(s) - 1)
        """, expect="not by N - 1"),
    Impl("sum-not-mean", "empirical_fisher", """
        def empirical_fisher(scores):
            s = np.asarray(scores, dtype=np.float64)
            return s.T @ s
        """, expect="divide by N to get their mean"),
    Impl("n-by-n", "empirical_fisher", """
        def empirical_fisher(scores):
            s = np.asarray(scores, dtype=np.float64)
            return s @ s.T / len(s)
        """, expect="(N, N) matrix of inner products"),
    Impl("divide-by-size", "empirical_fisher", """
        def empirical_fisher(scores):
            s = np.asarray(scores, dtype=np.float64)
            return s.T @ s / s.size
        """, expect="divided by scores.size"),
    Impl("diagonal-only", "empirical_fisher", """
        def empirical_fisher(scores):
            s = np.asarray(scores, dtype=np.float64)
            return np.diag(np.mean(s**2, axis=0))
        """, expect="only the diagonal"),
    Impl("outer-of-mean", "empirical_fisher", """
        def empirical_fisher(scores):
            m = np.asarray(scores, dtype=np.float64).mean(axis=0)
            return np.outer(m, m)
        """, expect="outer product of the mean score"),
    Impl("no-asarray-lists-fail", "empirical_fisher", """
        def empirical_fisher(scores):
            return scores.T @ scores / len(scores)
        """, expect="[FAIL] array-likes: nested lists, ints, float32"),
    Impl("keeps-float32", "empirical_fisher", """
        def empirical_fisher(scores):
            s = np.asarray(scores)
            return s.T @ s / len(s)
        """, expect="expected dtype float64, got float32"),
]

EMPIRICAL_CORRECT = [
    Impl("einsum", "empirical_fisher", """
        def empirical_fisher(scores):
            s = np.asarray(scores, dtype=np.float64)
            return np.einsum("ni,nj->ij", s, s) / s.shape[0]
        """),
    Impl("loop-of-outer-products", "empirical_fisher", """
        def empirical_fisher(scores):
            rows = [np.asarray(r, dtype=np.float64) for r in scores]
            total = np.zeros((len(rows[0]), len(rows[0])))
            for r in rows:
                total += np.outer(r, r)
            return total / len(rows)
        """),
    Impl("broadcast-mean", "empirical_fisher", """
        def empirical_fisher(scores):
            s = np.asarray(scores, dtype=np.float64)
            return (s[:, :, None] * s[:, None, :]).mean(axis=0)
        """),
    Impl("covariance-plus-mean-outer", "empirical_fisher", """
        def empirical_fisher(scores):
            s = np.asarray(scores, dtype=np.float64)
            m = s.mean(axis=0)
            return np.atleast_2d(np.cov(s, rowvar=False, bias=True)) + np.outer(m, m)
        """),
]

# --- 2.2 gaussian_fisher: wrong -----------------------------------------------------------------

GAUSSIAN_MUTANTS = [
    Impl("log-sigma-parameterisation", "gaussian_fisher", """
        def gaussian_fisher(mu, sigma):
            return np.diag([1.0 / sigma**2, 2.0])
        """, expect="Fisher information in (mu, log sigma)"),
    Impl("forgot-the-2", "gaussian_fisher", """
        def gaussian_fisher(mu, sigma):
            return np.diag([1.0 / sigma**2, 1.0 / sigma**2])
        """, expect="misses a factor 2"),
    Impl("variance-parameterisation", "gaussian_fisher", """
        def gaussian_fisher(mu, sigma):
            return np.diag([1.0 / sigma**2, 1.0 / (2 * sigma**4)])
        """, expect="Fisher information in (mu, sigma^2)"),
    Impl("inverse-fisher", "gaussian_fisher", """
        def gaussian_fisher(mu, sigma):
            return np.diag([sigma**2, sigma**2 / 2])
        """, expect="inverse of the Fisher information"),
    Impl("one-over-sigma", "gaussian_fisher", """
        def gaussian_fisher(mu, sigma):
            return np.diag([1.0 / sigma, 2.0 / sigma])
        """, expect="divided by sigma once"),
    Impl("diagonal-vector", "gaussian_fisher", """
        def gaussian_fisher(mu, sigma):
            return np.array([1.0 / sigma**2, 2.0 / sigma**2])
        """, expect="return the full 2 x 2 matrix"),
    Impl("keeps-input-dtype", "gaussian_fisher", """
        def gaussian_fisher(mu, sigma):
            sigma = np.asarray(sigma)
            return np.diag(np.stack([1 / sigma**2, 2 / sigma**2]))
        """, expect="expected dtype float64, got float32"),
    Impl("integer-division-of-ints", "gaussian_fisher", """
        def gaussian_fisher(mu, sigma):
            return np.array([[1 // sigma**2, 0], [0, 2 // sigma**2]])
        """),
]

GAUSSIAN_CORRECT = [
    Impl("explicit-array", "gaussian_fisher", """
        def gaussian_fisher(mu, sigma):
            v = float(sigma) ** 2
            return np.array([[1.0, 0.0], [0.0, 2.0]]) / v
        """),
    Impl("by-the-jacobian-from-log-sigma", "gaussian_fisher", """
        def gaussian_fisher(mu, sigma):
            sigma = float(sigma)
            f_log_sigma = np.diag([sigma**-2, 2.0])
            j_inv = np.diag([1.0, 1.0 / sigma])  # d(mu, log sigma) / d(mu, sigma)
            return j_inv.T @ f_log_sigma @ j_inv
        """),
    Impl("gauss-hermite-quadrature", "gaussian_fisher", """
        def gaussian_fisher(mu, sigma):
            nodes, weights = np.polynomial.hermite_e.hermegauss(20)
            weights = weights / weights.sum()
            s = np.stack([nodes / sigma, (nodes**2 - 1) / sigma], axis=-1)
            return (weights[:, None, None] * s[:, :, None] * s[:, None, :]).sum(axis=0)
        """),
]

# --- 2.3 categorical_fisher: wrong --------------------------------------------------------------

CATEGORICAL_MUTANTS = [
    Impl("naive-softmax-overflows", "categorical_fisher", """
        def categorical_fisher(logits):
            z = np.asarray(logits, dtype=np.float64)
            p = np.exp(z) / np.exp(z).sum()
            return np.diag(p) - np.outer(p, p)
        """, expect="the softmax overflowed"),
    Impl("shift-by-mean-overflows", "categorical_fisher", """
        def categorical_fisher(logits):
            z = np.asarray(logits, dtype=np.float64)
            e = np.exp(z - z.mean())
            p = e / e.sum()
            return np.diag(p) - np.outer(p, p)
        """, expect="the softmax overflowed"),
    Impl("plus-outer-product", "categorical_fisher", """
        def categorical_fisher(logits):
            z = np.asarray(logits, dtype=np.float64)
            e = np.exp(z - z.max())
            p = e / e.sum()
            return np.diag(p) + np.outer(p, p)
        """, expect="sign of the outer product is flipped"),
    Impl("negated-hessian", "categorical_fisher", """
        def categorical_fisher(logits):
            z = np.asarray(logits, dtype=np.float64)
            e = np.exp(z - z.max())
            p = e / e.sum()
            return np.outer(p, p) - np.diag(p)
        """, expect="the whole matrix has the wrong sign"),
    Impl("diag-only", "categorical_fisher", """
        def categorical_fisher(logits):
            z = np.asarray(logits, dtype=np.float64)
            e = np.exp(z - z.max())
            return np.diag(e / e.sum())
        """, expect="the - p p^T term is missing"),
    Impl("variances-only", "categorical_fisher", """
        def categorical_fisher(logits):
            z = np.asarray(logits, dtype=np.float64)
            e = np.exp(z - z.max())
            p = e / e.sum()
            return np.diag(p * (1 - p))
        """, expect="only the diagonal p (1 - p)"),
    Impl("elementwise-p-squared", "categorical_fisher", """
        def categorical_fisher(logits):
            z = np.asarray(logits, dtype=np.float64)
            e = np.exp(z - z.max())
            p = e / e.sum()
            return np.diag(p) - p * p
        """, expect="p * p is elementwise"),
    Impl("log-probabilities", "categorical_fisher", """
        def categorical_fisher(logits):
            z = np.asarray(logits, dtype=np.float64)
            logp = z - z.max() - np.log(np.exp(z - z.max()).sum())
            return np.diag(logp) - np.outer(logp, logp)
        """, expect="log-probabilities were used"),
    Impl("keeps-float32", "categorical_fisher", """
        def categorical_fisher(logits):
            z = np.asarray(logits)
            z = z.astype(np.float64) if z.dtype.kind in "iu" else z
            e = np.exp(z - z.max())
            p = e / e.sum()
            return np.diag(p) - np.outer(p, p)
        """, expect="expected dtype float64, got float32"),
]

CATEGORICAL_CORRECT = [
    Impl("scipy-softmax", "categorical_fisher", """
        import scipy.special

        def categorical_fisher(logits):
            p = scipy.special.softmax(np.asarray(logits, dtype=np.float64))
            return np.diag(p) - p[:, None] * p[None, :]
        """),
    Impl("expectation-over-actions", "categorical_fisher", """
        def categorical_fisher(logits):
            z = np.asarray(logits, dtype=np.float64)
            p = np.exp(z - z.max())
            p /= p.sum()
            k = len(p)
            f = np.zeros((k, k))
            for a in range(k):
                s = np.eye(k)[a] - p
                f += p[a] * np.outer(s, s)
            return f
        """),
    Impl("torch-softmax-jacobian", "categorical_fisher", """
        def categorical_fisher(logits):
            z = torch.as_tensor(np.asarray(logits, dtype=np.float64))
            jac = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, dim=-1), z)
            return jac.numpy()
        """),
]

# --- 2.4 hessian_fisher: wrong ------------------------------------------------------------------

HESSIAN_MUTANTS = [
    Impl("missing-minus", "hessian_fisher", """
        def hessian_fisher(log_prob, theta, x):
            theta = theta.detach().clone()
            return torch.autograd.functional.hessian(lambda t: log_prob(t, x).mean(), theta)
        """, expect="the sign is flipped"),
    Impl("sum-not-mean", "hessian_fisher", """
        def hessian_fisher(log_prob, theta, x):
            theta = theta.detach().clone()
            return -torch.autograd.functional.hessian(lambda t: log_prob(t, x).sum(), theta)
        """, expect="Hessian of the summed log-probability"),
    Impl("sum-and-sign", "hessian_fisher", """
        def hessian_fisher(log_prob, theta, x):
            theta = theta.detach().clone()
            return torch.autograd.functional.hessian(lambda t: log_prob(t, x).sum(), theta)
        """, expect="and with the wrong sign"),
    Impl("outer-product-of-scores", "hessian_fisher", """
        def hessian_fisher(log_prob, theta, x):
            t = theta.detach().clone().requires_grad_(True)
            log_p = log_prob(t, x)
            rows = [torch.autograd.grad(log_p[i], t, retain_graph=True)[0] for i in range(len(log_p))]
            s = torch.stack(rows)
            return s.T @ s / len(rows)
        """, expect="empirical Fisher of exercise 2.1"),
    Impl("diagonal-only", "hessian_fisher", """
        def hessian_fisher(log_prob, theta, x):
            t = theta.detach().clone().requires_grad_(True)
            (g,) = torch.autograd.grad(log_prob(t, x).mean(), t, create_graph=True)
            diag = torch.stack([torch.autograd.grad(g[j], t, retain_graph=True)[0][j]
                                for j in range(len(g))])
            return -torch.diag(diag).detach()
        """, expect="only the diagonal of the Hessian"),
    Impl("grad-of-grad-sum", "hessian_fisher", """
        def hessian_fisher(log_prob, theta, x):
            t = theta.detach().clone().requires_grad_(True)
            (g,) = torch.autograd.grad(log_prob(t, x).mean(), t, create_graph=True)
            (h,) = torch.autograd.grad(g.sum(), t)
            return -h
        """, expect="row sums of the Hessian"),
    Impl("backward-on-callers-theta", "hessian_fisher", """
        def hessian_fisher(log_prob, theta, x):
            theta.requires_grad_(True)
            (g,) = torch.autograd.grad(log_prob(theta, x).mean(), theta, create_graph=True)
            rows = []
            for j in range(len(g)):
                theta.grad = None
                g[j].backward(retain_graph=True)
                rows.append(-theta.grad.clone())
            return torch.stack(rows)
        """, expect="theta and theta.grad are left unchanged"),
    Impl("not-detached", "hessian_fisher", """
        def hessian_fisher(log_prob, theta, x):
            theta = theta.detach().clone()
            h = torch.autograd.functional.hessian(lambda t: log_prob(t, x).mean(), theta, create_graph=True)
            return -h
        """, expect="still attached to an autograd graph"),
    Impl("always-float64", "hessian_fisher", """
        def hessian_fisher(log_prob, theta, x):
            theta = theta.detach().double()
            x = x.double() if x.is_floating_point() else x
            return -torch.autograd.functional.hessian(lambda t: log_prob(t, x).mean(), theta)
        """, expect="expected dtype torch.float32"),
    Impl("assumes-theta-requires-grad", "hessian_fisher", """
        def hessian_fisher(log_prob, theta, x):
            (g,) = torch.autograd.grad(log_prob(theta, x).mean(), theta, create_graph=True)
            rows = [torch.autograd.grad(g[j], theta, retain_graph=True)[0] for j in range(len(g))]
            return -torch.stack(rows).detach()
        """, expect="theta does not require grad"),
    Impl("returns-numpy", "hessian_fisher", """
        def hessian_fisher(log_prob, theta, x):
            theta = theta.detach().clone()
            return -torch.autograd.functional.hessian(lambda t: log_prob(t, x).mean(), theta).numpy()
        """, expect="expected a torch.Tensor, got np.ndarray"),
    Impl("first-sample-only", "hessian_fisher", """
        def hessian_fisher(log_prob, theta, x):
            theta = theta.detach().clone()
            return -torch.autograd.functional.hessian(lambda t: log_prob(t, x)[0], theta)
        """),
]

HESSIAN_CORRECT = [
    Impl("torch-func-hessian", "hessian_fisher", """
        def hessian_fisher(log_prob, theta, x):
            return -torch.func.hessian(lambda t: log_prob(t, x).mean())(theta.detach())
        """),
    Impl("double-autograd-grad", "hessian_fisher", """
        def hessian_fisher(log_prob, theta, x):
            t = theta.detach().clone().requires_grad_(True)
            (g,) = torch.autograd.grad(log_prob(t, x).mean(), t, create_graph=True)
            rows = [torch.autograd.grad(g[j], t, retain_graph=True)[0] for j in range(g.shape[0])]
            return -torch.stack(rows).detach()
        """),
    Impl("per-sample-hessians-averaged", "hessian_fisher", """
        def hessian_fisher(log_prob, theta, x):
            t0 = theta.detach()
            n = log_prob(t0, x).shape[0]
            total = torch.zeros(t0.shape[0], t0.shape[0], dtype=t0.dtype)
            for i in range(n):
                total -= torch.autograd.functional.hessian(lambda t: log_prob(t, x)[i], t0)
            return total / n
        """),
    Impl("jacfwd-of-jacrev", "hessian_fisher", """
        def hessian_fisher(log_prob, theta, x):
            f = lambda t: log_prob(t, x).mean()
            return -torch.func.jacfwd(torch.func.jacrev(f))(theta.detach())
        """),
]

MUTANTS = EMPIRICAL_MUTANTS + GAUSSIAN_MUTANTS + CATEGORICAL_MUTANTS + HESSIAN_MUTANTS
CORRECT = EMPIRICAL_CORRECT + GAUSSIAN_CORRECT + CATEGORICAL_CORRECT + HESSIAN_CORRECT
EXERCISES = ("empirical_fisher", "gaussian_fisher", "categorical_fisher", "hessian_fisher")


define_tests(globals(), mutants=MUTANTS, correct=CORRECT, exercises=EXERCISES, imports=IMPORTS,
             slow_first="hessian_fisher")
