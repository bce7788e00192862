/*
 * stats.c - hypergeometric probabilities and Fisher's exact test (2x2).
 *
 * The point probabilities use the saddle-point expansion of
 *   C. Loader (2000), "Fast and Accurate Computation of Binomial
 *   Probabilities",
 * which writes log P as small, individually accurate terms (Stirling
 * remainders and the deviance bd0) instead of differences of huge
 * lgamma() values, so the relative error stays near machine precision
 * for large populations.  Tail sums start at the tail's inner end and walk
 * away from the mode with the exact pmf ratio, relative to the first term,
 * so nothing underflows before the final exp(); a tail that contains the
 * mode is computed as 1 - the complementary tail.
 */
#ifdef CX_IN_POSTGRES
/* inside the server, long sums stop when the query is cancelled */
#include "postgres.h"
#include "miscadmin.h"
#define CX_CHECK_INTERRUPTS() CHECK_FOR_INTERRUPTS()
#else
#define CX_CHECK_INTERRUPTS() ((void) 0)
#endif

#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdint.h>

/* Check for interrupts once per this many terms of a tail sum. */
#define CX_TERMS_PER_CHECK 65536

#define CX_2PI 6.2831853071795864769252867665590058  /* 2*pi */

/* Relative tolerance used by R's fisher.test for "equally probable". */
#define CX_TWO_SIDED_RELERR 1e-7

/* Stop a tail sum once a term is below this fraction of the sum so far. */
#define CX_TAIL_EPS 1e-17

/*
 * stirlerr(n) = log(n!) - log(sqrt(2*pi*n) * (n/e)^n), the error of
 * Stirling's formula.  Exact values (computed to 50 digits) for n < 16,
 * otherwise the asymptotic series 1/12n - 1/360n^3 + 1/1260n^5 - ...,
 * truncated where the next term is below 1e-16.
 */
static double
stirlerr(double n)
{
	static const double table[16] = {
		0.0,	/* unused: n = 0 never reaches here */
		0.08106146679532725822,
		0.041340695955409294094,
		0.027677925684998339149,
		0.020790672103765093112,
		0.016644691189821192163,
		0.013876128823070747999,
		0.011896709945891770095,
		0.010411265261972096497,
		0.0092554621827127329177,
		0.0083305634333628712565,
		0.007573675487951840795,
		0.0069428401072095298657,
		0.0064089941880042070684,
		0.0059513701127588477356,
		0.005554733551962801371,
	};
	const double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260,
		s3 = 1.0 / 1680, s4 = 1.0 / 1188;
	double nn;

	if (n < 16)
		return table[(int) n];
	nn = n * n;
	if (n > 500)
		return (s0 - s1 / nn) / n;
	if (n > 80)
		return (s0 - (s1 - s2 / nn) / nn) / n;
	if (n > 35)
		return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n;
	return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
}

/*
 * bd0(x, np) = x log(x/np) + np - x, the binomial deviance term, given
 * d = x - np from the caller (computed exactly from integers, so the
 * rounding of np does not leak into the result).  Near x = np it is
 * evaluated from the series
 *   d v + 2x (v^3/3 + v^5/5 + ...),  v = d/(x+np),
 * which avoids the cancellation of the direct formula.
 */
static double
bd0(double x, double np, double d)
{
	if (fabs(d) < 0.1 * (x + np))
	{
		double		v = d / (x + np);
		double		s = d * v;
		double		ej = 2 * x * v;
		double		v2 = v * v;
		int			j;

		for (j = 1; j < 1000; j++)
		{
			double		s1;

			ej *= v2;
			s1 = s + ej / (2 * j + 1);
			if (s1 == s)
				break;
			s = s1;
		}
		return s;
	}
	return x * log(x / np) - d;
}

