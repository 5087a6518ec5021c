"""Discrete optimisers on a FiniteSumLoss with real minibatches: SGD, heavy ball, Adam.

These are the algorithms the SDE models approximate (DESIGN.md section 1), run exactly as in a
training loop, in parallel over independent runs (``numba.prange``), each run with its own random
stream ``(seed, run)`` so results are identical for any thread count:

* SGD / heavy ball:  theta_{k+1} = theta_k - lr g_k + momentum (theta_k - theta_{k-1}); with
  ``velocities=True`` also v_k = (theta_k - theta_{k-1}) / lr, the phase-space point (theta, v) at
  t = lr k of the momentum SDE;
* Adam:  m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,
  theta -= lr (m / (1 - b1^k)) / (sqrt(v / (1 - b2^k)) + eps),

with g_k the mean per-sample gradient over a minibatch of ``batch_size`` indices drawn uniformly
**with replacement**, or **without** (shuffled epochs: a Fisher-Yates permutation per epoch, batches
taken consecutively; a batch that straddles two epochs takes the rest of one and the start of the
next). Continuous time is t = lr k.

The per-sample gradients of the three built-in FiniteSumLoss models (``linear_regression``,
``logistic_regression``, ``nonlinear``: recognised by ``loss.name``) are compiled in; any other loss
needs ``per_sample_gradient=``, an ``njit`` function ``(theta, x_i, y_i, out)`` writing the gradient
of l(theta; x_i, y_i) into ``out`` (``x_i`` the feature row, shape (p,)).
"""

from __future__ import annotations

import math
import types

import numpy as np
from numba import njit, prange

from .domains import Box, HalfSpace
from .results import ExitTimes, Iterates
from .rng import seed_stream, uniform

__all__ = ["sgd", "adam", "BUILTIN_KINDS", "sample_gradient_numpy"]

BUILTIN_KINDS = {"linear_regression": 0, "logistic_regression": 1, "nonlinear": 2}


@njit(cache=True, inline="always")
def _builtin_gradient(kind, theta, x, y, out):
    if kind == 0:  # l = (x . theta - y)^2 / 2
        r = -y
        for j in range(theta.shape[0]):
            r += x[j] * theta[j]
        for j in range(theta.shape[0]):
            out[j] = r * x[j]
    elif kind == 1:  # l = log(1 + exp(-y x . theta))
        m = y * (theta[0] * x[0] + theta[1] * x[1])
        w = -y / (1.0 + math.exp(m)) if m > -30.0 else -y
        out[0] = w * x[0]
        out[1] = w * x[1]
    else:  # l = (a tanh(b x) - y)^2 / 2
        a, b = theta[0], theta[1]
        t = math.tanh(b * x[0])
        r = a * t - y
        out[0] = r * t
        out[1] = r * a * x[0] * (1.0 - t * t)


def sample_gradient_numpy(kind: str, theta, x, y) -> np.ndarray:
    """Numpy twin of the compiled per-sample gradients (for tests)."""
    theta, x = np.asarray(theta, float), np.asarray(x, float)
    if kind == "linear_regression":
        return (x @ theta - y) * x
    if kind == "logistic_regression":
        return -y / (1.0 + np.exp(y * x @ theta)) * x
    t = np.tanh(theta[1] * x[0])
    r = theta[0] * t - y
    return np.array([r * t, r * theta[0] * x[0] * (1 - t * t)])


