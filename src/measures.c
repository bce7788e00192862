/*
 * measures.c
 *		Interestingness measures of association rules, from raw counts.
 *
 * One implementation serves cxsell.rules() and the scalar functions
 * cxsell.lift(n_ac, n_a, n_c, n) and friends.  For a rule A -> C over n
 * baskets, n_a baskets hold A, n_c hold C and n_ac hold both; s() is the
 * support count / n.  The definitions are those of the reference
 * documentation; where one is 0/0 the result is stated there.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "cxsell.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(measure_support);
PG_FUNCTION_INFO_V1(measure_confidence);
PG_FUNCTION_INFO_V1(measure_lift);
PG_FUNCTION_INFO_V1(measure_leverage);
PG_FUNCTION_INFO_V1(measure_conviction);
PG_FUNCTION_INFO_V1(measure_jaccard);
PG_FUNCTION_INFO_V1(measure_kulczynski);
PG_FUNCTION_INFO_V1(measure_certainty);
PG_FUNCTION_INFO_V1(measure_zhang);
PG_FUNCTION_INFO_V1(measure_p_value);
PG_FUNCTION_INFO_V1(measure_p_value_two_sided);
PG_FUNCTION_INFO_V1(measure_adjust_p_values);

/*
 * Compute every measure of A -> C.  Counts must satisfy the checks of
 * CheckCounts and n_a, n_c >= 1.  The Fisher p-value is computed only when
 * with_p is set (it is the one measure that is not O(1)).
 */
void
CxComputeMeasures(int64 n_ac, int64 n_a, int64 n_c, int64 n, bool with_p,
				  CxMeasures *m)
{
	double		dn = (double) n;
	double		sa = (double) n_a / dn;
	double		sc = (double) n_c / dn;
	double		sac = (double) n_ac / dn;
	double		den;

	m->antecedent_support = sa;
	m->consequent_support = sc;
	m->support = sac;
	m->confidence = (double) n_ac / (double) n_a;
	m->lift = CxLift(n_ac, n_a, n_c, n);
	m->leverage = sac - sa * sc;
	if (n_ac == n_a)
		m->conviction = get_float8_infinity();
	else
		m->conviction = ((double) (n - n_c) * (double) n_a) /
			(dn * (double) (n_a - n_ac));
	m->jaccard = (double) n_ac / (double) (n_a + n_c - n_ac);
	m->kulczynski = ((double) n_ac / (double) n_a + (double) n_ac / (double) n_c) / 2.0;
	/* certainty is 0 when C is in every basket (0/0) */
	m->certainty = (n_c == n) ? 0.0 : (m->confidence - sc) / (1.0 - sc);
	/* Zhang's measure is 0 when both terms of its denominator vanish */
	den = Max(sac * (1.0 - sa), sa * (sc - sac));
	m->zhang = (den == 0.0) ? 0.0 : m->leverage / den;
	m->p_value = with_p ? cx_fisher_greater(n_ac, n_a, n_c, n) : 0.0;
}

/*
 * Replace the measures in `m` but the p-value by those of weighted supports:
 * w_ac, w_a and w_c the weights of the baskets holding A u C, A and C, w the
 * weight of all baskets (each positive where a measure divides by it; a
 * measure with nothing to divide by is NaN).
 */
void
CxWeightedMeasures(double w_ac, double w_a, double w_c, double w, CxMeasures *m)
{
	double		sa = w_a / w;
	double		sc = w_c / w;
	double		sac = w_ac / w;
	double		den;

	m->antecedent_support = sa;
	m->consequent_support = sc;
	m->support = sac;
	m->confidence = w_ac / w_a;
	m->lift = (w_ac * w) / (w_a * w_c);
	m->leverage = sac - sa * sc;
	if (w_ac == w_a && w_a > 0.0)
		m->conviction = get_float8_infinity();
	else
		m->conviction = ((w - w_c) * w_a) / (w * (w_a - w_ac));
	m->jaccard = w_ac / (w_a + w_c - w_ac);
	m->kulczynski = (w_ac / w_a + w_ac / w_c) / 2.0;
	m->certainty = (w_c == w) ? 0.0 : (m->confidence - sc) / (1.0 - sc);
	den = Max(sac * (1.0 - sa), sa * (sc - sac));
	m->zhang = (den == 0.0) ? 0.0 : m->leverage / den;
}

/*
 * The measures (but the p-value) of the rule A -> C of a stored value, from
 * the numbers of the itemsets A u C, A and C: of their weights when the
 * value is weighted, else of their counts.
 */
void
CxPatternsMeasures(const CxPatterns *p, int64 set_ac, int64 set_a, int64 set_c,
				   CxMeasures *m)
{
	CxComputeMeasures(p->set_count[set_ac], p->set_count[set_a],
					  p->set_count[set_c], p->n, false, m);
	if (p->weighted)
		CxWeightedMeasures(p->set_weight[set_ac], p->set_weight[set_a],
						   p->set_weight[set_c], p->total_weight, m);
}

/* Reject counts that cannot come from one set of baskets. */
static void
CheckCounts(int64 n_ac, int64 n_a, int64 n_c, int64 n)
{
	/* n_a + n_c - n_ac <= n, written so that nothing overflows */
	if (n < 1 || n_a < 0 || n_c < 0 || n_ac < 0 ||
		n_ac > n_a || n_ac > n_c || n_a > n || n_c > n ||
		n_a - n_ac > n - n_c)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("inconsistent counts n_ac=%lld, n_a=%lld, n_c=%lld, n=%lld",
						(long long) n_ac, (long long) n_a,
						(long long) n_c, (long long) n),
				 errhint("Counts must satisfy 0 <= n_ac <= n_a, n_c <= n, n >= 1 and n_a + n_c - n_ac <= n.")));
}

