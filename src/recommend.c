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

typedef enum RankBy
{
	RANK_CONFIDENCE,
	RANK_LIFT,
	RANK_POPULARITY
} RankBy;

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
	RankBy		rank_by;
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

#define CMP_DESC(x, y) do { if ((x) != (y)) return (x) > (y) ? -1 : 1; } while (0)

/* qsort_arg comparator over item numbers with a firing rule. */
static int
CompareRanked(const void *a, const void *b, void *arg)
{
	const RankSort *rs = (const RankSort *) arg;
	uint32		ia = *(const uint32 *) a;
	uint32		ib = *(const uint32 *) b;
	const Candidate *x = &rs->cand[ia];
	const Candidate *y = &rs->cand[ib];

	if (rs->rank_by == RANK_LIFT)
	{
		CMP_DESC(x->lift, y->lift);
		CMP_DESC(x->confidence, y->confidence);
	}
	else
	{
		CMP_DESC(x->confidence, y->confidence);
		CMP_DESC(x->lift, y->lift);
	}
	CMP_DESC(x->count, y->count);
	return ia < ib ? -1 : (ia > ib ? 1 : 0);
}


/* Mark the frequent items named in held (NULL elements ignored). */
static int32
MarkHeld(ArrayType *arr, CxPatterns *p, bool *held)
{
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("held items must be a one-dimensional array"),
				 errhint("Pass the customer's items as text[], for example array_agg(item::text).")));
	return CxPatternsMarkItems(p, arr, held);
}

/* Find each candidate item's best firing rule. */
static void
FireRules(const CxPatterns *p, const bool *held, int32 nheld,
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
		int64		n_a;
		double		confidence;
		double		lift;

		if ((s & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		for (j = 0; j < k; j++)
			if (!held[items[j]])
			{
				if (missing >= 0)
					break;
				missing = j;
			}
		if (j < k || missing < 0)
			continue;

		/* the antecedent: the set without its one missing item */
		for (j = 0; j < k; j++)
			if (j != missing)
				a_items[na++] = items[j];
		n_a = CxPatternsLookup(p, a_items, na);
		if (n_a < 1)
			elog(ERROR, "cxsell.patterns value lacks a subset of an itemset, please report a bug");
		confidence = (double) p->set_count[s] / (double) n_a;
		/* the same arithmetic as cxsell.rules(), so the two agree exactly */
		lift = ((double) p->set_count[s] * (double) p->n) /
			((double) n_a * (double) p->item_count[items[missing]]);
		if (confidence < min_confidence || lift < min_lift)
			continue;
		if (BetterRule(p, &cand[items[missing]], items[missing], s,
					   confidence, p->set_count[s]))
		{
			Candidate  *c = &cand[items[missing]];

			c->set = s;
			c->count = p->set_count[s];
			c->confidence = confidence;
			c->lift = lift;
		}
	}
}

Datum
patterns_recommend(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	CxPatterns *p;
	int32		n;
	char	   *rank_name;
	RankBy		rank_by;
	double		min_confidence;
	double		min_lift;
	bool		fallback;
	bool	   *held;
	int32		nheld = 0;
	Candidate  *cand;
	uint32	   *order;
	uint32	   *a_items;
	int32		norder = 0;
	int32		nout = 0;
	int32		i;
	Datum		empty;

	CxRequireArg(fcinfo, 2, "n", "Pass how many items to recommend, such as 3.");
	CxRequireArg(fcinfo, 3, "rank_by", "Omit the argument to use its default.");
	CxRequireArg(fcinfo, 4, "min_confidence", "Omit the argument to use its default.");
	CxRequireArg(fcinfo, 5, "min_lift", "Omit the argument to use its default.");
	CxRequireArg(fcinfo, 6, "fallback", "Omit the argument to use its default.");
	n = PG_GETARG_INT32(2);
	rank_name = text_to_cstring(PG_GETARG_TEXT_PP(3));
	min_confidence = PG_GETARG_FLOAT8(4);
	min_lift = PG_GETARG_FLOAT8(5);
	fallback = PG_GETARG_BOOL(6);

	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n %d is out of range", n),
				 errhint("Ask for at least one recommendation.")));
	if (strcmp(rank_name, "confidence") == 0)
		rank_by = RANK_CONFIDENCE;
	else if (strcmp(rank_name, "lift") == 0)
		rank_by = RANK_LIFT;
	else if (strcmp(rank_name, "popularity") == 0)
		rank_by = RANK_POPULARITY;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized rank_by \"%s\"", rank_name),
				 errhint("Use confidence, lift or popularity.")));
	CxCheckRuleThresholds(min_confidence, min_lift);

	store = CxMaterializeSRF(fcinfo, &tupdesc);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	p = CxPatternsFromDatumCached(fcinfo->flinfo, PG_GETARG_DATUM(0));

	held = palloc0(Max(p->nitems, 1) * sizeof(bool));
	if (!PG_ARGISNULL(1))
		nheld = MarkHeld(PG_GETARG_ARRAYTYPE_P(1), p, held);

	cand = palloc(Max(p->nitems, 1) * sizeof(Candidate));
	for (i = 0; i < p->nitems; i++)
		cand[i].set = -1;
	a_items = palloc(Max(p->max_size, 1) * sizeof(uint32));
	if (rank_by != RANK_POPULARITY)
		FireRules(p, held, nheld, min_confidence, min_lift, cand, a_items);

	/* rule rows, best first */
	order = palloc(Max(p->nitems, 1) * sizeof(uint32));
	for (i = 0; i < p->nitems; i++)
		if (cand[i].set >= 0)
			order[norder++] = (uint32) i;
	{
		RankSort	rs = {cand, p, rank_by};

		qsort_arg(order, norder, sizeof(uint32), CompareRanked, &rs);
	}
	for (i = 0; i < norder && nout < n; i++)
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
		values[2] = Float8GetDatum(rank_by == RANK_LIFT ? cd->lift : cd->confidence);
		values[3] = Float8GetDatum(cd->confidence);
		values[4] = Float8GetDatum(cd->lift);
		values[5] = Float8GetDatum((double) cd->count / (double) p->n);
		values[6] = CxTextArray(p, a_items, na);
		values[7] = CStringGetTextDatum("rule");
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}

	/* popularity rows fill what the rules left */
	if (nout < n && (fallback || rank_by == RANK_POPULARITY))
	{
		const int32 *popular = CxPatternsByCount(p);

		empty = CxTextArray(p, NULL, 0);
		for (i = 0; i < p->nitems && nout < n; i++)
		{
			int32		c = popular[i];
			double		support;
			Datum		values[8];
			bool		nulls[8] = {0};

			if (held[c] || cand[c].set >= 0)
				continue;
			support = (double) p->item_count[c] / (double) p->n;
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
	return (Datum) 0;
}
