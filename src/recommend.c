/*
 * recommend.c
 *		cxsell.recommend(patterns, held, n, ...): the n best items a customer
 *		does not hold yet, each with the rule that produced it.
 *
 * A rule A -> {c} fires for a customer when every item of A is held and c is
 * not; A is a non-empty frequent itemset, so A u {c} is stored whenever the
 * rule exists.  Each candidate item keeps its best firing rule: highest
 * confidence (for one consequent, confidence and lift rank alike), then
 * larger count(A u {c}), then shorter antecedent, then smaller antecedent
 * items.  Items are ranked by the rank_by measure (confidence or lift), then
 * the other of the two, then count(A u {c}), then item order.  When rules
 * give fewer than n items and fallback is on, the most frequent items not
 * held fill the list (count descending, then item order), flagged
 * 'popularity'; rank_by = 'popularity' uses popularity alone.
 *
 * The work per call is one pass over the stored itemsets no larger than one
 * more than the number of frequent items held; the decoded patterns are kept
 * across calls with the same value.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "cxsell.h"

PG_FUNCTION_INFO_V1(patterns_recommend);

/* The best firing rule found for one candidate item. */
typedef struct Candidate
{
	int64		set;			/* A u {c}; -1 while no rule fired */
	int64		count;			/* count(A u {c}) */
	double		confidence;
	double		lift;
} Candidate;

typedef struct RankSort
{
	const Candidate *cand;
	const CxPatterns *p;
	CxRankBy	rank_by;
} RankSort;

/* Compare the antecedents of two itemsets that share the consequent c. */
static int
CompareAntecedents(const CxPatterns *p, int64 x, int64 y, uint32 cx, uint32 cy)
{
	const uint32 *a = p->set_items + p->set_off[x];
	const uint32 *b = p->set_items + p->set_off[y];
	int32		na = p->set_size[x];
	int32		nb = p->set_size[y];
	int32		i = 0;
	int32		j = 0;

	if (na != nb)
		return na < nb ? -1 : 1;
	for (;;)
	{
		while (i < na && a[i] == cx)
			i++;
		while (j < nb && b[j] == cy)
			j++;
		if (i == na || j == nb)
			return 0;
		if (a[i] != b[j])
			return a[i] < b[j] ? -1 : 1;
		i++;
		j++;
	}
}

/* Is rule (set s, confidence, count) better than the one kept for item c? */
static bool
BetterRule(const CxPatterns *p, const Candidate *best, uint32 c,
		   int64 s, double confidence, int64 count)
{
	int			cmp;

	if (best->set < 0)
		return true;
	if (confidence != best->confidence)
		return confidence > best->confidence;
	if (count != best->count)
		return count > best->count;
	cmp = CompareAntecedents(p, s, best->set, c, c);
	return cmp < 0;
}

/* qsort_arg comparator over item numbers with a firing rule. */
static int
CompareRanked(const void *a, const void *b, void *arg)
{
	const RankSort *rs = (const RankSort *) arg;
	uint32		ia = *(const uint32 *) a;
	uint32		ib = *(const uint32 *) b;
	const Candidate *x = &rs->cand[ia];
	const Candidate *y = &rs->cand[ib];

	if (rs->rank_by == CX_RANK_LIFT)
	{
		CX_CMP_DESC(x->lift, y->lift);
		CX_CMP_DESC(x->confidence, y->confidence);
	}
	else
	{
		CX_CMP_DESC(x->confidence, y->confidence);
		CX_CMP_DESC(x->lift, y->lift);
	}
	CX_CMP_DESC(x->count, y->count);
	return ia < ib ? -1 : (ia > ib ? 1 : 0);
}


/*
 * Mark the frequent items named in held (NULL elements ignored); *named
 * receives the number of items named.  Under a hierarchy, holding an item
 * is holding its ancestors too: rules over categories fire, and no category
 * of a held item is offered.  Returns the frequent items held.
 */
static int32
MarkHeld(ArrayType *arr, CxPatterns *p, bool *held, int32 *named)
{
	int32		found;
	int32		i;
	int32		k;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("held items must be a one-dimensional array"),
				 errhint("Pass the customer's items as text[], for example array_agg(item::text).")));
	found = CxPatternsMarkItems(p, arr, held, named);
	if (p->nlinks > 0)
	{
		bool	   *named_held = palloc(Max(p->nitems, 1) * sizeof(bool));

		memcpy(named_held, held, p->nitems * sizeof(bool));
		for (i = 0; i < p->nitems; i++)
			if (named_held[i])
				for (k = p->anc_off[i]; k < p->anc_off[i + 1]; k++)
					held[p->anc[k]] = true;
		pfree(named_held);
		for (i = 0, found = 0; i < p->nitems; i++)
			found += held[i] ? 1 : 0;
	}
	return found;
}