/*
 * Shared body of the scalar measure functions: NULL when A or C never
 * occurs (every measure but support divides by its count).
 */
static bool
ScalarMeasures(FunctionCallInfo fcinfo, bool with_p, CxMeasures *m)
{
	int64		n_ac = PG_GETARG_INT64(0);
	int64		n_a = PG_GETARG_INT64(1);
	int64		n_c = PG_GETARG_INT64(2);
	int64		n = PG_GETARG_INT64(3);

	CheckCounts(n_ac, n_a, n_c, n);
	if (n_a == 0 || n_c == 0)
		return false;
	CxComputeMeasures(n_ac, n_a, n_c, n, with_p, m);
	return true;
}

#define MEASURE_FUNCTION(fname, field, with_p) \
Datum \
fname(PG_FUNCTION_ARGS) \
{ \
	CxMeasures	m; \
	if (!ScalarMeasures(fcinfo, with_p, &m)) \
		PG_RETURN_NULL(); \
	PG_RETURN_FLOAT8(m.field); \
}

MEASURE_FUNCTION(measure_confidence, confidence, false)
MEASURE_FUNCTION(measure_lift, lift, false)
MEASURE_FUNCTION(measure_leverage, leverage, false)
MEASURE_FUNCTION(measure_conviction, conviction, false)
MEASURE_FUNCTION(measure_jaccard, jaccard, false)
MEASURE_FUNCTION(measure_kulczynski, kulczynski, false)
MEASURE_FUNCTION(measure_certainty, certainty, false)
MEASURE_FUNCTION(measure_zhang, zhang, false)
MEASURE_FUNCTION(measure_p_value, p_value, true)

/* cxsell.support(n_ac, n_a, n_c, n) = n_ac / n; defined for any valid counts. */
Datum
measure_support(PG_FUNCTION_ARGS)
{
	int64		n_ac = PG_GETARG_INT64(0);
	int64		n = PG_GETARG_INT64(3);

	CheckCounts(n_ac, PG_GETARG_INT64(1), PG_GETARG_INT64(2), n);
	PG_RETURN_FLOAT8((double) n_ac / (double) n);
}

/* cxsell.p_value_two_sided(n_ac, n_a, n_c, n): two-sided Fisher exact test. */
Datum
measure_p_value_two_sided(PG_FUNCTION_ARGS)
{
	int64		n_ac = PG_GETARG_INT64(0);
	int64		n_a = PG_GETARG_INT64(1);
	int64		n_c = PG_GETARG_INT64(2);
	int64		n = PG_GETARG_INT64(3);

	CheckCounts(n_ac, n_a, n_c, n);
	PG_RETURN_FLOAT8(cx_fisher_two_sided(n_ac, n_a, n_c, n));
}

/* The rule filters of cxsell.rules() and cxsell.recommend(). */
void
CxCheckRuleThresholds(double min_confidence, double min_lift)
{
	if (!(min_confidence >= 0.0 && min_confidence <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_confidence %g is out of range", min_confidence),
				 errhint("Use a value between 0 and 1.")));
	if (!(min_lift >= 0.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_lift %g is out of range", min_lift),
				 errhint("Use 0 for no lift threshold, or a positive value such as 1.")));
}

/*
 * The p-value adjustment named by text argument `argno` ("bh", "holm" or
 * "none").
 */
cx_adjust_method
CxAdjustArg(FunctionCallInfo fcinfo, int argno)
{
	char	   *name;

	CxRequireArg(fcinfo, argno, "adjust", "Omit the argument to use its default, bh.");
	name = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (strcmp(name, "bh") == 0)
		return CX_ADJUST_BH;
	if (strcmp(name, "holm") == 0)
		return CX_ADJUST_HOLM;
	if (strcmp(name, "none") == 0)
		return CX_ADJUST_NONE;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unrecognized adjust \"%s\"", name),
			 errhint("Use bh (Benjamini-Hochberg q-values), holm, or none for the p-values as they are.")));
	return CX_ADJUST_BH;		/* not reached */
}

/*
 * Adjust the m p-values p[] in place for being tested together (see
 * cx_adjust_p), as part of `work` within cxsell.max_memory.
 */
void
CxAdjustPValues(double *p, int64 m, cx_adjust_method method, CxWork work)
{
	cx_ranked_p *ranked;

	if (method == CX_ADJUST_NONE || m == 0)
		return;
	CxCheckMemory(CurrentMemoryContext, (Size) m * sizeof(cx_ranked_p), work);
	ranked = MemoryContextAllocHuge(CurrentMemoryContext, (Size) m * sizeof(cx_ranked_p));
	cx_adjust_p(p, m, method, ranked, p);
	pfree(ranked);
}

/*
 * cxsell.adjust_p_values(p_values float8[], adjust text): the p-values
 * adjusted for being tested together, as rules and item_pairs adjust theirs,
 * in the same order.
 */
Datum
measure_adjust_p_values(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	cx_adjust_method method = CxAdjustArg(fcinfo, 1);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	double	   *p;
	int			i;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("p_values must be a one-dimensional array")));
	deconstruct_array(arr, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &n);
	p = palloc(Max(n, 1) * sizeof(double));
	for (i = 0; i < n; i++)
	{
		if (nulls[i] || !(DatumGetFloat8(elems[i]) >= 0.0 && DatumGetFloat8(elems[i]) <= 1.0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("p_values[%d] is not a number from 0 to 1", i + 1),
					 errhint("Leave out the tests that have no p-value.")));
		p[i] = DatumGetFloat8(elems[i]);
	}
	CxAdjustPValues(p, n, method, CX_WORK_RULES);
	PG_RETURN_DATUM(CxFloat8Array(p, n));
}
