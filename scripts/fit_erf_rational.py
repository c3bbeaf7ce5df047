"""Fits the rational function keras-bridge's wasm SIMD Erf kernel evaluates (src/backends/wasm-simd/erf.ts).

    erf(x) ~ x * P(x^2) / Q(x^2) on [-4, 4], P of degree 5, Q of degree 5 with Q(0) = 1

(erf(x) rounds to +-1 in float32 beyond |x| = 3.92, so the kernel clamps x to [-4, 4] and the
result to [-1, 1]). The fit minimises the largest relative error: linearised least squares
(Sanathanan-Koerner: x P - erf Q = 0, weighted by the last Q), reweighted by each point's error
(Lawson) towards the minimax fit. It then evaluates the float32 coefficients in float32, in the
kernel's order of operations, against math.erf rounded to float32, and prints the error in units
in the last place. Run: .venv/bin/python scripts/fit_erf_rational.py
"""

import math

import numpy as np

P_DEGREE = 5
Q_DEGREE = 5
CLAMP = 4.0


def fit(iterations: int = 60) -> tuple[np.ndarray, np.ndarray, float]:
    x = np.linspace(1e-6, CLAMP, 20000)
    e = np.array([math.erf(v) for v in x])
    t = x * x
    weights = np.ones_like(x)
    q_last = np.ones_like(x)
    error = np.zeros_like(x)
    p = q = np.zeros(1)
    for _ in range(iterations):
        columns = [x * t**i for i in range(P_DEGREE + 1)] + [-e * t**j for j in range(1, Q_DEGREE + 1)]
        a = np.stack(columns, 1) / (e * q_last)[:, None]
        b = 1.0 / q_last
        root = np.sqrt(weights)
        c, *_ = np.linalg.lstsq(a * root[:, None], b * root, rcond=None)
        p, q = c[: P_DEGREE + 1], np.concatenate([[1.0], c[P_DEGREE + 1 :]])
        q_last = np.polyval(q[::-1], t)
        error = (x * np.polyval(p[::-1], t) / q_last - e) / e
        weights = weights * (np.abs(error) + 1e-30)
        weights /= weights.mean()
    return p.astype(np.float32), q.astype(np.float32), float(np.abs(error).max())


def evaluate_float32(x: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The kernel's operations, each rounded to float32: clamp, t = x*x, Horner for P and Q, x*P / Q, clamp."""
    f32 = np.float32
    xc = np.minimum(np.maximum(x.astype(f32), f32(-CLAMP)), f32(CLAMP))
    t = xc * xc
    num = np.full_like(t, p[-1])
    for c in p[-2::-1]:
        num = num * t + c
    den = np.full_like(t, q[-1])
    for c in q[-2::-1]:
        den = den * t + c
    return np.minimum(np.maximum((xc * num) / den, f32(-1)), f32(1))


def main() -> None:
    p, q, fitted = fit()
    rng = np.random.default_rng(0)
    xs = np.concatenate([rng.uniform(0, 4.5, 1_000_000), np.exp(rng.uniform(np.log(1e-30), 0, 200_000))]).astype(np.float32)
    exact = np.array([math.erf(float(v)) for v in xs]).astype(np.float32)
    got = evaluate_float32(xs, p, q)
    ulps = np.abs(got.view(np.int32).astype(np.int64) - exact.view(np.int32).astype(np.int64))
    print(f"largest relative error in float64: {fitted:.3g}")
    print(f"float32 evaluation: largest {ulps.max()} ulps (at x = {xs[ulps.argmax()]}), mean {ulps.mean():.3f}")
    print("P:", ", ".join(repr(float(c)) for c in p))
    print("Q:", ", ".join(repr(float(c)) for c in q))


if __name__ == "__main__":
    main()
