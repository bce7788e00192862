/*
 * itemsets.c
 *		cxsell.itemsets(patterns [, kind]): the frequent itemsets of a mining
 *		result, all of them or only the closed or the maximal ones; and
 *		cxsell.bundles(patterns): the closed ones ranked by lift.
 *
 * Rows come by size ascending, then count descending, then items ascending
 * (in the item type's order).
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "cxsell.h"

PG_FUNCTION_INFO_V1(patterns_itemsets);
PG_FUNCTION_INFO_V1(patterns_bundles);
PG_FUNCTION_INFO_V1(patterns_itemset_weight);
PG_FUNCTION_INFO_V1(patterns_itemset_count);

/*
 * An itemset to be ordered by lift descending (bundles; 0 for itemsets),
 * then count descending, then number (the canonical order within a size).
 */
typedef struct Row
{
	double		lift;
	int64		count;
	int64		set;
} Row;

static inline int
CompareRows(const Row *a, const Row *b)
{
	if (a->lift != b->lift)
		return a->lift > b->lift ? -1 : 1;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return (a->set > b->set) - (a->set < b->set);
}

#define ST_SORT sort_rows
#define ST_ELEMENT_TYPE Row
#define ST_COMPARE(a, b) CompareRows(a, b)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/*
 * Which itemsets a kind keeps: those without a superset marked so by
 * CxPatternsKinds (0: all).
 */
static uint8
KindArgument(FunctionCallInfo fcinfo, int argno)
{
	char	   *kind;

	if (PG_NARGS() <= argno)
		return 0;
	CxRequireArg(fcinfo, argno, "kind", "Use 'all', 'closed' or 'maximal'.");
	kind = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (strcmp(kind, "all") == 0)
		return 0;
	if (strcmp(kind, "closed") == 0)
		return CX_SET_HAS_EQUAL_SUPERSET;
	if (strcmp(kind, "maximal") == 0)
		return CX_SET_HAS_SUPERSET;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unrecognized itemset kind \"%s\"", kind),
			 errhint("Use 'all', 'closed' or 'maximal'.")));
	return 0;					/* keep the compiler quiet */
}

/*
 * Return one row per frequent itemset, or per closed (no superset with the
 * same count) or maximal (no frequent superset) one: items, size, count,
 * support.
 */
Datum
patterns_itemsets(PG_FUNCTION_ARGS)
{
	uint8		drop = KindArgument(fcinfo, 1);
	TupleDesc	tupdesc;
	Tuplestorestate *store = CxMaterializeSRF(fcinfo, &tupdesc);
	CxPatterns *p;
	uint8	   *marks = NULL;
	Row		   *rows;
	int64		i;
	int32		k;

	if (PG_ARGISNULL(0))
		return (Datum) 0;
	p = CxPatternsFromDatum(PG_GETARG_DATUM(0));
	if (drop != 0)
		marks = CxPatternsKinds(p);
	rows = palloc_extended(Max(p->nsets, 1) * sizeof(Row), MCXT_ALLOC_HUGE);

	/* the itemsets are stored by size: order each size's by count */
	for (i = 0; i < p->nsets; i++)
	{
		rows[i].lift = 0;
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
		if (marks != NULL && (marks[s] & drop) != 0)
			continue;
		values[0] = CxTextArray(p, p->set_items + p->set_off[s], p->set_size[s]);
		values[1] = Int32GetDatum(p->set_size[s]);
		values[2] = Int64GetDatum(p->set_count[s]);
		values[3] = Float8GetDatum(CxSetSupport(p, s));
		tuplestore_putvalues(store, tupdesc, values, nulls);
		pfree(DatumGetPointer(values[0]));
	}
	return (Datum) 0;
}

/*
 * The lift of itemset s over independence: its support over the product of
 * its items' supports, count * n^(k-1) / (product of the item counts).
 * While both products stay below 2^53 they are exact and the lift is one
 * division (as CxLift); past that, each further item multiplies the ratio
 * by n / count, so that no product overflows.
 */
static double
CountBundleLift(const CxPatterns *p, int64 s)
{
	const uint32 *items = p->set_items + p->set_off[s];
	const double exact = 9007199254740992.0;	/* 2^53 */
	double		n = (double) p->n;
	double		num = (double) p->set_count[s];
	double		den = (double) p->item_count[items[0]];
	double		ratio = 0;
	bool		split = false;
	int32		k;

	for (k = 1; k < p->set_size[s]; k++)
	{
		double		c = (double) p->item_count[items[k]];

		if (!split && num * n < exact && den * c < exact)
		{
			num *= n;
			den *= c;
			continue;
		}
		if (!split)
		{
			ratio = num / den;
			split = true;
		}
		ratio *= n / c;
	}
	return split ? ratio : num / den;
}

/*
 * The lift of itemset s over independence, from the weighted supports when
 * the value has weights (item by item), else from the counts.
 */
static double
BundleLift(const CxPatterns *p, int64 s)
{
	const uint32 *items = p->set_items + p->set_off[s];
	double		lift;
	int32		k;

	if (!p->weighted)
		return CountBundleLift(p, s);
	lift = CxSetSupport(p, s);
	for (k = 0; k < p->set_size[s]; k++)
		lift /= CxSetSupport(p, items[k]);
	return lift;
}

