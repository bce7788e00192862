#!/usr/bin/env python3
"""Check the rate statistics of src/stats.c against independent references.

- normal quantile: mpmath sqrt(2) erfinv(2p - 1) (40 digits beyond p's), and scipy's
  norm.ppf / norm.isf;
- Wilson interval: the textbook formula evaluated in mpmath with the exact
  quantile;
- chi-square upper tail: mpmath's regularised upper incomplete gamma
  Q(df/2, x/2), and scipy's chi2.sf;
- pooled two-proportion z test: z and 2 P(Z > |z|) in mpmath, and scipy's
  norm.sf.

A value passes within 1e-9 relative of the reference.  Cases are seeded.
"""
import os
import random
import subprocess
import sys
import tempfile

import mpmath as mp
from scipy import stats

mp.mp.dps = 40
HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261123
REL_TOL = 1e-9


def build_driver(tmpdir):
    exe = os.path.join(tmpdir, "rates_driver")
    subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-o", exe,
                    "../../src/stats.c", "rates_driver.c", "-lm"],
                   cwd=HERE, check=True)
    return exe


def run_driver(exe, lines):
    out = subprocess.run([exe], input="".join(l + "\n" for l in lines),
                         capture_output=True, text=True, check=True).stdout
    return [[float(v) for v in line.split()] for line in out.splitlines()]


def quantile(p):
    # 2p - 1 must keep p's digits: work with as many more as p has zeros
    p = mp.mpf(p)
    with mp.workdps(40 + max(0, int(-mp.log10(min(p, 1 - p))))):
        return +(mp.sqrt(2) * mp.erfinv(2 * p - 1))


def rel(got, want):
    want = float(want)
    if got == want:
        return 0.0
    return abs(got - want) / abs(want) if want != 0 else abs(got)


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.worst = {}

    def check(self, name, case, got, want):
        e = rel(got, want)
        if e > self.worst.get(name, (-1, None))[0]:
            self.worst[name] = (e, case)
        if e <= REL_TOL:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL %s %s: got %.17g want %.17g (rel %.3g)"
                  % (name, case, got, float(want), e))


def main():
    rng = random.Random(SEED)
    cases = []
    # quantiles: tails down to 1e-300 and up to 1 - 1e-16, and the middle
    for _ in range(400):
        cases.append(("Q", 10 ** rng.uniform(-300, -0.31)))
    for _ in range(300):
        cases.append(("Q", rng.uniform(0.02, 0.98)))
    for _ in range(200):
        cases.append(("Q", 1 - 10 ** rng.uniform(-16, -1.7)))
    # Wilson intervals: n from 1 to 1e9, all success counts, usual levels
    for _ in range(600):
        n = int(10 ** rng.uniform(0, 9))
        s = rng.choice([0, n, rng.randint(0, n), min(n, rng.randint(0, 3))])
        conf = rng.choice([0.8, 0.9, 0.95, 0.99, 0.999, rng.uniform(0.01, 0.9999)])
        cases.append(("W", s, n, conf))
    # chi-square tails: df 1..10,000, x around and far beyond the mean
    for _ in range(800):
        df = rng.choice([1, 2, 3, 4, 5, 9, 20, rng.randint(1, 200), rng.randint(1, 10000)])
        x = df * 10 ** rng.uniform(-3, 1.3) if rng.random() < 0.8 else rng.uniform(0, 2000)
        cases.append(("C", x, df))
    # two-proportion tests: rates near and far apart, small and huge n
    for _ in range(600):
        na = int(10 ** rng.uniform(0.5, 7))
        nb = int(10 ** rng.uniform(0.5, 7))
        ra = rng.random()
        rb = min(1.0, max(0.0, ra + rng.gauss(0, 0.05)))
        cases.append(("Z", int(ra * na), na, int(rb * nb), nb))

    lines = []
    for c in cases:
        if c[0] in ("Q", "C"):
            lines.append("%s %s" % (c[0], " ".join(repr(float(v)) for v in c[1:])))
        elif c[0] == "W":
            lines.append("W %d %d %r" % c[1:])
        else:
            lines.append("Z %d %d %d %d" % c[1:])
    with tempfile.TemporaryDirectory() as tmp:
        results = run_driver(build_driver(tmp), lines)
    assert len(results) == len(cases)

    t = Tally()
    for c, got in zip(cases, results):
        kind = c[0]
        if kind == "Q":
            p = c[1]
            t.check("quantile/mpmath", c, got[0], quantile(p))
            ref = stats.norm.ppf(p) if p < 0.5 else stats.norm.isf(1 - p)
            # scipy's isf loses digits near 1; compare with it only where
            # 1 - p is exact
            if p < 0.5 or (1 - (1 - p)) == p:
                t.check("quantile/scipy", c, got[0], ref)
        elif kind == "W":
            _, s, n, conf = c
            z = quantile(mp.mpf(0.5) + mp.mpf(conf) / 2)
            p = mp.mpf(s) / n
            centre = p + z * z / (2 * n)
            half = z * mp.sqrt(p * (1 - p) / n + z * z / (4 * mp.mpf(n) ** 2))
            den = 1 + z * z / n
            lo = 0 if s == 0 else (centre - half) / den
            hi = 1 if s == n else (centre + half) / den
            t.check("wilson/mpmath", c, got[0], lo)
            t.check("wilson/mpmath", c, got[1], hi)
        elif kind == "C":
            _, x, df = c
            want = mp.gammainc(mp.mpf(df) / 2, mp.mpf(x) / 2, mp.inf, regularized=True)
            t.check("chi2_sf/mpmath", c, got[0], want)
            sc = stats.chi2.sf(x, df)
            if sc > 1e-290:
                t.check("chi2_sf/scipy", c, got[0], sc)
        else:
            _, xa, na, xb, nb = c
            pooled = mp.mpf(xa + xb) / (na + nb)
            if pooled in (0, 1):
                if not (got[0] != got[0] and got[1] != got[1]):
                    t.failed += 1
                    print("FAIL z test %s: expected undefined" % (c,))
                else:
                    t.passed += 1
                continue
            se = mp.sqrt(pooled * (1 - pooled) * (mp.mpf(1) / na + mp.mpf(1) / nb))
            z = (mp.mpf(xa) / na - mp.mpf(xb) / nb) / se
            if z == 0:
                t.check("z_test/mpmath", c, got[1], 1)
                continue
            t.check("z_test/mpmath", c, got[0], z)
            t.check("z_test/mpmath", c, got[1], mp.erfc(abs(z) / mp.sqrt(2)))
            t.check("z_test/scipy", c, got[1], 2 * stats.norm.sf(abs(float(z))))

    print("%d cases" % len(cases))
    for name, (e, case) in sorted(t.worst.items()):
        print("max rel err %-16s %.3g at %s" % (name, e, case))
    print("rates: %d passed, %d failed" % (t.passed, t.failed))
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