/*
 * log of the binomial density P(Bin(n, p) = x), q = 1 - p, 0 <= x <= n,
 * given d = x - np, in Loader's form: Stirling remainders minus the
 * deviances of x and n-x minus 0.5 log(2 pi x (n-x)/n).
 */
static double
log_dbinom(double x, double n, double p, double q, double d)
{
	double		np = n * p,		/* relatively accurate, for log(x/np) */
				nq = n * q;
	double		lc;

	if (x == 0)
	{
		if (n == 0)
			return 0.0;
		return p < 0.1 ? -bd0(n, nq, -d) + d : n * log(q);
	}
	if (x == n)
		return q < 0.1 ? -bd0(n, np, d) - d : n * log(p);
	lc = stirlerr(n) - stirlerr(x) - stirlerr(n - x)
		- bd0(x, np, d) - bd0(n - x, nq, -d);
	/* n - x is exact; log1p(-x/n) would lose 1 - x/n when x is near n */
	return lc - 0.5 * log(CX_2PI * x * ((n - x) / n));
}

/*
 * Hypergeometric log pmf as
 *   dbinom(x; succ, p) * dbinom(draws-x; total-succ, p) / dbinom(draws; total, p)
 * with p = draws/total (the p-dependence cancels exactly).  With this p all
 * three binomials sit near their means when x is near the hypergeometric
 * mean; their deviations from the means are d, -d and 0 with
 *   d = x - succ*draws/total = (x*total - succ*draws) / total,
 * formed from exact integer products.
 */
double
cx_hyper_logpmf(int64_t x, int64_t succ, int64_t draws, int64_t total)
{
	double		p,
				q,
				d;

	if (total < 0 || succ < 0 || succ > total || draws < 0 || draws > total)
		return NAN;
	if (x < 0 || x > succ || x > draws || draws - x > total - succ)
		return -INFINITY;
	if (draws == 0 || draws == total)
		return 0.0;				/* single-point support */
	p = (double) draws / (double) total;
	q = (double) (total - draws) / (double) total;
	if (total <= INT64_C(3037000499))	/* total^2 fits in int64 */
		d = (double) (x * total - succ * draws) / (double) total;
	else
		d = ((double) x * (double) total - (double) succ * (double) draws)
			/ (double) total;
	return log_dbinom((double) x, (double) succ, p, q, d)
		+ log_dbinom((double) (draws - x), (double) (total - succ), p, q, -d)
		- log_dbinom((double) draws, (double) total, p, q, 0.0);
}

/* Hypergeometric distribution of the n_ac cell given the margins. */
typedef struct
{
	int64_t		succ,
				draws,
				total;
	int64_t		lo,
				hi,
				mode;
} cx_hyper;

/*
 * Validate a 2x2 table and set up X ~ Hypergeom(total n, succ n_c,
 * draws n_a): its support [lo, hi] and mode floor((draws+1)(succ+1)/(n+2)).
 */
static bool
hyper_setup(cx_hyper *h, int64_t n_ac, int64_t n_a, int64_t n_c, int64_t n)
{
	/* n_a + n_c - n_ac <= n, written so that nothing overflows */
	if (n < 1 || n_a < 0 || n_c < 0 || n_a > n || n_c > n || n_ac < 0 ||
		n_ac > n_a || n_ac > n_c || n_a - n_ac > n - n_c)
		return false;
	h->succ = n_c;
	h->draws = n_a;
	h->total = n;
	h->lo = n_a > n - n_c ? n_a - (n - n_c) : 0;
	h->hi = n_a < n_c ? n_a : n_c;
	if (n < INT64_MAX / 4 && n_c + 1 <= INT64_MAX / (n_a + 1))
		h->mode = (n_a + 1) * (n_c + 1) / (n + 2);
	else						/* astronomically large counts only */
		h->mode = (int64_t) floor((double) (n_a + 1) * (double) (n_c + 1)
								  / ((double) n + 2));
	if (h->mode < h->lo)
		h->mode = h->lo;
	if (h->mode > h->hi)
		h->mode = h->hi;
	return true;
}

