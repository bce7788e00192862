/*
 * chisq.c
 *		cxsell.chi_square(row_label, column_label): Pearson's chi-square test
 *		of independence over the contingency table of two labels, such as
 *		channel x responded.
 *
 * The state is that of cxsell.mine's row form: a dictionary of row labels,
 * one of column labels, and the (row, column) pair of every input row
 * (duplicates kept: here they are counts).  It shares its combine, serialise
 * and deserialise functions.
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "cxsell.h"
#include "mine_state.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(chisq_trans);
PG_FUNCTION_INFO_V1(chisq_final);

/* Transition: one row per observation; NULL labels are skipped. */
Datum
chisq_trans(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(CxMineAddRow(fcinfo, 1.0, 0));
}

/*
 * The test: statistic sum (O - E)^2 / E with E = row total x column total /
 * n, df = (rows - 1)(columns - 1), and its chi-square p-value (NULL when
 * either label has a single value).
 */
Datum
chisq_final(PG_FUNCTION_ARGS)
{
	MineState  *st;
	TupleDesc	tupdesc;
	uint32		nr;
	uint32		nc;
	int64	   *counts;
	int64	   *rowsum;
	int64	   *colsum;
	int64		k;
	uint32		r;
	uint32		c;
	double		stat = 0.0;
	int64		df;
	Datum		values[6];
	bool		nulls[6] = {0};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (MineState *) PG_GETARG_POINTER(0);
	if (st->npairs == 0)
		PG_RETURN_NULL();
	tupdesc = lookup_rowtype_tupdesc_copy(get_fn_expr_rettype(fcinfo->flinfo), -1);
	nr = st->baskets.nvalues;
	nc = st->items.nvalues;
	CxCheckMemory(st->cxt, (Size) nr * nc * sizeof(int64), "cxsell.chi_square");
	counts = MemoryContextAllocHuge(CurrentMemoryContext, (Size) nr * nc * sizeof(int64));
	memset(counts, 0, (Size) nr * nc * sizeof(int64));
	rowsum = palloc0(nr * sizeof(int64));
	colsum = palloc0(nc * sizeof(int64));
	for (k = 0; k < st->npairs; k++)
	{
		counts[(Size) st->pair_basket[k] * nc + st->pair_item[k]]++;
		rowsum[st->pair_basket[k]]++;
		colsum[st->pair_item[k]]++;
	}
	for (r = 0; r < nr; r++)
		for (c = 0; c < nc; c++)
		{
			double		e = (double) rowsum[r] * (double) colsum[c] / (double) st->npairs;
			double		d = (double) counts[(Size) r * nc + c] - e;

			stat += d * d / e;
		}
	df = (int64) (nr - 1) * (int64) (nc - 1);
	values[0] = Float8GetDatum(stat);
	values[1] = Int64GetDatum(df);
	values[2] = Float8GetDatum(df > 0 ? cx_chi2_sf(stat, (double) df) : 0.0);
	nulls[2] = (df == 0);
	values[3] = Int32GetDatum((int32) nr);
	values[4] = Int32GetDatum((int32) nc);
	values[5] = Int64GetDatum(st->npairs);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
