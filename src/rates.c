/*
 * rates.c
 *		Rates, their intervals and their comparison: cxsell.wilson_interval()
 *		and cxsell.two_proportion_test().
 */
#include "postgres.h"

#include <math.h>

#include "funcapi.h"

#include "cxsell.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(rate_wilson_interval);
PG_FUNCTION_INFO_V1(rate_two_proportion_test);

/* Reject a confidence level outside (0, 1). */
static void
CxCheckConfidence(double confidence)
{
	if (!(confidence > 0.0 && confidence < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("confidence level %g is out of range", confidence),
				 errhint("Use a level greater than 0 and less than 1, such as 0.95.")));
}

/* Reject a count of successes that cannot come from n trials. */
static void
CheckRateCounts(int64 successes, int64 n)
{
	if (n < 1 || successes < 0 || successes > n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("inconsistent counts successes=" INT64_FORMAT ", n=" INT64_FORMAT,
						successes, n),
				 errhint("Counts must satisfy 0 <= successes <= n and n >= 1.")));
}

/*
 * cxsell.wilson_interval(successes, n, confidence): the Wilson score
 * interval of the rate successes / n.
 */
Datum
rate_wilson_interval(PG_FUNCTION_ARGS)
{
	int64		successes = PG_GETARG_INT64(0);
	int64		n = PG_GETARG_INT64(1);
	double		confidence = PG_GETARG_FLOAT8(2);
	Datum		values[3];
	bool		nulls[3] = {0};
	double		lower;
	double		upper;

	CheckRateCounts(successes, n);
	CxCheckConfidence(confidence);
	cx_wilson_interval(successes, n, confidence, &lower, &upper);
	values[0] = Float8GetDatum((double) successes / (double) n);
	values[1] = Float8GetDatum(lower);
	values[2] = Float8GetDatum(upper);
	PG_RETURN_DATUM(CxResultRow(fcinfo, values, nulls));
}

/*
 * cxsell.two_proportion_test(x_a, n_a, x_b, n_b): the pooled two-proportion
 * z test of rate a = rate b: the two rates, their difference, z and the
 * two-sided p-value 2 P(Z > |z|) (NULL z and p when the pooled rate is 0
 * or 1, where the test is undefined).
 */
Datum
rate_two_proportion_test(PG_FUNCTION_ARGS)
{
	int64		xa = PG_GETARG_INT64(0);
	int64		na = PG_GETARG_INT64(1);
	int64		xb = PG_GETARG_INT64(2);
	int64		nb = PG_GETARG_INT64(3);
	Datum		values[5];
	bool		nulls[5] = {0};
	double		z;
	double		p;

	CheckRateCounts(xa, na);
	CheckRateCounts(xb, nb);
	values[0] = Float8GetDatum((double) xa / (double) na);
	values[1] = Float8GetDatum((double) xb / (double) nb);
	values[2] = Float8GetDatum((double) xa / (double) na - (double) xb / (double) nb);
	if (cx_two_proportion_z(xa, na, xb, nb, &z, &p))
	{
		values[3] = Float8GetDatum(z);
		values[4] = Float8GetDatum(p);
	}
	else
		nulls[3] = nulls[4] = true;
	PG_RETURN_DATUM(CxResultRow(fcinfo, values, nulls));
}
