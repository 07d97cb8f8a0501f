"""Mutation testing of the chapter 1 grader (the harness: tests/mutation.py)."""
from __future__ import annotations

from mutation import Impl, define_tests

IMPORTS = "import numpy as np\nimport torch"


# --- 1.1 gaussian_score: wrong ------------------------------------------------------------------

GAUSSIAN_MUTANTS = [
    Impl("flipped-sign", "gaussian_score", """
        def gaussian_score(x, mu, sigma):
            x, mu, sigma = (np.asarray(v, dtype=np.float64) for v in (x, mu, sigma))
            d_mu = (mu - x) / sigma**2
            d_sigma = (sigma**2 - (x - mu) ** 2) / sigma**3
            return np.stack(np.broadcast_arrays(d_mu, d_sigma), axis=-1)
        """, expect="both coordinates have the wrong sign"),
    Impl("d-log-sigma", "gaussian_score", """
        def gaussian_score(x, mu, sigma):
            x, mu, sigma = (np.asarray(v, dtype=np.float64) for v in (x, mu, sigma))
            d_mu = (x - mu) / sigma**2
            d_log_sigma = (x - mu) ** 2 / sigma**2 - 1.0
            return np.stack(np.broadcast_arrays(d_mu, d_log_sigma), axis=-1)
        """, expect="derivative with respect to log sigma"),
    Impl("d-variance", "gaussian_score", """
        def gaussian_score(x, mu, sigma):
            x, mu, sigma = (np.asarray(v, dtype=np.float64) for v in (x, mu, sigma))
            var = sigma**2
            d_mu = (x - mu) / var
            d_var = ((x - mu) ** 2 - var) / (2 * var**2)
            return np.stack(np.broadcast_arrays(d_mu, d_var), axis=-1)
        """, expect="derivative with respect to the variance"),
    Impl("missing-minus-1-over-sigma", "gaussian_score", """
        def gaussian_score(x, mu, sigma):
            x, mu, sigma = (np.asarray(v, dtype=np.float64) for v in (x, mu, sigma))
            d_mu = (x - mu) / sigma**2
            d_sigma = (x - mu) ** 2 / sigma**3
            return np.stack(np.broadcast_arrays(d_mu, d_sigma), axis=-1)
        """, expect="misses the -1/sigma"),
    Impl("coordinates-swapped", "gaussian_score", """
        def gaussian_score(x, mu, sigma):
            x, mu, sigma = (np.asarray(v, dtype=np.float64) for v in (x, mu, sigma))
            d_mu = (x - mu) / sigma**2
            d_sigma = ((x - mu) ** 2 - sigma**2) / sigma**3
            return np.stack(np.broadcast_arrays(d_sigma, d_mu), axis=-1)
        """, expect="the two coordinates are swapped"),
    Impl("stacked-on-axis-0", "gaussian_score", """
        def gaussian_score(x, mu, sigma):
            x, mu, sigma = (np.asarray(v, dtype=np.float64) for v in (x, mu, sigma))
            d_mu = (x - mu) / sigma**2
            d_sigma = ((x - mu) ** 2 - sigma**2) / sigma**3
            return np.stack(np.broadcast_arrays(d_mu, d_sigma))
        """, expect="stacked on the first axis"),
    Impl("mu-divides-by-sigma-once", "gaussian_score", """
        def gaussian_score(x, mu, sigma):
            x, mu, sigma = (np.asarray(v, dtype=np.float64) for v in (x, mu, sigma))
            z = (x - mu) / sigma
            return np.stack(np.broadcast_arrays(z, (z**2 - 1) / sigma), axis=-1)
        """, expect="the mu coordinate divides by sigma once"),
    Impl("no-asarray-lists-fail", "gaussian_score", """
        def gaussian_score(x, mu, sigma):
            d_mu = (x - mu) / sigma**2
            d_sigma = ((x - mu) ** 2 - sigma**2) / sigma**3
            return np.stack(np.broadcast_arrays(d_mu, d_sigma), axis=-1)
        """, expect="[FAIL] array-like inputs (lists, Python numbers)"),
    Impl("returns-float32", "gaussian_score", """
        def gaussian_score(x, mu, sigma):
            x, mu, sigma = (np.asarray(v, dtype=np.float32) for v in (x, mu, sigma))
            d_mu = (x - mu) / sigma**2
            d_sigma = ((x - mu) ** 2 - sigma**2) / sigma**3
            return np.stack(np.broadcast_arrays(d_mu, d_sigma), axis=-1)
        """, expect="expected dtype float64, got float32"),
    Impl("column-stack-no-broadcast-shape", "gaussian_score", """
        def gaussian_score(x, mu, sigma):
            x, mu, sigma = (np.asarray(v, dtype=np.float64) for v in (x, mu, sigma))
            d_mu = (x - mu) / sigma**2
            d_sigma = ((x - mu) ** 2 - sigma**2) / sigma**3
            return np.column_stack([d_mu, d_sigma])
        """, expect="expected shape"),
    Impl("returns-tuple", "gaussian_score", """
        def gaussian_score(x, mu, sigma):
            x, mu, sigma = (np.asarray(v, dtype=np.float64) for v in (x, mu, sigma))
            return (x - mu) / sigma**2, ((x - mu) ** 2 - sigma**2) / sigma**3
        """, expect="expected an np.ndarray, got tuple"),
    Impl("sigma-squared-typo", "gaussian_score", """
        def gaussian_score(x, mu, sigma):
            x, mu, sigma = (np.asarray(v, dtype=np.float64) for v in (x, mu, sigma))
            d_mu = (x - mu) / sigma**2
            d_sigma = ((x - mu) ** 2 - sigma) / sigma**3
            return np.stack(np.broadcast_arrays(d_mu, d_sigma), axis=-1)
        """),
]