/*
 * The items never offered: under a hierarchy, the categories (the offers are
 * products); NULL without one.
 */
static bool *
Categories(const CxPatterns *p)
{
	bool	   *category;
	int64		k;

	if (p->nlinks == 0)
		return NULL;
	category = palloc0(Max(p->nitems, 1) * sizeof(bool));
	for (k = 0; k < p->nlinks; k++)
		category[p->link_parent[k]] = true;
	return category;
}

/* Find each candidate item's best firing rule (no category is one). */
static void
FireRules(const CxPatterns *p, const bool *held, int32 nheld, const bool *category,
		  double min_confidence, double min_lift, Candidate *cand,
		  uint32 *a_items)
{
	int32		maxk = Min(p->max_size, nheld + 1);
	int64		s;

	if (maxk < 2)
		return;
	for (s = p->size_first[2]; s < p->size_first[maxk + 1]; s++)
	{
		const uint32 *items = p->set_items + p->set_off[s];
		int32		k = p->set_size[s];
		int32		missing = -1;
		int32		j;
		int32		na = 0;
		int64		set_a;
		CxMeasures	m;

		if ((s & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		for (j = 0; j < k; j++)
			if (!held[items[j]])
			{
				if (missing >= 0)
					break;
				missing = j;
			}
		if (j < k || missing < 0 || (category != NULL && category[items[missing]]))
			continue;

		/* the antecedent: the set without its one missing item */
		for (j = 0; j < k; j++)
			if (j != missing)
				a_items[na++] = items[j];
		set_a = CxPatternsFind(p, a_items, na);
		if (set_a < 0)
			elog(ERROR, "cxsell.patterns value lacks a subset of an itemset, please report a bug");
		/* the measures of rules(): of the weights when the value has them */
		CxPatternsMeasures(p, s, set_a, items[missing], &m);
		if (!(m.confidence >= min_confidence && m.lift >= min_lift))
			continue;
		if (BetterRule(p, &cand[items[missing]], items[missing], s,
					   m.confidence, p->set_count[s]))
		{
			Candidate  *c = &cand[items[missing]];

			c->set = s;
			c->count = p->set_count[s];
			c->confidence = m.confidence;
			c->lift = m.lift;
		}
	}
}

/* The rank_by argument. */
static CxRankBy
ParseRankBy(const char *name)
{
	if (strcmp(name, "confidence") == 0)
		return CX_RANK_CONFIDENCE;
	if (strcmp(name, "lift") == 0)
		return CX_RANK_LIFT;
	if (strcmp(name, "popularity") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized rank_by \"%s\"", name),
				 errhint("Use confidence, lift or popularity.")));
	return CX_RANK_POPULARITY;
}

/*
 * Read and check the arguments of recommend and recommend_next: n at n_arg,
 * then rank_by, min_confidence, min_lift and fallback from rank_arg on.
 */
void
CxReadRecommendArgs(FunctionCallInfo fcinfo, int n_arg, int rank_arg,
					CxRecommendArgs *args)
{
	char	   *rank_name;

	CxRequireArg(fcinfo, n_arg, "n", "Pass how many items to recommend, such as 3.");
	CxRequireArg(fcinfo, rank_arg, "rank_by", "Omit the argument to use its default.");
	CxRequireArg(fcinfo, rank_arg + 1, "min_confidence", "Omit the argument to use its default.");
	CxRequireArg(fcinfo, rank_arg + 2, "min_lift", "Omit the argument to use its default.");
	CxRequireArg(fcinfo, rank_arg + 3, "fallback", "Omit the argument to use its default.");
	args->n = PG_GETARG_INT32(n_arg);
	rank_name = text_to_cstring(PG_GETARG_TEXT_PP(rank_arg));
	args->min_confidence = PG_GETARG_FLOAT8(rank_arg + 1);
	args->min_lift = PG_GETARG_FLOAT8(rank_arg + 2);
	args->fallback = PG_GETARG_BOOL(rank_arg + 3);

	if (args->n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n %d is out of range", args->n),
				 errhint("Ask for at least one recommendation.")));
	args->rank_by = ParseRankBy(rank_name);
	CxCheckRuleThresholds(args->min_confidence, args->min_lift);
}

/*
 * Mark the frequent items held.  When items are named but none is a
 * frequent item of p, say so (once per patterns value and call site, not
 * for every customer): the list then comes from popularity alone.
 */