static double
hyper_lpmf(const cx_hyper *h, int64_t x)
{
	return cx_hyper_logpmf(x, h->succ, h->draws, h->total);
}

/*
 * log P(X >= k) (up = true) or log P(X <= k) (up = false).  The walk must
 * lead away from the mode, i.e. k >= mode for up and k <= mode for down,
 * so terms only shrink.  Terms are generated by the exact ratio
 *   pmf(x+1)/pmf(x) = (succ-x)(draws-x) / ((x+1)(total-succ-draws+x+1))
 * relative to pmf(k) = 1, and the sum is rescaled at the end.
 */
static double
log_tail(const cx_hyper *h, int64_t k, bool up)
{
	const double K = (double) h->succ,
				D = (double) h->draws,
				F = (double) (h->total - h->succ - h->draws);	/* may be < 0 */
	double		lp = hyper_lpmf(h, k);
	double		sum = 1.0,
				term = 1.0;
	int64_t		i;

	if (lp == -INFINITY)
		return lp;
	if (up)
	{
		for (i = k; i < h->hi; i++)
		{
			double		x = (double) i;

			if ((i - k) % CX_TERMS_PER_CHECK == CX_TERMS_PER_CHECK - 1)
				CX_CHECK_INTERRUPTS();
			term *= ((K - x) * (D - x)) / ((x + 1) * (F + x + 1));
			sum += term;
			if (term < sum * CX_TAIL_EPS)
				break;
		}
	}
	else
	{
		for (i = k; i > h->lo; i--)
		{
			double		x = (double) i;

			if ((k - i) % CX_TERMS_PER_CHECK == CX_TERMS_PER_CHECK - 1)
				CX_CHECK_INTERRUPTS();
			term *= (x * (F + x)) / ((K - x + 1) * (D - x + 1));
			sum += term;
			if (term < sum * CX_TAIL_EPS)
				break;
		}
	}
	return lp + log(sum);
}

/* P(X >= n_ac); via 1 - P(X <= n_ac - 1) when the tail holds the mode. */
double
cx_fisher_greater(int64_t n_ac, int64_t n_a, int64_t n_c, int64_t n)
{
	cx_hyper	h;

	if (!hyper_setup(&h, n_ac, n_a, n_c, n))
		return NAN;
	if (n_ac > h.mode)
		return exp(log_tail(&h, n_ac, true));
	if (n_ac <= h.lo)
		return 1.0;
	return 1.0 - exp(log_tail(&h, n_ac - 1, false));
}

/* P(X <= n_ac); via 1 - P(X >= n_ac + 1) when the tail holds the mode. */
double
cx_fisher_less(int64_t n_ac, int64_t n_a, int64_t n_c, int64_t n)
{
	cx_hyper	h;

	if (!hyper_setup(&h, n_ac, n_a, n_c, n))
		return NAN;
	if (n_ac < h.mode)
		return exp(log_tail(&h, n_ac, false));
	if (n_ac >= h.hi)
		return 1.0;
	return 1.0 - exp(log_tail(&h, n_ac + 1, true));
}

/*
 * Two-sided p value, R convention.  The pmf is unimodal (log-concave), so
 * {x : pmf(x) <= pmf(n_ac) (1 + 1e-7)} is [lo, a] U [b, hi] with
 * a < mode < b; a and b are found by binary search on the log pmf (which
 * also catches near-ties on the observed side), and both tails are summed
 * outward from them.
 */
