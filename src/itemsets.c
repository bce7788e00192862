/*
 * itemsets.c
 *		cxsell.itemsets(patterns): the frequent itemsets of a mining result.
 *
 * Rows come by size ascending, then count descending, then items ascending
 * (in the item type's order).
 */
#include "postgres.h"

#include "funcapi.h"
#include "miscadmin.h"

#include "cxsell.h"

PG_FUNCTION_INFO_V1(patterns_itemsets);

/* qsort_arg comparator for the documented row order. */
static int
CompareRows(const void *a, const void *b, void *arg)
{
	const CxPatterns *p = (const CxPatterns *) arg;
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	if (p->set_size[x] != p->set_size[y])
		return p->set_size[x] < p->set_size[y] ? -1 : 1;
	if (p->set_count[x] != p->set_count[y])
		return p->set_count[x] > p->set_count[y] ? -1 : 1;
	/* canonical order is by items within a size */
	return (x > y) - (x < y);
}

/* Return one row per frequent itemset: items, size, count, support. */
Datum
patterns_itemsets(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store = CxMaterializeSRF(fcinfo, &tupdesc);
	CxPatterns *p = CxPatternsFromDatum(PG_GETARG_DATUM(0));
	int64	   *order = palloc(Max(p->nsets, 1) * sizeof(int64));
	int64		i;

	for (i = 0; i < p->nsets; i++)
		order[i] = i;
	qsort_arg(order, p->nsets, sizeof(int64), CompareRows, p);

	for (i = 0; i < p->nsets; i++)
	{
		int64		s = order[i];
		Datum		values[4];
		bool		nulls[4] = {0};

		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		values[0] = CxTextArray(p, p->set_items + p->set_off[s], p->set_size[s]);
		values[1] = Int32GetDatum(p->set_size[s]);
		values[2] = Int64GetDatum(p->set_count[s]);
		values[3] = Float8GetDatum((double) p->set_count[s] / (double) p->n);
		tuplestore_putvalues(store, tupdesc, values, nulls);
		pfree(DatumGetPointer(values[0]));
	}
	return (Datum) 0;
}
