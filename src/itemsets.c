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

/* An itemset of one size, to be ordered by count descending, then number. */
typedef struct Row
{
	int64		count;
	int64		set;
} Row;

static inline int
CompareRows(const Row *a, const Row *b)
{
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	/* canonical order is by items within a size */
	return (a->set > b->set) - (a->set < b->set);
}

#define ST_SORT sort_rows
#define ST_ELEMENT_TYPE Row
#define ST_COMPARE(a, b) CompareRows(a, b)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* Return one row per frequent itemset: items, size, count, support. */
Datum
patterns_itemsets(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store = CxMaterializeSRF(fcinfo, &tupdesc);
	CxPatterns *p = CxPatternsFromDatum(PG_GETARG_DATUM(0));
	Row		   *rows = palloc_extended(Max(p->nsets, 1) * sizeof(Row), MCXT_ALLOC_HUGE);
	int64		i;
	int32		k;

	/* the itemsets are stored by size: order each size's by count */
	for (i = 0; i < p->nsets; i++)
	{
		rows[i].count = p->set_count[i];
		rows[i].set = i;
	}
	for (k = 1; k <= p->max_size; k++)
	{
		CHECK_FOR_INTERRUPTS();
		sort_rows(rows + p->size_first[k], p->size_first[k + 1] - p->size_first[k]);
	}

	for (i = 0; i < p->nsets; i++)
	{
		int64		s = rows[i].set;
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