double
cx_fisher_two_sided(int64_t n_ac, int64_t n_a, int64_t n_c, int64_t n)
{
	cx_hyper	h;
	double		thr,
				p = 0.0;

	if (!hyper_setup(&h, n_ac, n_a, n_c, n))
		return NAN;
	thr = hyper_lpmf(&h, n_ac) + log1p(CX_TWO_SIDED_RELERR);
	if (hyper_lpmf(&h, h.mode) <= thr)
		return 1.0;				/* every table is at most as probable */

	/* lower side: largest a < mode with lpmf(a) <= thr, if any */
	if (hyper_lpmf(&h, h.lo) <= thr)
	{
		int64_t		ok = n_ac < h.mode ? n_ac : h.lo,
					bad = h.mode;

		while (bad - ok > 1)
		{
			int64_t		mid = ok + (bad - ok) / 2;

			if (hyper_lpmf(&h, mid) <= thr)
				ok = mid;
			else
				bad = mid;
		}
		p += exp(log_tail(&h, ok, false));
	}

	/* upper side: smallest b > mode with lpmf(b) <= thr, if any */
	if (hyper_lpmf(&h, h.hi) <= thr)
	{
		int64_t		ok = n_ac > h.mode ? n_ac : h.hi,
					bad = h.mode;

		while (ok - bad > 1)
		{
			int64_t		mid = bad + (ok - bad) / 2;

			if (hyper_lpmf(&h, mid) <= thr)
				ok = mid;
			else
				bad = mid;
		}
		p += exp(log_tail(&h, ok, true));
	}
	return p > 1.0 ? 1.0 : p;
}

/*
 * Standard normal quantile: P. J. Acklam's rational approximation (relative
 * error below 1.2e-9) refined by two Newton steps on the exact CDF, which
 * erfc gives to full precision, so the result is accurate to a few ulps.
 */