/*
 * Return the closed itemsets of at least min_size items (bundles: no item
 * can join one without losing baskets), ranked by lift, then count, at most
 * max_bundles of them (0: all): items, size, count, support, lift.
 */
Datum
patterns_bundles(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	CxPatterns *p;
	uint8	   *marks;
	Row		   *rows;
	int32		min_size;
	int64		max_bundles;
	int64		nrows = 0;
	int64		s;
	int64		i;

	CxRequireArg(fcinfo, 1, "min_size", "Omit the argument to use its default.");
	CxRequireArg(fcinfo, 2, "max_bundles", "Omit the argument to use its default.");
	min_size = PG_GETARG_INT32(1);
	max_bundles = PG_GETARG_INT64(2);
	if (min_size < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_size must be at least 1"),
				 errhint("A bundle of two or more items is min_size 2, the default.")));
	if (max_bundles < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_bundles must not be negative"),
				 errhint("Use 0 to return every bundle, or the number of best bundles to return.")));
	store = CxMaterializeSRF(fcinfo, &tupdesc);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	p = CxPatternsFromDatum(PG_GETARG_DATUM(0));
	marks = CxPatternsKinds(p);
	rows = palloc_extended(Max(p->nsets, 1) * sizeof(Row), MCXT_ALLOC_HUGE);
	for (s = 0; s < p->nsets; s++)
	{
		if ((s & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		if (p->set_size[s] < min_size || (marks[s] & CX_SET_HAS_EQUAL_SUPERSET) != 0)
			continue;
		rows[nrows].lift = BundleLift(p, s);
		/* weighted, an item of weight 0 leaves the lift undefined: no bundle */
		if (isnan(rows[nrows].lift))
			continue;
		rows[nrows].count = p->set_count[s];
		rows[nrows].set = s;
		nrows++;
	}
	sort_rows(rows, nrows);
	if (max_bundles > 0 && nrows > max_bundles)
		nrows = max_bundles;
	for (i = 0; i < nrows; i++)
	{
		int64		b = rows[i].set;
		Datum		values[5];
		bool		nulls[5] = {0};

		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		values[0] = CxTextArray(p, p->set_items + p->set_off[b], p->set_size[b]);
		values[1] = Int32GetDatum(p->set_size[b]);
		values[2] = Int64GetDatum(p->set_count[b]);
		values[3] = Float8GetDatum(CxSetSupport(p, b));
		values[4] = Float8GetDatum(rows[i].lift);
		tuplestore_putvalues(store, tupdesc, values, nulls);
		pfree(DatumGetPointer(values[0]));
	}
	return (Datum) 0;
}

/*
 * The itemset of `p` that the text[] `arr` names (each item once, in any
 * order; NULL elements ignored), or -1 when an item is unknown or the
 * itemset is not one of its frequent itemsets.
 */
static int64
NamedItemset(CxPatterns *p, ArrayType *arr)
{
	Datum	   *names;
	bool	   *nulls;
	int			nnames;
	uint32	   *items;
	int32		k = 0;
	int32		n;
	int32		i;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("items must be a one-dimensional array"),
				 errhint("Pass an itemset as text[], as cxsell.itemsets returns it.")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &names, &nulls, &nnames);
	items = palloc(Max(nnames, 1) * sizeof(uint32));
	for (i = 0; i < nnames; i++)
	{
		int32		count;
		int32		first;
		int32		j;

		if (nulls[i])
			continue;
		first = CxPatternsFindItem(p, TextDatumGetCString(names[i]), &count);
		if (count == 0)
			return -1;
		/* a name printed alike by two values names both */
		if (count > 1)
			items = repalloc(items, (k + count + nnames) * sizeof(uint32));
		for (j = first; j < first + count; j++)
			items[k++] = (uint32) p->by_name[j];
	}
	/* the items named, ascending, each once */
	CxSortUint32(items, k);
	for (i = 0, n = 0; i < k; i++)
		if (n == 0 || items[n - 1] != items[i])
			items[n++] = items[i];
	return CxPatternsFind(p, items, n);
}

/*
 * cxsell.itemset_weight(patterns, items): the weight of the baskets holding
 * the itemset (its revenue, when the weights are revenue); NULL when the
 * value has no weights or the itemset is not one of its frequent itemsets.
 */
Datum
patterns_itemset_weight(PG_FUNCTION_ARGS)
{
	CxPatterns *p = CxPatternsFromDatumCached(fcinfo->flinfo, PG_GETARG_DATUM(0));
	int64		s = NamedItemset(p, PG_GETARG_ARRAYTYPE_P(1));

	if (s < 0 || !p->weighted)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(p->set_weight[s]);
}

/*
 * cxsell.itemset_count(patterns, items): the number of baskets holding the
 * itemset; NULL when it is not one of the value's frequent itemsets.
 */
Datum
patterns_itemset_count(PG_FUNCTION_ARGS)
{
	CxPatterns *p = CxPatternsFromDatumCached(fcinfo->flinfo, PG_GETARG_DATUM(0));
	int64		s = NamedItemset(p, PG_GETARG_ARRAYTYPE_P(1));

	if (s < 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(p->set_count[s]);
}
