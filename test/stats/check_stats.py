#!/usr/bin/python3
"""Check src/stats.c against scipy (and, where they disagree, mpmath).

Builds stats_driver.c with src/stats.c into a temporary directory, feeds it a
few thousand seeded random 2x2 tables (margins n_ac, n_a, n_c, n) of many
shapes and compares each of its four outputs with scipy:

  logpmf     scipy.stats.hypergeom.logpmf(n_ac, n, n_c, n_a)
  greater    scipy.stats.fisher_exact(table, 'greater').pvalue
  less       scipy.stats.fisher_exact(table, 'less').pvalue
  two_sided  scipy.stats.fisher_exact(table, 'two-sided').pvalue

A value passes when it is within 1e-9 relative of the reference, or both are
below 1e-290 in magnitude; for the log pmf an absolute difference <= 1e-12
also passes (a relative error of 1e-12 in the pmf itself: log(pmf) for a pmf
within 1e-7 of 1 is only ~1e-16 accurate absolutely in any log-space method).

scipy is not always accurate enough to be the judge (scipy 1.10.1, Debian):
  * hypergeom.logpmf is a sum of betaln() terms that cancel
    catastrophically; at n ~ 1e7 its pmf-relative error reaches ~3e-8.
  * hypergeom.pmf/cdf/sf (Boost) and hence fisher_exact carry relative
    errors of up to ~2e-9 for n in the millions (e.g. the pmf of
    n_ac=0, n_a=n_c=1, n=1e7 comes out 3e-10 too large).
So whenever C and scipy disagree, the value is recomputed with mpmath at 40
digits (log-gamma for the pmf, the exact term ratio for the tails) and the
C value passes if it matches that; the scipy discrepancy is then listed.
In addition every 8th table, and all constructed near-tie tables, is
checked against mpmath directly.  Without mpmath (Debian: python3-mpmath)
such disagreements count as failures.

Two-sided ties.  stats.c follows R's fisher.test: x is "at least as
extreme" as the observed table when pmf(x) <= pmf(obs) * (1 + 1e-7).
scipy 1.10 uses 1 + 1e-14, looks for such x only on the side of the mode
opposite the observation, and returns 1 early when pmf(obs) is within
1e-14 of pmf(mode).  Where some x has pmf(x)/pmf(obs) in (1 + 1e-14,
1 + 1e-7] the two disagree: R counts x, scipy does not, so scipy's p value
is smaller, by pmf(x) or by the whole tail starting at x.  The tables
constructed in gen_near_ties() put the observation next to a mode it
nearly ties with (pmf(mode)/pmf(obs) - 1 from 0 to 1e-5): R (and C) give
exactly 1 whenever that ratio is <= 1e-7; scipy gives 1 - pmf(mode) - ...
(about 0.999) for some of them and 1 for others, and for large n even for
an exact tie (2800399, 3999599, 7000999, 9998998), because Boost's pmf
noise (~1e-10) is far above scipy's 1e-14 tolerance.  Small exact ties
and symmetric tables agree.  For these tables the C value is checked
against the mpmath value of the R rule; scipy's value is shown only.

Usage: /usr/bin/python3 check_stats.py [-v]
Ends with the line "stats: N passed, M failed"; exit status 1 on failure.
"""

import math
import os
import random
import subprocess
import sys
import tempfile

from scipy.stats import fisher_exact, hypergeom

try:
    import mpmath as mp
    mp.mp.dps = 40
except ImportError:                     # pragma: no cover
    mp = None

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20240611
REL_TOL = 1e-9
TINY = 1e-290
LOG_ABS_TOL = 1e-12
R_RELERR = 1e-7
NMAX = 10 ** 7
EXACT_EVERY = 8
KINDS = ("logpmf", "greater", "less", "two")

VERBOSE = "-v" in sys.argv[1:]


def build_driver(tmpdir):
    exe = os.path.join(tmpdir, "stats_driver")
    cmd = ["cc", "-O2", "-Wall", "-Wextra", "-o", exe,
           "../../src/stats.c", "stats_driver.c", "-lm"]
    subprocess.run(cmd, cwd=HERE, check=True)
    return exe


