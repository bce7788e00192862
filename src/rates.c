/*
 * rates.c
 *		Rates and their intervals: cxsell.wilson_interval().
 */
#include "postgres.h"

#include "funcapi.h"

#include "cxsell.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(rate_wilson_interval);

/* Reject a confidence level outside (0, 1). */
void
CxCheckConfidence(double confidence)
{
	if (!(confidence > 0.0 && confidence < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("confidence level %g is out of range", confidence),
				 errhint("Use a level greater than 0 and less than 1, such as 0.95.")));
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
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {0};
	double		lower;
	double		upper;

	if (n < 1 || successes < 0 || successes > n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("inconsistent counts successes=" INT64_FORMAT ", n=" INT64_FORMAT,
						successes, n),
				 errhint("Counts must satisfy 0 <= successes <= n and n >= 1.")));
	CxCheckConfidence(confidence);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	cx_wilson_interval(successes, n, confidence, &lower, &upper);
	values[0] = Float8GetDatum((double) successes / (double) n);
	values[1] = Float8GetDatum(lower);
	values[2] = Float8GetDatum(upper);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}