# --- 1.1 gaussian_score: correct alternatives ---------------------------------------------------

GAUSSIAN_CORRECT = [
    Impl("preallocated-out", "gaussian_score", """
        def gaussian_score(x, mu, sigma):
            x, mu, sigma = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, mu, sigma)))
            out = np.empty(x.shape + (2,))
            out[..., 0] = (x - mu) / sigma**2
            out[..., 1] = -1.0 / sigma + (x - mu) ** 2 / sigma**3
            return out
        """),
    Impl("explicit-loops", "gaussian_score", """
        def gaussian_score(x, mu, sigma):
            x, mu, sigma = np.broadcast_arrays(np.asarray(x, float), np.asarray(mu, float), np.asarray(sigma, float))
            out = np.zeros(x.shape + (2,))
            for index in np.ndindex(x.shape):
                d = float(x[index]) - float(mu[index])
                s = float(sigma[index])
                out[index + (0,)] = d / (s * s)
                out[index + (1,)] = (d * d - s * s) / (s * s * s)
            return out
        """),
    Impl("moveaxis-of-array", "gaussian_score", """
        def gaussian_score(x, mu, sigma):
            x = np.asarray(x, dtype=np.float64)
            mu = np.asarray(mu, dtype=np.float64)
            sigma = np.asarray(sigma, dtype=np.float64)
            shape = np.broadcast_shapes(x.shape, mu.shape, sigma.shape)
            diff = x - mu
            parts = [np.broadcast_to(diff / sigma**2, shape),
                     np.broadcast_to((diff**2 / sigma**2 - 1.0) / sigma, shape)]
            return np.moveaxis(np.array(parts), 0, -1)
        """),
]

# --- 1.2 categorical_score: wrong ---------------------------------------------------------------