@njit(parallel=True, cache=True)
def _run_builtin(
    kind,
    X,
    Y,
    theta0,
    seed,
    algo,
    lr,
    batch_size,
    replacement,
    momentum,
    b1,
    b2,
    eps,
    n_steps,
    record,
    use_domain,
    A,
    c,
    out_theta,
    out_exit,
    out_loc,
):
    n_runs, p = theta0.shape
    N = X.shape[0]
    n_rec = record.shape[0]
    for run_index in prange(n_runs):
        rng = np.empty(2, dtype=np.uint64)
        seed_stream(rng, seed, run_index)
        theta = theta0[run_index].copy()
        prev = theta.copy()
        g = np.zeros(p)
        gi = np.zeros(p)
        m = np.zeros(p)
        v = np.zeros(p)
        perm = np.arange(N)
        pos = N  # forces a shuffle before the first batch
        r = 0
        while r < n_rec and record[r] == 0:
            out_theta[r, run_index, :] = theta
            r += 1
        exit_k = -1
        for k in range(1, n_steps + 1):
            g[:] = 0.0
            for _ in range(batch_size):
                if replacement:
                    i = int(uniform(rng) * N)
                else:
                    if pos == N:
                        for a in range(N - 1, 0, -1):
                            b = int(uniform(rng) * (a + 1))
                            perm[a], perm[b] = perm[b], perm[a]
                        pos = 0
                    i = perm[pos]
                    pos += 1
                _builtin_gradient(kind, theta, X[i], Y[i], gi)
                for j in range(p):
                    g[j] += gi[j]
            for j in range(p):
                g[j] /= batch_size
            if algo == 0:
                for j in range(p):
                    step = -lr * g[j] + momentum * (theta[j] - prev[j])
                    prev[j] = theta[j]
                    theta[j] += step
            else:
                c1 = 1.0 - b1**k
                c2 = 1.0 - b2**k
                for j in range(p):
                    m[j] = b1 * m[j] + (1.0 - b1) * g[j]
                    v[j] = b2 * v[j] + (1.0 - b2) * g[j] * g[j]
                    theta[j] -= lr * (m[j] / c1) / (math.sqrt(v[j] / c2) + eps)
            while r < n_rec and record[r] == k:
                out_theta[r, run_index, :] = theta
                r += 1
            if use_domain:
                outside = False
                for f in range(A.shape[0]):
                    s = 0.0
                    for j in range(p):
                        s += A[f, j] * theta[j]
                    if s >= c[f]:
                        outside = True
                if outside:
                    exit_k = k
                    break
        while r < n_rec:
            out_theta[r, run_index, :] = np.nan
            r += 1
        out_exit[run_index] = exit_k
        out_loc[run_index, :] = theta


_CUSTOM: dict = {}


def _custom_kernel(per_sample_gradient):
    """The run loop of ``_run_builtin`` with the user's gradient in place of the built-in ones.

    The same Python code is recompiled with ``_builtin_gradient`` bound to a wrapper of the user's
    function (not cached on disk: the function's identity changes between processes).
    """
    if per_sample_gradient not in _CUSTOM:

        @njit(inline="always")
        def gradient(kind, theta, x, y, out):
            per_sample_gradient(theta, x, y, out)

        py = _run_builtin.py_func
        namespace = dict(py.__globals__, _builtin_gradient=gradient)
        clone = types.FunctionType(py.__code__, namespace, "_run_custom", py.__defaults__, py.__closure__)
        _CUSTOM[per_sample_gradient] = njit(parallel=True)(clone)
    return _CUSTOM[per_sample_gradient]


def _run(
    loss,
    algo,
    name,
    lr,
    batch_size,
    n_steps,
    theta0,
    n_runs,
    seed,
    replacement,
    momentum,
    betas,
    eps,
    record,
    domain,
    per_sample_gradient,
    velocities=False,
):
    X, Y = loss.data
    X = np.ascontiguousarray(np.asarray(X, float).reshape(len(Y), -1))
    Y = np.ascontiguousarray(np.asarray(Y, float))
    N = len(Y)
    p = loss.ndim
    if per_sample_gradient is not None:
        kernel, kind = _custom_kernel(per_sample_gradient), -1
    elif getattr(loss, "name", None) in BUILTIN_KINDS:
        kernel, kind = _run_builtin, BUILTIN_KINDS[loss.name]
    else:
        raise ValueError(
            f"loss: {loss!r} is not one of the built-in models {tuple(BUILTIN_KINDS)}; pass "
            "per_sample_gradient=, an njit function (theta, x_i, y_i, out)"
        )
    lr = float(lr)
    if not lr > 0:
        raise ValueError(f"lr: expected a positive learning rate, got {lr!r}")
    batch_size, n_steps, n_runs = int(batch_size), int(n_steps), int(n_runs)
    if not 1 <= batch_size <= (10**9 if replacement else N):
        raise ValueError(f"batch_size: expected 1 <= batch_size <= N = {N} without replacement, got {batch_size}")
    theta0 = np.asarray(theta0, dtype=float)
    starts = theta0 if theta0.ndim == 2 else np.repeat(theta0.reshape(1, -1), n_runs, axis=0)
    if starts.shape != (n_runs, p):
        raise ValueError(f"theta0: expected a point with {p} coordinates or ({n_runs}, {p}) starts")
    starts = np.ascontiguousarray(starts)
    record = np.unique(np.asarray([0, n_steps] if record is None else record, dtype=np.int64))
    if record[0] < 0 or record[-1] > n_steps:
        raise ValueError(f"record: iteration counts must lie in [0, n_steps = {n_steps}]")
    wanted = record
    if velocities:  # also keep theta_{k-1} for v_k = (theta_k - theta_{k-1}) / lr
        record = np.union1d(record, record[record > 0] - 1)
    if domain is not None and not isinstance(domain, (Box, HalfSpace)):
        raise TypeError("domain: discrete runs take a Box or HalfSpace")
    A, c = domain.halfspaces() if domain is not None else (np.zeros((0, p)), np.zeros(0))
    out_theta = np.empty((len(record), n_runs, p))
    out_exit = np.empty(n_runs, dtype=np.int64)
    out_loc = np.empty((n_runs, p))
    b1, b2 = betas
    kernel(
        kind,
        X,
        Y,
        starts,
        int(seed),
        algo,
        lr,
        batch_size,
        bool(replacement),
        float(momentum),
        float(b1),
        float(b2),
        float(eps),
        n_steps,
        record,
        domain is not None,
        np.ascontiguousarray(A, dtype=float),
        np.asarray(c, dtype=float),
        out_theta,
        out_exit,
        out_loc,
    )
    exits = None
    if domain is not None:
        censored = out_exit < 0
        iters = np.where(censored, n_steps, out_exit)
        exits = ExitTimes(
            times=lr * iters,
            censored=censored,
            locations=out_loc,
            n_paths=n_runs,
            dt=lr,
            seed=int(seed),
            t_max=lr * n_steps,
            iterations=iters,
        )
    velocity = None
    if velocities:
        at = np.searchsorted(record, wanted)
        before = np.searchsorted(record, np.maximum(wanted - 1, 0))
        velocity = (out_theta[at] - out_theta[before]) / lr  # k = 0: the run starts at rest, v = 0
        out_theta = out_theta[at]
        record = wanted
    return Iterates(
        iterations=record,
        times=lr * record,
        theta=out_theta,
        exits=exits,
        algorithm=name,
        seed=int(seed),
        velocity=velocity,
    )


