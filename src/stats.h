/*
 * stats.h - hypergeometric probabilities and Fisher's exact test (2x2).
 *
 * Plain C99, no PostgreSQL dependencies, no global state, no allocation.
 * Exact for counts below 2^53 (all arithmetic is done in double).
 *
 * A 2x2 table is described by its margins:
 *
 *                 C        not C
 *     A         n_ac    n_a - n_ac         | n_a
 *     not A  n_c - n_ac      ...           | n - n_a
 *               n_c                        | n
 *
 * Callers must ensure 0 <= n_ac <= min(n_a, n_c), n_a + n_c - n_ac <= n and
 * n >= 1; otherwise the Fisher functions return NAN.
 */
#ifndef CX_STATS_H
#define CX_STATS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * log P(X = x) where X ~ Hypergeometric: `draws` draws without replacement
 * from a population of `total` items, `succ` of which are successes.
 * Returns -INFINITY for x outside the support, NAN for invalid parameters.
 */
double cx_hyper_logpmf(int64_t x, int64_t succ, int64_t draws, int64_t total);

/* One-sided Fisher test, P(X >= n_ac) with X ~ Hypergeom(n, n_c, n_a). */
double cx_fisher_greater(int64_t n_ac, int64_t n_a, int64_t n_c, int64_t n);

/* One-sided Fisher test, P(X <= n_ac). */
double cx_fisher_less(int64_t n_ac, int64_t n_a, int64_t n_c, int64_t n);

/*
 * Two-sided Fisher test: sum of P(X = x) over every x with
 * P(X = x) <= P(X = n_ac) * (1 + 1e-7), as R's fisher.test does.
 */
double cx_fisher_two_sided(int64_t n_ac, int64_t n_a, int64_t n_c, int64_t n);

/*
 * The standard normal quantile: x with P(Z <= x) = p, for 0 < p < 1
 * (NAN otherwise).
 */
double cx_normal_quantile(double p);

/*
 * Wilson score interval of a proportion of `successes` in `n` trials at the
 * given confidence level (0 < confidence < 1; n >= 1).
 */
void cx_wilson_interval(int64_t successes, int64_t n, double confidence,
						double *lower, double *upper);

/*
 * Upper tail of the chi-square distribution with df degrees of freedom:
 * P(X >= x), the p-value of a chi-square statistic x.
 */
double cx_chi2_sf(double x, double df);

/*
 * Pooled two-proportion z test of x_a/n_a = x_b/n_b: sets *z and the
 * two-sided p-value 2 P(Z > |z|); returns false (leaving them alone) when
 * the pooled rate is 0 or 1, where the test is undefined.
 */
bool cx_two_proportion_z(int64_t x_a, int64_t n_a, int64_t x_b, int64_t n_b,
						 double *z, double *p_value);

/* Ways to adjust p-values for the number of tests made together. */
typedef enum cx_adjust_method
{
	CX_ADJUST_NONE,				/* the p-values as they are */
	CX_ADJUST_HOLM,				/* Holm (1979): family-wise error rate */
	CX_ADJUST_BH				/* Benjamini-Hochberg (1995): false discovery
								 * rate; the q-values */
} cx_adjust_method;

/* A p-value and its position, the work space of cx_adjust_p. */
typedef struct cx_ranked_p
{
	double		p;
	int64_t		index;
} cx_ranked_p;

/*
 * Adjust the m p-values p[] (each in [0, 1]) for being tested together,
 * into q[] (which may be p itself), using `work` (m entries).  With p's
 * sorted ascending, p(1) <= ... <= p(m):
 *   BH:   q(i) = min over k >= i of min(1, m p(k) / k)
 *   Holm: q(i) = max over k <= i of min(1, (m - k + 1) p(k))
 * Equal p-values get equal adjusted values.
 */
void cx_adjust_p(const double *p, int64_t m, cx_adjust_method method,
				 cx_ranked_p *work, double *q);

#endif /* CX_STATS_H */