CATEGORICAL_MUTANTS = [
    Impl("naive-softmax-overflows", "categorical_score", """
        def categorical_score(a, logits):
            a = np.asarray(a)
            logits = np.asarray(logits, dtype=np.float64)
            e = np.exp(logits)
            probs = e / e.sum(axis=-1, keepdims=True)
            return (a[..., None] == np.arange(logits.shape[-1])).astype(np.float64) - probs
        """, expect="the softmax overflowed"),
    Impl("global-max-shift-underflows", "categorical_score", """
        def categorical_score(a, logits):
            a = np.asarray(a)
            logits = np.asarray(logits, dtype=np.float64)
            e = np.exp(logits - logits.max())
            probs = e / e.sum(axis=-1, keepdims=True)
            return (a[..., None] == np.arange(logits.shape[-1])).astype(np.float64) - probs
        """, expect="subtract logits.max(axis=-1, keepdims=True)"),
    Impl("flipped-sign", "categorical_score", """
        def categorical_score(a, logits):
            a = np.asarray(a)
            logits = np.asarray(logits, dtype=np.float64)
            e = np.exp(logits - logits.max(axis=-1, keepdims=True))
            probs = e / e.sum(axis=-1, keepdims=True)
            return probs - (a[..., None] == np.arange(logits.shape[-1])).astype(np.float64)
        """, expect="the sign is flipped"),
    Impl("missing-one-hot", "categorical_score", """
        def categorical_score(a, logits):
            logits = np.asarray(logits, dtype=np.float64)
            e = np.exp(logits - logits.max(axis=-1, keepdims=True))
            probs = e / e.sum(axis=-1, keepdims=True)
            return np.zeros(np.shape(a) + (1,)) - probs
        """, expect="the one-hot term is missing"),
    Impl("log-softmax-subtracted", "categorical_score", """
        def categorical_score(a, logits):
            a = np.asarray(a)
            logits = np.asarray(logits, dtype=np.float64)
            m = logits.max(axis=-1, keepdims=True)
            log_probs = logits - m - np.log(np.exp(logits - m).sum(axis=-1, keepdims=True))
            return (a[..., None] == np.arange(logits.shape[-1])).astype(np.float64) - log_probs
        """, expect="the log-probabilities were subtracted"),
    Impl("softmax-over-axis-0", "categorical_score", """
        def categorical_score(a, logits):
            a = np.asarray(a)
            logits = np.asarray(logits, dtype=np.float64)
            e = np.exp(logits - logits.max(axis=0, keepdims=True))
            probs = e / e.sum(axis=0, keepdims=True)
            return (a[..., None] == np.arange(logits.shape[-1])).astype(np.float64) - probs
        """, expect="normalised over the wrong axis"),
    Impl("one-hot-off-by-one", "categorical_score", """
        def categorical_score(a, logits):
            a = np.asarray(a)
            logits = np.asarray(logits, dtype=np.float64)
            e = np.exp(logits - logits.max(axis=-1, keepdims=True))
            probs = e / e.sum(axis=-1, keepdims=True)
            return (a[..., None] == np.arange(1, logits.shape[-1] + 1)).astype(np.float64) - probs
        """),
    Impl("returns-float32", "categorical_score", """
        def categorical_score(a, logits):
            a = np.asarray(a)
            logits = np.asarray(logits, dtype=np.float32)
            e = np.exp(logits - logits.max(axis=-1, keepdims=True))
            probs = e / e.sum(axis=-1, keepdims=True)
            return (a[..., None] == np.arange(logits.shape[-1])).astype(np.float32) - probs
        """, expect="expected dtype float64, got float32"),
    Impl("no-asarray-lists-fail", "categorical_score", """
        def categorical_score(a, logits):
            e = np.exp(logits - logits.max(axis=-1, keepdims=True))
            probs = e / e.sum(axis=-1, keepdims=True)
            return (np.asarray(a)[..., None] == np.arange(logits.shape[-1])).astype(np.float64) - probs
        """, expect="[FAIL] lists, a batch of one, K = 1"),
    Impl("k-from-first-axis", "categorical_score", """
        def categorical_score(a, logits):
            a = np.asarray(a)
            logits = np.asarray(logits, dtype=np.float64)
            k = len(logits)
            e = np.exp(logits - logits.max(axis=-1, keepdims=True))
            probs = e / e.sum(axis=-1, keepdims=True)
            return np.eye(k)[a] - probs
        """),
    Impl("one-hot-without-broadcasting", "categorical_score", """
        def categorical_score(a, logits):
            a = np.asarray(a)
            logits = np.asarray(logits, dtype=np.float64)
            e = np.exp(logits - logits.max(axis=-1, keepdims=True))
            probs = e / e.sum(axis=-1, keepdims=True)
            one_hot = np.zeros_like(probs)
            np.put_along_axis(one_hot, a[..., None], 1.0, axis=-1)
            return one_hot - probs
        """, expect="[FAIL] broadcasting a against logits[..., 0]"),
]