def sgd(
    loss,
    lr,
    batch_size,
    n_steps,
    theta0,
    n_runs=1,
    seed=0,
    replacement=True,
    momentum=0.0,
    record=None,
    domain=None,
    per_sample_gradient=None,
    velocities=False,
) -> Iterates:
    """Minibatch SGD (heavy ball when ``momentum > 0``) on a FiniteSumLoss.

    Parameters
    ----------
    loss : FiniteSumLoss
    lr : float
        Learning rate eta (time t = eta k).
    batch_size : int
    n_steps : int
        Number of iterations.
    theta0 : point or (n_runs, p) array
    n_runs, seed : independent runs; run r uses stream (seed, r).
    replacement : bool
        Minibatches with replacement (default) or shuffled epochs.
    momentum : float
        beta of the heavy-ball update (0: plain SGD).
    record : sequence of int, optional
        Iterations at which to keep theta (default ``[0, n_steps]``); NaN after an exit.
    domain : Box or HalfSpace, optional
        Stop each run at its first iterate outside; ``Iterates.exits`` has the exit iterations and
        times ``t = lr k``, censored at ``n_steps``.
    per_sample_gradient : njit function, optional
        ``(theta, x_i, y_i, out)`` for losses other than the built-in models.
    velocities : bool
        Also return the heavy ball's phase-space velocities v_k = (theta_k - theta_{k-1}) / lr at
        the recorded iterations (``Iterates.velocity``; v_0 = 0, the run starts at rest), so that
        ``Iterates.phase_space(i)`` gives points (theta, v) at time t = lr k to compare with the
        SDE and the kinetic PDE of :class:`fpsolve.MomentumSGD` (DESIGN.md section 1).
    """
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum: expected 0 <= momentum < 1, got {momentum!r}")
    name = "heavy-ball" if momentum > 0 else "sgd"
    return _run(
        loss,
        0,
        name,
        lr,
        batch_size,
        n_steps,
        theta0,
        n_runs,
        seed,
        replacement,
        momentum,
        (0.9, 0.999),
        1e-8,
        record,
        domain,
        per_sample_gradient,
        velocities=velocities,
    )


def adam(
    loss,
    lr,
    batch_size,
    n_steps,
    theta0,
    n_runs=1,
    seed=0,
    betas=(0.9, 0.999),
    eps=1e-8,
    replacement=True,
    record=None,
    domain=None,
    per_sample_gradient=None,
) -> Iterates:
    """Adam (Kingma & Ba 2015, with bias correction) on a FiniteSumLoss; arguments as :func:`sgd`."""
    b1, b2 = betas
    if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
        raise ValueError(f"betas: expected two numbers in [0, 1), got {betas!r}")
    return _run(
        loss,
        1,
        "adam",
        lr,
        batch_size,
        n_steps,
        theta0,
        n_runs,
        seed,
        replacement,
        0.0,
        (b1, b2),
        eps,
        record,
        domain,
        per_sample_gradient,
    )
