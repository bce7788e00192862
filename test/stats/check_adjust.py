#!/usr/bin/env python3
"""Check the p-value adjustments of src/stats.c (cx_adjust_p) against their
definitions, evaluated directly in exact rational arithmetic:

- Benjamini-Hochberg: q_i = min over j with p_j >= p_i of min(1, m p_j / r_j),
  r_j = the number of p-values <= p_j;
- Holm: a_i = max over j with p_j <= p_i of min(1, (m - s_j) p_j),
  s_j = the number of p-values < p_j;
- none: the p-values themselves.

These are O(m^2) readings of the published step-up and step-down procedures,
sharing nothing with the sorted cumulative passes of the C code.  Cases are
seeded: uniform p-values, p-values with ties, zeros and ones, and mixtures of
true effects and noise.  A value passes within 1e-12 relative of the exact
reference.
"""
import os
import random
import subprocess
import sys
import tempfile
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261125
REL_TOL = 1e-12


def build_driver(tmpdir):
    exe = os.path.join(tmpdir, "adjust_driver")
    subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-o", exe,
                    "../../src/stats.c", "adjust_driver.c", "-lm"],
                   cwd=HERE, check=True)
    return exe


def bh(p):
    m = len(p)
    exact = [Fraction(x) for x in p]
    r = [sum(1 for x in exact if x <= pj) for pj in exact]
    out = []
    for pi in exact:
        best = Fraction(1)
        for pj, rj in zip(exact, r):
            if pj >= pi:
                best = min(best, m * pj / rj)
        out.append(best)
    return out


def holm(p):
    m = len(p)
    exact = [Fraction(x) for x in p]
    below = [sum(1 for x in exact if x < pj) for pj in exact]
    out = []
    for pi in exact:
        best = Fraction(0)
        for pj, sj in zip(exact, below):
            if pj <= pi:
                best = max(best, min(Fraction(1), (m - sj) * pj))
        out.append(best)
    return out


def gen_cases(rng):
    cases = []
    for _ in range(150):
        m = rng.choice([1, 2, 3, 5, 10, 40, 120])
        kind = rng.choice(["uniform", "ties", "edges", "mixture"])
        if kind == "uniform":
            p = [rng.random() for _ in range(m)]
        elif kind == "ties":
            pool = [rng.random() for _ in range(max(1, m // 4))]
            p = [rng.choice(pool) for _ in range(m)]
        elif kind == "edges":
            p = [rng.choice([0.0, 1.0, rng.random(), 1e-300, 0.05]) for _ in range(m)]
        else:
            p = [rng.random() ** 8 if rng.random() < 0.3 else rng.random() for _ in range(m)]
        cases.append(p)
    return cases


def close(got, want):
    want = float(want)
    if want == 0.0:
        return got == 0.0
    return abs(got - want) <= REL_TOL * abs(want)


def main():
    rng = random.Random(SEED)
    cases = gen_cases(rng)
    with tempfile.TemporaryDirectory() as tmp:
        exe = build_driver(tmp)
        lines = []
        for p in cases:
            for method in ("none", "holm", "bh"):
                lines.append("%s %d %s" % (method, len(p), " ".join(repr(x) for x in p)))
        out = subprocess.run([exe], input="\n".join(lines) + "\n",
                             capture_output=True, text=True, check=True).stdout.splitlines()
    passed = failed = 0
    k = 0
    for p in cases:
        refs = {"none": [Fraction(x) for x in p], "holm": holm(p), "bh": bh(p)}
        for method in ("none", "holm", "bh"):
            got = [float(v) for v in out[k].split()]
            k += 1
            for i, (g, w) in enumerate(zip(got, refs[method])):
                if close(g, w):
                    passed += 1
                else:
                    failed += 1
                    if failed <= 10:
                        print("FAIL %s m=%d i=%d got %r want %r" % (method, len(p), i, g, float(w)))
    print("adjust: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