def run_driver(exe, cases):
    text = "".join("%d %d %d %d\n" % c for c in cases)
    out = subprocess.run([exe], input=text, capture_output=True, text=True,
                         check=True).stdout.split("\n")
    return [dict(zip(KINDS, (float(v) for v in line.split())))
            for line in out if line]


# ---------------------------------------------------------------- cases

def support(n_a, n_c, n):
    return max(0, n_a + n_c - n), min(n_a, n_c)


def mode_of(n_a, n_c, n):
    lo, hi = support(n_a, n_c, n)
    return min(max((n_a + 1) * (n_c + 1) // (n + 2), lo), hi)


def pick_x(rng, n_a, n_c, n, how):
    lo, hi = support(n_a, n_c, n)
    mean = n_a * n_c / n
    sd = math.sqrt(mean * (n - n_a) / n * (n - n_c) / max(n - 1, 1))
    if how == "uniform":
        x = rng.randint(lo, hi)
    elif how == "near":
        x = round(mean + rng.gauss(0, 3) * sd)
    elif how == "tail":
        x = round(mean + rng.choice((-1, 1)) * rng.uniform(6, 60) * sd
                  + rng.choice((-1, 1)) * rng.randint(1, 3))
    elif how == "edge":
        x = rng.choice((lo, hi, lo + 1, hi - 1, lo + 2, hi - 2))
    elif how == "mode":
        x = mode_of(n_a, n_c, n) + rng.randint(-2, 2)
    else:
        raise ValueError(how)
    return min(max(x, lo), hi)


def pick_margin(rng, n):
    r = rng.random()
    if r < 0.35:
        return rng.randint(0, n)
    if r < 0.60:                      # small, log-uniform
        return min(n, int(math.exp(rng.uniform(0, math.log(n + 1)))))
    if r < 0.80:                      # close to n
        return max(0, n - int(math.exp(rng.uniform(0, math.log(n + 1)))))
    if r < 0.90:
        return rng.choice((0, n, 1, n - 1)) if n > 1 else rng.randint(0, n)
    return n // 2 + rng.randint(-2, 2) if n > 4 else rng.randint(0, n)


def log_uniform_int(rng, a, b):
    return int(math.exp(rng.uniform(math.log(a), math.log(b))))


def gen_cases():
    rng = random.Random(SEED)
    cases = []

    def add(n_ac, n_a, n_c, n):
        lo, hi = support(n_a, n_c, n)
        assert n >= 1 and 0 <= n_a <= n and 0 <= n_c <= n and lo <= n_ac <= hi
        cases.append((n_ac, n_a, n_c, n))

    hows = ("uniform", "near", "tail", "edge", "mode")
    # random shapes: n in three bands, margins of all kinds
    for band, count in (((1, 30), 900), ((30, 5000), 900),
                        ((5000, NMAX), 1500)):
        for _ in range(count):
            if band[0] == 1:
                n = rng.randint(1, 30)
            else:
                n = log_uniform_int(rng, *band)
            n_a, n_c = pick_margin(rng, n), pick_margin(rng, n)
            add(pick_x(rng, n_a, n_c, n, rng.choice(hows)), n_a, n_c, n)

    # n up to 1e7 with balanced margins: wide distributions (sd ~ 1500)
    for _ in range(300):
        n = rng.randint(NMAX // 2, NMAX)
        n_a = rng.randint(n // 4, 3 * n // 4)
        n_c = rng.randint(n // 4, 3 * n // 4)
        add(pick_x(rng, n_a, n_c, n, rng.choice(hows)), n_a, n_c, n)

    # p values near 1: observed at or next to the mode, all sizes
    for _ in range(300):
        n = log_uniform_int(rng, 1, NMAX)
        n_a, n_c = pick_margin(rng, n), pick_margin(rng, n)
        add(pick_x(rng, n_a, n_c, n, "mode"), n_a, n_c, n)

    # pmf of the observed table underflows (or is subnormal)
    for _ in range(200):
        n = log_uniform_int(rng, 2000, NMAX)
        n_a = rng.randint(n // 10, n - n // 10)
        n_c = rng.randint(n // 10, n - n // 10)
        add(pick_x(rng, n_a, n_c, n, rng.choice(("edge", "tail"))),
            n_a, n_c, n)

    # symmetric distributions (exact mirror ties): n_c = n/2 or n_a = n/2
    for _ in range(200):
        n = 2 * log_uniform_int(rng, 1, NMAX // 2)
        n_a, n_c = rng.randint(0, n), n // 2
        if rng.random() < 0.5:
            n_a, n_c = n_c, n_a
        add(pick_x(rng, n_a, n_c, n, rng.choice(hows)), n_a, n_c, n)

    # margins 0 or n
    for n in (1, 2, 7, 1000, NMAX):
        for n_a in (0, n):
            for n_c in sorted({0, 1, n // 3, n}):
                add(support(n_a, n_c, n)[0], n_a, n_c, n)
                add(support(n_a, n_c, n)[0], n_c, n_a, n)

    # hand-picked
    h = NMAX // 2
    for c in ((3, 5, 4, 10), (6, 8, 7, 13), (0, 1, 1, NMAX), (1, 1, 1, NMAX),
              (0, h, h, NMAX), (h // 2, h, h, NMAX), (h // 2 + 1, h, h, NMAX),
              (h // 2 + 30, h, h, NMAX), (h // 2 - 9000, h, h, NMAX),
              (1, 1, NMAX - 1, NMAX), (0, 1, NMAX - 1, NMAX),
              (5000, 10000, 10000, NMAX), (10000, 10000, 10000, NMAX)):
        add(*c)
    return cases


def gen_near_ties():
    """Tables whose observation nearly (or exactly) ties with the mode.

    pmf(m)/pmf(m-1) - 1 = r / (m (n - n_a - n_c + m)) where
    r = (n_a+1)(n_c+1) - m (n+2) is the remainder in the mode formula, so
    choosing n_c with (n_a+1)(n_c+1) = small r mod (n+2) (modular inverse)
    gives a near-tie between the mode and its lower neighbour; a remainder
    of n+2 - r gives one between the mode and its upper neighbour.  Exact
    ties (r = 0) come from n+2 = A*B, n_a+1 = A*s, n_c+1 = B*t.  The
    observation is the neighbour.  Returns (case, pmf(mode)/pmf(obs) - 1).
    """
    rng = random.Random(SEED + 1)
    out = []

    def add(obs, n_a, n_c, n):
        m = mode_of(n_a, n_c, n)
        f = n - n_a - n_c
        if obs < m:
            num, den = (n_c - obs) * (n_a - obs), (obs + 1) * (f + obs + 1)
        else:
            num, den = obs * (f + obs), (n_c - obs + 1) * (n_a - obs + 1)
        out.append(((obs, n_a, n_c, n), (num - den) / den))

    for r in (1, 7, 300, 20000, 400000, 5000000):
        for side in (-1, 1):
            n = rng.randint(NMAX // 2, NMAX) | 1         # n + 2 odd
            n_a = rng.randint(n // 4, n // 2) | 1        # n_a + 1 even
            m2 = n + 2
            while math.gcd(n_a + 1, m2) != 1:
                n_a += 2
            target = r if side > 0 else m2 - r
            n_c = (target * pow(n_a + 1, -1, m2)) % m2 - 1
            lo, hi = support(n_a, n_c, n)
            m = mode_of(n_a, n_c, n)
            if 0 <= n_c <= n and lo <= m - side <= hi:
                add(m - side, n_a, n_c, n)
    # exact ties: (A, B, s, t) -> n = A*B - 2, n_a = A*s - 1, n_c = B*t - 1
    for a, b, s, t in ((2, 5, 2, 1), (3, 7, 4, 2), (2000, 3000, 1500, 700),
                       (9999, 1000, 400, 7001), (3, 3333333, 1, 2)):
        n, n_a, n_c = a * b - 2, a * s - 1, b * t - 1
        m = mode_of(n_a, n_c, n)
        add(m - 1, n_a, n_c, n)
    return out


# ---------------------------------------------------------------- exact

class Exact:
    """40-digit reference values for one table (mpmath)."""

    def __init__(self, n_ac, n_a, n_c, n):
        self.k, self.K, self.D, self.N = n_ac, n_c, n_a, n
        self.lo, self.hi = support(n_a, n_c, n)
        self.mode = mode_of(n_a, n_c, n)
        lg = mp.loggamma
        K, D, N = self.K, self.D, self.N
        self.const = (lg(K + 1) + lg(N - K + 1) + lg(D + 1) + lg(N - D + 1)
                      - lg(N + 1))

    def lpmf(self, x):
        K, D, N, lg = self.K, self.D, self.N, mp.loggamma
        return self.const - (lg(x + 1) + lg(K - x + 1) + lg(D - x + 1)
                             + lg(N - K - D + x + 1))

    def tail(self, k, up):
        """P(X >= k) (up) or P(X <= k); k on the far side of the mode."""
        K, D, F = self.K, self.D, self.N - self.K - self.D
        t = s = mp.mpf(1)
        eps = mp.mpf(10) ** -36
        x = k
        while (x < self.hi) if up else (x > self.lo):
            if up:
                t = t * ((K - x) * (D - x)) / ((x + 1) * (F + x + 1))
                x += 1
            else:
                t = t * (x * (F + x)) / ((K - x + 1) * (D - x + 1))
                x -= 1
            s += t
            if t < s * eps:
                break
        return mp.exp(self.lpmf(k)) * s

    def greater(self):
        k = self.k
        if k > self.mode:
            return self.tail(k, True)
        return 1 - self.tail(k - 1, False) if k > self.lo else mp.mpf(1)

    def less(self):
        k = self.k
        if k < self.mode:
            return self.tail(k, False)
        return 1 - self.tail(k + 1, True) if k < self.hi else mp.mpf(1)

    def two(self):
        """R rule: sum of pmf(x) over pmf(x) <= pmf(obs) (1 + 1e-7)."""
        thr = self.lpmf(self.k) + mp.log1p(mp.mpf(R_RELERR))
        lo, hi, m = self.lo, self.hi, self.mode
        if self.lpmf(m) <= thr:
            return mp.mpf(1)
        p = mp.mpf(0)
        if self.lpmf(lo) <= thr:
            ok, bad = lo, m
            while bad - ok > 1:
                mid = (ok + bad) // 2
                ok, bad = (mid, bad) if self.lpmf(mid) <= thr else (ok, mid)
            p += self.tail(ok, False)
        if self.lpmf(hi) <= thr:
            ok, bad = hi, m
            while ok - bad > 1:
                mid = (ok + bad) // 2
                ok, bad = (mid, bad) if self.lpmf(mid) <= thr else (ok, mid)
            p += self.tail(ok, True)
        return min(p, mp.mpf(1))

    def value(self, kind):
        if kind == "logpmf":
            return float(self.lpmf(self.k))
        return float(getattr(self, kind)())


# ---------------------------------------------------------------- compare

def table_of(n_ac, n_a, n_c, n):
    return [[n_ac, n_a - n_ac], [n_c - n_ac, n - n_a - n_c + n_ac]]


def scipy_values(n_ac, n_a, n_c, n):
    tab = table_of(n_ac, n_a, n_c, n)
    return {
        "logpmf": float(hypergeom.logpmf(n_ac, n, n_c, n_a)),
        "greater": float(fisher_exact(tab, "greater").pvalue),
        "less": float(fisher_exact(tab, "less").pvalue),
        "two": float(fisher_exact(tab, "two-sided").pvalue),
    }


def close(got, want, kind):
    if math.isnan(got) or math.isnan(want):
        return False
    if got == want or (abs(got) < TINY and abs(want) < TINY):
        return True
    diff = abs(got - want)
    if kind == "logpmf" and diff <= LOG_ABS_TOL:
        return True
    return diff <= REL_TOL * max(abs(got), abs(want))


def relerr(got, want, kind=None):
    """Relative error; for the log pmf, the relative error of the pmf
    (= absolute error of its log) where |log pmf| < 1."""
    if got == want or (abs(got) < TINY and abs(want) < TINY):
        return 0.0
    scale = max(abs(got), abs(want))
    if kind == "logpmf":
        scale = max(scale, 1.0)
    return abs(got - want) / scale


class Tally:
    def __init__(self):
        self.passed = self.failed = 0
        self.worst = {}                 # (ref, kind) -> (err, case)

    def check(self, ref_name, kind, case, got, want, quiet_fail=False):
        e = relerr(got, want, kind)
        if e > self.worst.get((ref_name, kind), (-1.0,))[0]:
            self.worst[(ref_name, kind)] = (e, case)
        ok = close(got, want, kind)
        if not quiet_fail:
            self.count(ok, ref_name, kind, case, got, want, e)
        return ok

    def count(self, ok, ref_name, kind, case, got, want, e):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("MISMATCH %-7s n_ac=%d n_a=%d n_c=%d n=%d: C %.17g %s "
                  "%.17g (rel %.3g)" % ((kind,) + case + (got, ref_name,
                                                          want, e)))


def main():
    cases = gen_cases()
    ties = gen_near_ties()
    with tempfile.TemporaryDirectory() as tmp:
        exe = build_driver(tmp)
        results = run_driver(exe, cases + [c for c, _ in ties])
    res_cases, res_ties = results[:len(cases)], results[len(cases):]

    tally = Tally()
    scipy_off = []          # (kind, case, C, scipy, exact)
    for i, (case, got) in enumerate(zip(cases, res_cases)):
        sc = scipy_values(*case)
        ex = Exact(*case) if mp else None
        for kind in KINDS:
            if tally.check("scipy", kind, case, got[kind], sc[kind],
                           quiet_fail=True):
                tally.passed += 1
            elif ex is None:
                tally.count(False, "scipy", kind, case, got[kind], sc[kind],
                            relerr(got[kind], sc[kind], kind))
            else:
                want = ex.value(kind)
                if tally.check("mpmath", kind, case, got[kind], want):
                    scipy_off.append((kind, case, got[kind], sc[kind], want))
        if ex is not None and i % EXACT_EVERY == 0:
            for kind in KINDS:
                tally.check("mpmath", kind, case, got[kind], ex.value(kind))

    tie_lines = []
    for (case, ratio), got in zip(ties, res_ties):
        sc = scipy_values(*case)
        want = Exact(*case).two() if mp else sc["two"]
        tally.check("mpmath" if mp else "scipy", "two", case, got["two"],
                    float(want))
        tie_lines.append("  %s pmf(mode)/pmf(obs)-1=%.2g: C %.15g, R rule "
                         "%.15g, fisher_exact %.15g"
                         % (case, ratio, got["two"], want, sc["two"]))

    print("%d tables (%d random/constructed + %d near-tie); every %dth "
          "and all near-ties also checked against mpmath%s"
          % (len(cases) + len(ties), len(cases), len(ties), EXACT_EVERY,
             "" if mp else " (mpmath missing: skipped)"))
    for (ref_name, kind), (e, case) in sorted(tally.worst.items()):
        print("max rel err vs %-6s %-7s %.3g at %s" % (ref_name, kind, e,
                                                       case))
    print("%d values where scipy disagreed with C and C matched mpmath"
          % len(scipy_off))
    for kind in KINDS:
        errs = [(relerr(s, w, k), c) for k, c, _, s, w in scipy_off
                if k == kind]
        if errs:
            e, c = max(errs)
            print("  %-7s %4d values, scipy's worst rel err %.3g at %s"
                  % (kind, len(errs), e, c))
    if VERBOSE:
        for kind, case, c, s, w in scipy_off:
            print("  %-7s %s C %.17g scipy %.17g mpmath %.17g"
                  % (kind, case, c, s, w))
    print("near-tie tables (two-sided, R's 1e-7 rule vs scipy's 1e-14):")
    print("\n".join(tie_lines))
    if mp is None and tally.failed:
        print("note: mpmath is missing, so values where scipy itself is "
              "inaccurate (large n) or uses its 1e-14 tie rule count as "
              "failures; install python3-mpmath")
    print("stats: %d passed, %d failed" % (tally.passed, tally.failed))
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