# --- 1.2 categorical_score: correct alternatives ------------------------------------------------

CATEGORICAL_CORRECT = [
    Impl("scipy-softmax-and-eye", "categorical_score", """
        import scipy.special

        def categorical_score(a, logits):
            logits = np.asarray(logits, dtype=np.float64)
            return np.eye(logits.shape[-1])[np.asarray(a)] - scipy.special.softmax(logits, axis=-1)
        """),
    Impl("logsumexp-put-along-axis", "categorical_score", """
        from scipy.special import logsumexp

        def categorical_score(a, logits):
            logits = np.asarray(logits, dtype=np.float64)
            a = np.asarray(a)
            batch = np.broadcast_shapes(a.shape, logits.shape[:-1])
            probs = np.broadcast_to(np.exp(logits - logsumexp(logits, axis=-1, keepdims=True)),
                                    batch + logits.shape[-1:])
            one_hot = np.zeros(probs.shape)
            np.put_along_axis(one_hot, np.broadcast_to(a, batch)[..., None], 1.0, axis=-1)
            return one_hot - probs
        """),
    Impl("explicit-loops", "categorical_score", """
        import math

        def categorical_score(a, logits):
            logits = np.asarray(logits, dtype=np.float64)
            k = logits.shape[-1]
            a, rows = np.broadcast_arrays(np.asarray(a)[..., None], logits)
            out = np.zeros(rows.shape)
            for index in np.ndindex(rows.shape[:-1]):
                row = rows[index]
                top = max(row)
                exps = [math.exp(v - top) for v in row]
                total = sum(exps)
                for j in range(k):
                    out[index + (j,)] = (1.0 if a[index + (0,)] == j else 0.0) - exps[j] / total
            return out
        """),
]

# --- 1.3 autograd_score: wrong ------------------------------------------------------------------

AUTOGRAD_MUTANTS = [
    Impl("gradient-of-sum", "autograd_score", """
        def autograd_score(log_prob, theta, x):
            theta = theta.detach().clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(log_prob(theta, x).sum(), theta)
            return grad
        """, expect="gradient of the summed log-probability"),
    Impl("gradient-of-mean", "autograd_score", """
        def autograd_score(log_prob, theta, x):
            theta = theta.detach().clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(log_prob(theta, x).mean(), theta)
            return grad
        """, expect="gradient of the mean log-probability"),
    Impl("backward-on-callers-theta", "autograd_score", """
        def autograd_score(log_prob, theta, x):
            theta.requires_grad_(True)
            rows = []
            for i in range(len(x)):
                theta.grad = None
                log_prob(theta, x)[i].backward()
                rows.append(theta.grad.clone())
            return torch.stack(rows)
        """, expect="leave the caller's gradient alone"),
    Impl("backward-then-reset-grad-to-none", "autograd_score", """
        def autograd_score(log_prob, theta, x):
            rows = []
            for i in range(len(x)):
                t = theta if theta.requires_grad else theta.detach().requires_grad_(True)
                t.grad = None
                log_prob(t, x)[i].backward()
                rows.append(t.grad.clone())
                t.grad = None
            return torch.stack(rows)
        """, expect="theta and theta.grad are left unchanged"),
    Impl("not-detached-create-graph", "autograd_score", """
        def autograd_score(log_prob, theta, x):
            theta = theta.detach().clone().requires_grad_(True)
            log_p = log_prob(theta, x)
            rows = [torch.autograd.grad(log_p[i], theta, retain_graph=True, create_graph=True)[0]
                    for i in range(log_p.shape[0])]
            return torch.stack(rows)
        """, expect="still attached to an autograd graph"),
    Impl("accumulates-without-zeroing", "autograd_score", """
        def autograd_score(log_prob, theta, x):
            theta = theta.detach().clone().requires_grad_(True)
            log_p = log_prob(theta, x)
            rows = []
            for i in range(log_p.shape[0]):
                log_p[i].backward(retain_graph=True)
                rows.append(theta.grad.clone())
            return torch.stack(rows)
        """, expect="the rows add up as you go"),
    Impl("always-float64", "autograd_score", """
        def autograd_score(log_prob, theta, x):
            theta = theta.detach().to(torch.float64).requires_grad_(True)
            log_p = log_prob(theta, x.double() if x.is_floating_point() else x)
            rows = [torch.autograd.grad(log_p[i], theta, retain_graph=True)[0] for i in range(log_p.shape[0])]
            return torch.stack(rows)
        """, expect="expected dtype torch.float32"),
    Impl("transposed", "autograd_score", """
        def autograd_score(log_prob, theta, x):
            theta = theta.detach().clone().requires_grad_(True)
            log_p = log_prob(theta, x)
            rows = [torch.autograd.grad(log_p[i], theta, retain_graph=True)[0] for i in range(log_p.shape[0])]
            return torch.stack(rows, dim=1)
        """, expect="the result is transposed"),
    Impl("no-retain-graph", "autograd_score", """
        def autograd_score(log_prob, theta, x):
            theta = theta.detach().clone().requires_grad_(True)
            log_p = log_prob(theta, x)
            rows = [torch.autograd.grad(log_p[i], theta)[0] for i in range(log_p.shape[0])]
            return torch.stack(rows)
        """, expect="raised RuntimeError: Trying to backward through the graph a second time"),
    Impl("assumes-theta-requires-grad", "autograd_score", """
        def autograd_score(log_prob, theta, x):
            log_p = log_prob(theta, x)
            rows = [torch.autograd.grad(log_p[i], theta, retain_graph=True)[0] for i in range(log_p.shape[0])]
            return torch.stack(rows)
        """, expect="theta does not require grad"),
    Impl("returns-numpy", "autograd_score", """
        def autograd_score(log_prob, theta, x):
            theta = theta.detach().clone().requires_grad_(True)
            log_p = log_prob(theta, x)
            rows = [torch.autograd.grad(log_p[i], theta, retain_graph=True)[0] for i in range(log_p.shape[0])]
            return torch.stack(rows).numpy()
        """, expect="expected a torch.Tensor, got np.ndarray"),
]

