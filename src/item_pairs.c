/*
 * item_pairs.c
 *		cxsell.item_pairs(patterns, alpha): the association matrix of the
 *		frequent items.
 *
 * One row for every pair of frequent items, including pairs that never
 * co-occur: observed and expected co-occurrence, lift, and the two-sided
 * Fisher exact p-value of independence.  A pair is a 'complement' when it
 * co-occurs more than chance at level alpha, a 'substitute' when less, and
 * 'independent' otherwise.  Rows come ordered by item_a, then item_b.
 */
#include "postgres.h"

#include <math.h>

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "cxsell.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(patterns_item_pairs);

Datum
patterns_item_pairs(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	CxPatterns *p;
	double		alpha;
	Datum	   *names;
	int64		next = 0;
	int32		a;
	int32		b;

	alpha = PG_GETARG_FLOAT8(1);
	if (!(alpha > 0.0 && alpha < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("alpha %g is out of range", alpha),
				 errhint("Use a significance level greater than 0 and less than 1, such as 0.05.")));
	store = CxMaterializeSRF(fcinfo, &tupdesc);
	p = CxPatternsFromDatum(PG_GETARG_DATUM(0));

	names = palloc(Max(p->nitems, 1) * sizeof(Datum));
	for (a = 0; a < p->nitems; a++)
		names[a] = CStringGetTextDatum(p->item_name[a]);

	for (a = 0; a < p->nitems; a++)
	{
		CHECK_FOR_INTERRUPTS();
		for (b = a + 1; b < p->nitems; b++)
		{
			Datum		values[10];
			bool		nulls[10] = {0};
			int64		na = p->item_count[a];
			int64		nb = p->item_count[b];
			int64		nab = 0;
			double		expected = (double) na * (double) nb / (double) p->n;
			double		pv;
			const char *relation = "independent";

			if (next < p->npairs && p->pair_a[next] == (uint32) a &&
				p->pair_b[next] == (uint32) b)
				nab = p->pair_count[next++];
			pv = cx_fisher_two_sided(nab, na, nb, p->n);
			if (pv < alpha)
			{
				if ((double) nab > expected)
					relation = "complement";
				else if ((double) nab < expected)
					relation = "substitute";
			}
			values[0] = names[a];
			values[1] = names[b];
			values[2] = Int64GetDatum(na);
			values[3] = Int64GetDatum(nb);
			values[4] = Int64GetDatum(nab);
			values[5] = Float8GetDatum(expected);
			values[6] = Float8GetDatum((double) nab / (double) p->n);
			values[7] = Float8GetDatum(CxLift(nab, na, nb, p->n));
			values[8] = Float8GetDatum(pv);
			values[9] = CStringGetTextDatum(relation);
			tuplestore_putvalues(store, tupdesc, values, nulls);
			pfree(DatumGetPointer(values[9]));
		}
	}
	return (Datum) 0;
}