double
cx_normal_quantile(double p)
{
	static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
		-2.759285104469687e+02, 1.383577518672690e+02,
		-3.066479806614716e+01, 2.506628277459239e+00};
	static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
		-1.556989798598866e+02, 6.680131188771972e+01,
		-1.328068155288572e+01};
	static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
		-2.400758277161838e+00, -2.549732539343734e+00,
		4.374664141464968e+00, 2.938163982698783e+00};
	static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
		2.445134137142996e+00, 3.754408661907416e+00};
	double		x;
	double		q;
	double		r;
	int			i;

	if (!(p > 0.0 && p < 1.0))
		return NAN;
	if (p < 0.02425)
	{
		q = sqrt(-2.0 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
			((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
	}
	else if (p <= 1.0 - 0.02425)
	{
		q = p - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
			(((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
	}
	else
	{
		q = sqrt(-2.0 * log1p(-p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
			((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
	}
	for (i = 0; i < 2; i++)
	{
		/* Newton: x -= (Phi(x) - p) / phi(x), using the tail that keeps precision */
		const double sqrt2 = 1.4142135623730951;
		const double sqrt2pi = 2.5066282746310002;
		double		pdf = exp(-0.5 * x * x) / sqrt2pi;
		double		err = (x < 0.0) ? 0.5 * erfc(-x / sqrt2) - p
			: (1.0 - p) - 0.5 * erfc(x / sqrt2);

		if (pdf > 0.0)
			x -= err / pdf;
	}
	return x;
}

/*
 * Wilson score interval (E. B. Wilson, "Probable inference, the law of
 * succession, and statistical inference", JASA 22, 1927):
 * (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n).  z is taken
 * from the upper tail, (1 - confidence) / 2, which keeps its precision for
 * confidences so close to 1 that 0.5 + confidence / 2 rounds to 1.
 */
void
cx_wilson_interval(int64_t successes, int64_t n, double confidence,
				   double *lower, double *upper)
{
	double		z = -cx_normal_quantile((1.0 - confidence) / 2.0);
	double		dn = (double) n;
	double		p = (double) successes / dn;
	double		z2 = z * z;
	double		centre = p + z2 / (2.0 * dn);
	double		half = z * sqrt(p * (1.0 - p) / dn + z2 / (4.0 * dn * dn));
	double		den = 1.0 + z2 / dn;

	*lower = (successes == 0) ? 0.0 : (centre - half) / den;
	*upper = (successes == n) ? 1.0 : (centre + half) / den;
}

/*
 * The regularised upper incomplete gamma function Q(a, x): by its power
 * series for P = 1 - Q when x < a + 1, else by its continued fraction
 * (modified Lentz), which keeps the relative precision of small tails.
 */
static double
gamma_q(double a, double x)
{
	double		lead;
	int			i;

	if (x <= 0.0)
		return 1.0;
	lead = a * log(x) - x - lgamma(a);
	if (x < a + 1.0)
	{
		double		term = 1.0 / a;
		double		sum = term;

		for (i = 1; i < 100000; i++)
		{
			term *= x / (a + i);
			sum += term;
			if (fabs(term) < fabs(sum) * 1e-17)
				break;
		}
		return 1.0 - exp(lead) * sum;
	}
	else
	{
		const double tiny = 1e-300;
		double		b = x + 1.0 - a;
		double		c = 1.0 / tiny;
		double		d = 1.0 / b;
		double		h = d;

		for (i = 1; i < 100000; i++)
		{
			double		an = -i * (i - a);
			double		del;

			b += 2.0;
			d = an * d + b;
			if (fabs(d) < tiny)
				d = tiny;
			c = b + an / c;
			if (fabs(c) < tiny)
				c = tiny;
			d = 1.0 / d;
			del = d * c;
			h *= del;
			if (fabs(del - 1.0) < 1e-16)
				break;
		}
		return exp(lead) * h;
	}
}

double
cx_chi2_sf(double x, double df)
{
	if (!(df > 0.0) || isnan(x))
		return NAN;
	return gamma_q(df / 2.0, x / 2.0);
}

bool
cx_two_proportion_z(int64_t x_a, int64_t n_a, int64_t x_b, int64_t n_b,
					double *z, double *p_value)
{
	double		ra = (double) x_a / (double) n_a;
	double		rb = (double) x_b / (double) n_b;
	double		pooled = (double) (x_a + x_b) / (double) (n_a + n_b);
	double		se = sqrt(pooled * (1.0 - pooled) *
						  (1.0 / (double) n_a + 1.0 / (double) n_b));

	if (!(se > 0.0))
		return false;
	*z = (ra - rb) / se;
	*p_value = erfc(fabs(*z) / 1.4142135623730951);
	return true;
}

static int
cx_compare_ranked(const void *a, const void *b)
{
	const cx_ranked_p *x = (const cx_ranked_p *) a;
	const cx_ranked_p *y = (const cx_ranked_p *) b;

	if (x->p != y->p)
		return x->p < y->p ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

void
cx_adjust_p(const double *p, int64_t m, cx_adjust_method method,
			cx_ranked_p *work, double *q)
{
	int64_t		i;
	double		acc;

	if (method == CX_ADJUST_NONE)
	{
		for (i = 0; i < m; i++)
			q[i] = p[i];
		return;
	}
	for (i = 0; i < m; i++)
	{
		work[i].p = p[i];
		work[i].index = i;
	}
	qsort(work, (size_t) m, sizeof(cx_ranked_p), cx_compare_ranked);
	if (method == CX_ADJUST_BH)
	{
		acc = 1.0;
		for (i = m - 1; i >= 0; i--)
		{
			double		v = work[i].p * (double) m / (double) (i + 1);

			if ((i & 65535) == 0)
				CX_CHECK_INTERRUPTS();
			if (v < acc)
				acc = v;
			q[work[i].index] = acc;
		}
	}
	else
	{
		acc = 0.0;
		for (i = 0; i < m; i++)
		{
			double		v = work[i].p * (double) (m - i);

			if ((i & 65535) == 0)
				CX_CHECK_INTERRUPTS();
			if (v > 1.0)
				v = 1.0;
			if (v > acc)
				acc = v;
			q[work[i].index] = acc;
		}
	}
}