# --- 1.3 autograd_score: correct alternatives ---------------------------------------------------

AUTOGRAD_CORRECT = [
    Impl("torch-func-jacrev", "autograd_score", """
        def autograd_score(log_prob, theta, x):
            return torch.func.jacrev(lambda t: log_prob(t, x))(theta.detach())
        """),
    Impl("autograd-functional-jacobian", "autograd_score", """
        def autograd_score(log_prob, theta, x):
            jac = torch.autograd.functional.jacobian(lambda t: log_prob(t, x), theta.detach())
            return jac.detach()
        """),
    Impl("vmap-of-grad", "autograd_score", """
        def autograd_score(log_prob, theta, x):
            def one(t, xi):
                return log_prob(t, xi.unsqueeze(0))[0]
            return torch.func.vmap(torch.func.grad(one), in_dims=(None, 0))(theta.detach(), x)
        """),
    Impl("fresh-copy-per-sample-backward", "autograd_score", """
        def autograd_score(log_prob, theta, x):
            n = log_prob(theta.detach(), x).shape[0]
            out = torch.empty(n, theta.shape[0], dtype=theta.dtype)
            for i in range(n):
                t = theta.detach().clone().requires_grad_(True)
                log_prob(t, x)[i].backward()
                out[i] = t.grad
            return out
        """),
]


AUTOGRAD_MUTANTS.append(
    Impl("requires-grad-set-on-callers-theta", "autograd_score", """
        def autograd_score(log_prob, theta, x):
            theta.requires_grad_(True)
            log_p = log_prob(theta, x)
            rows = [torch.autograd.grad(log_p[i], theta, retain_graph=True)[0] for i in range(log_p.shape[0])]
            return torch.stack(rows)
        """, expect="theta.requires_grad changed"),
)

MUTANTS = GAUSSIAN_MUTANTS + CATEGORICAL_MUTANTS + AUTOGRAD_MUTANTS
CORRECT = GAUSSIAN_CORRECT + CATEGORICAL_CORRECT + AUTOGRAD_CORRECT
EXERCISES = ("gaussian_score", "categorical_score", "autograd_score")


define_tests(globals(), mutants=MUTANTS, correct=CORRECT, exercises=EXERCISES, imports=IMPORTS,
             slow_first="autograd_score")