static int32
ReadHeld(FunctionCallInfo fcinfo, CxPatterns *p, bool *held)
{
	int32		named = 0;
	int32		nheld;

	if (PG_ARGISNULL(1))
		return 0;
	nheld = MarkHeld(PG_GETARG_ARRAYTYPE_P(1), p, held, &named);
	if (nheld == 0 && named > 0 && !p->told_unknown_held)
	{
		p->told_unknown_held = true;
		ereport(NOTICE,
				(errmsg("none of the held items is a frequent item of the mining result"),
				 errdetail("Held items are matched to item names exactly, as text: case, spaces and format count. Items below min_support are not in the result."),
				 errhint("Compare with SELECT items FROM cxsell.itemsets(patterns) WHERE size = 1. Such a customer gets only popular items.")));
	}
	return nheld;
}

/* Put the rule rows, best first, into store; returns how many. */
static int32
EmitRuleRows(const CxPatterns *p, const Candidate *cand, const CxRecommendArgs *args,
			 uint32 *a_items, Tuplestorestate *store, TupleDesc tupdesc)
{
	uint32	   *order = palloc(Max(p->nitems, 1) * sizeof(uint32));
	int32		norder = 0;
	int32		nout = 0;
	int32		i;
	RankSort	rs = {cand, p, args->rank_by};

	for (i = 0; i < p->nitems; i++)
		if (cand[i].set >= 0)
			order[norder++] = (uint32) i;
	qsort_arg(order, norder, sizeof(uint32), CompareRanked, &rs);
	for (i = 0; i < norder && nout < args->n; i++)
	{
		uint32		c = order[i];
		const Candidate *cd = &cand[c];
		const uint32 *items = p->set_items + p->set_off[cd->set];
		int32		na = 0;
		int32		j;
		Datum		values[8];
		bool		nulls[8] = {0};

		for (j = 0; j < p->set_size[cd->set]; j++)
			if (items[j] != c)
				a_items[na++] = items[j];
		values[0] = Int32GetDatum(++nout);
		values[1] = CStringGetTextDatum(p->item_name[c]);
		values[2] = Float8GetDatum(args->rank_by == CX_RANK_LIFT ? cd->lift : cd->confidence);
		values[3] = Float8GetDatum(cd->confidence);
		values[4] = Float8GetDatum(cd->lift);
		values[5] = Float8GetDatum(CxSetSupport(p, cd->set));
		values[6] = CxTextArray(p, a_items, na);
		values[7] = CStringGetTextDatum("rule");
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
	return nout;
}

/*
 * Fill ranks nout + 1 .. n with the most frequent items neither held nor
 * recommended, nor categories.
 */
static void
EmitPopularityRows(CxPatterns *p, const bool *held, const bool *category,
				   const Candidate *cand, int32 nout, int32 n, Tuplestorestate *store,
				   TupleDesc tupdesc)
{
	const int32 *popular = CxPatternsByCount(p);
	Datum		empty = CxTextArray(p, NULL, 0);
	int32		i;

	for (i = 0; i < p->nitems && nout < n; i++)
	{
		int32		c = popular[i];
		double		support;
		Datum		values[8];
		bool		nulls[8] = {0};

		if (held[c] || cand[c].set >= 0 || (category != NULL && category[c]))
			continue;
		support = CxSetSupport(p, c);
		values[0] = Int32GetDatum(++nout);
		values[1] = CStringGetTextDatum(p->item_name[c]);
		values[2] = Float8GetDatum(support);
		values[3] = Float8GetDatum(support);
		values[4] = Float8GetDatum(1.0);
		values[5] = Float8GetDatum(support);
		values[6] = empty;
		values[7] = CStringGetTextDatum("popularity");
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
}

Datum
patterns_recommend(PG_FUNCTION_ARGS)
{
	CxRecommendArgs args;
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	CxPatterns *p;
	bool	   *held;
	int32		nheld;
	Candidate  *cand;
	uint32	   *a_items;
	bool	   *category;
	int32		nout = 0;
	int32		i;

	CxReadRecommendArgs(fcinfo, 2, 3, &args);
	store = CxMaterializeSRF(fcinfo, &tupdesc);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	p = CxPatternsFromDatumCached(fcinfo->flinfo, PG_GETARG_DATUM(0));

	held = palloc0(Max(p->nitems, 1) * sizeof(bool));
	nheld = ReadHeld(fcinfo, p, held);
	cand = palloc(Max(p->nitems, 1) * sizeof(Candidate));
	for (i = 0; i < p->nitems; i++)
		cand[i].set = -1;
	a_items = palloc(Max(p->max_size, 1) * sizeof(uint32));
	category = Categories(p);
	if (args.rank_by != CX_RANK_POPULARITY)
	{
		FireRules(p, held, nheld, category, args.min_confidence, args.min_lift, cand,
				  a_items);
		nout = EmitRuleRows(p, cand, &args, a_items, store, tupdesc);
	}
	if (nout < args.n && (args.fallback || args.rank_by == CX_RANK_POPULARITY))
		EmitPopularityRows(p, held, category, cand, nout, args.n, store, tupdesc);
	return (Datum) 0;
}
