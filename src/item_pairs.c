/*
 * item_pairs.c
 *		cxsell.item_pairs(patterns, alpha, adjust): the association matrix of
 *		the frequent items.
 *
 * One row for every pair of frequent items, including pairs that never
 * co-occur: observed and expected co-occurrence, lift, the two-sided Fisher
 * exact p-value of independence, and that p-value adjusted for testing
 * every pair at once (q_value; Benjamini-Hochberg by default).  A pair is a
 * 'complement' when its q_value is below alpha and it co-occurs more than
 * chance, a 'substitute' when less, and 'independent' otherwise.  Rows come
 * ordered by item_a, then item_b.  Under a hierarchy an item is never paired
 * with its ancestor, and `depth` keeps the items of one level (departments
 * with departments).
 */
#include "postgres.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "cxsell.h"

PG_FUNCTION_INFO_V1(patterns_item_pairs);

/*
 * One step over the pairs a < b in row order, with their co-occurrence:
 * pairs of items both kept (all when keep is NULL), never an item and its
 * ancestor.
 */
typedef struct PairWalk
{
	const CxPatterns *p;
	const bool *keep;
	int32		a;
	int32		b;
	int64		next;			/* the next stored co-occurring pair */
} PairWalk;

static void
PairWalkStart(PairWalk *w, const CxPatterns *p, const bool *keep)
{
	w->p = p;
	w->keep = keep;
	w->a = 0;
	w->b = 0;
	w->next = 0;
}

/* Move to the next pair; false when there is none.  *nab: its co-occurrence. */
static bool
PairWalkNext(PairWalk *w, int64 *nab)
{
	const CxPatterns *p = w->p;

	for (;;)
	{
		if (++w->b >= p->nitems)
		{
			CHECK_FOR_INTERRUPTS();
			w->a++;
			w->b = w->a + 1;
			if (w->b >= p->nitems)
				return false;
		}
		if (w->keep != NULL && (!w->keep[w->a] || !w->keep[w->b]))
			continue;
		if (p->nlinks > 0 && CxRelated(p->anc_off, p->anc, w->a, w->b))
			continue;
		break;
	}
	/* stored pairs come in the same order: skip those passed over */
	while (w->next < p->npairs &&
		   (p->pair_a[w->next] < (uint32) w->a ||
			(p->pair_a[w->next] == (uint32) w->a && p->pair_b[w->next] < (uint32) w->b)))
		w->next++;
	*nab = 0;
	if (w->next < p->npairs && p->pair_a[w->next] == (uint32) w->a &&
		p->pair_b[w->next] == (uint32) w->b)
		*nab = p->pair_count[w->next++];
	return true;
}

/*
 * The items at hierarchy depth `depth` (0: those without a parent), or NULL
 * for every item when the argument is NULL or absent.
 */
static bool *
ItemsAtDepth(FunctionCallInfo fcinfo, int argno, const CxPatterns *p)
{
	int32		depth;
	int32	   *depths;
	bool	   *keep;
	int32		i;

	if (PG_NARGS() <= argno || PG_ARGISNULL(argno))
		return NULL;
	depth = PG_GETARG_INT32(argno);
	if (depth < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("depth %d is out of range", depth),
				 errhint("Depth 0 is the top of the hierarchy (items without a parent), 1 the level below, and so on; NULL pairs items of every depth.")));
	depths = CxItemDepths(p);
	keep = palloc(Max(p->nitems, 1) * sizeof(bool));
	for (i = 0; i < p->nitems; i++)
		keep[i] = (depths[i] == depth);
	pfree(depths);
	return keep;
}

Datum
patterns_item_pairs(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	CxPatterns *p;
	double		alpha;
	cx_adjust_method adjust;
	Datum	   *names;
	double	   *pv;
	double	   *qv;
	int64		npairs;
	int64		i;
	int64		nab;
	int32		a;
	PairWalk	w;
	bool	   *keep;
	ErrorContextCallback call;

	CxRequireArg(fcinfo, 1, "alpha", "Omit the argument to use its default, 0.05.");
	alpha = PG_GETARG_FLOAT8(1);
	if (!(alpha > 0.0 && alpha < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("alpha %g is out of range", alpha),
				 errhint("Use a significance level greater than 0 and less than 1, such as 0.05.")));
	/* the 0.1 and 0.2 signatures: no adjust, no q_value, raw p decides */
	adjust = PG_NARGS() > 2 ? CxAdjustArg(fcinfo, 2) : CX_ADJUST_NONE;
	store = CxMaterializeSRF(fcinfo, &tupdesc);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	p = CxPatternsFromDatum(PG_GETARG_DATUM(0));
	CxEnterCall(&call, "function cxsell.item_pairs");

	names = palloc(Max(p->nitems, 1) * sizeof(Datum));
	for (a = 0; a < p->nitems; a++)
		names[a] = CStringGetTextDatum(p->item_name[a]);

	/* every pair's p-value, then all of them adjusted together */
	keep = ItemsAtDepth(fcinfo, 3, p);
	PairWalkStart(&w, p, keep);
	for (npairs = 0; PairWalkNext(&w, &nab); npairs++)
		;
	CxCheckMemory(CurrentMemoryContext, (Size) Max(npairs, 1) * 2 * sizeof(double),
				  CX_WORK_RULES);
	pv = MemoryContextAllocHuge(CurrentMemoryContext, (Size) Max(npairs, 1) * sizeof(double));
	qv = MemoryContextAllocHuge(CurrentMemoryContext, (Size) Max(npairs, 1) * sizeof(double));
	PairWalkStart(&w, p, keep);
	for (i = 0; PairWalkNext(&w, &nab); i++)
		qv[i] = pv[i] = cx_fisher_two_sided(nab, p->item_count[w.a], p->item_count[w.b], p->n);
	CxAdjustPValues(qv, npairs, adjust, CX_WORK_RULES);

	PairWalkStart(&w, p, keep);
	for (i = 0; PairWalkNext(&w, &nab); i++)
	{
		Datum		values[11];
		bool		nulls[11] = {0};
		int64		na = p->item_count[w.a];
		int64		nb = p->item_count[w.b];
		double		expected = (double) na * (double) nb / (double) p->n;
		const char *relation = "independent";

		if (qv[i] < alpha)
		{
			if ((double) nab > expected)
				relation = "complement";
			else if ((double) nab < expected)
				relation = "substitute";
		}
		values[0] = names[w.a];
		values[1] = names[w.b];
		values[2] = Int64GetDatum(na);
		values[3] = Int64GetDatum(nb);
		values[4] = Int64GetDatum(nab);
		values[5] = Float8GetDatum(expected);
		values[6] = Float8GetDatum((double) nab / (double) p->n);
		values[7] = Float8GetDatum(CxLift(nab, na, nb, p->n));
		values[8] = Float8GetDatum(pv[i]);
		values[9] = Float8GetDatum(qv[i]);
		values[10] = CStringGetTextDatum(relation);
		if (tupdesc->natts == 10)
			values[9] = values[10];		/* 0.1 and 0.2: no q_value column */
		tuplestore_putvalues(store, tupdesc, values, nulls);
		pfree(DatumGetPointer(values[10]));
	}
	CxLeaveCall(&call);
	return (Datum) 0;
}
