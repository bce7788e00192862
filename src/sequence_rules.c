/*
 * sequence_rules.c
 *		Readers of cxsell.sequences values: the sequences, the next-product
 *		rules they imply, and next-product recommendations for one history.
 *
 * A rule A => y comes from each stored sequence A + <y> (A not empty).
 * With n customers, count(S) the customers with sequence S and follow(y)
 * the customers who took y within the window after an earlier event of
 * theirs:
 *
 *	support    = count(A + <y>) / n
 *	confidence = count(A + <y>) / count(A): of the customers with A, the
 *				 share who took y after A, within the window of A's start
 *	base rate  = follow(y) / n: the share who took y after some earlier
 *				 event, within the window
 *	lift       = confidence / base rate
 *
 * and the median gap is the median, over the customers with A + <y>, of the
 * time from A's last item to y in their earliest occurrence.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "sequences.h"

PG_FUNCTION_INFO_V1(sequences_list);
PG_FUNCTION_INFO_V1(sequences_rules);
PG_FUNCTION_INFO_V1(sequences_recommend);

/* The measures of the rule of sequence q (length >= 2). */
typedef struct SeqRule
{
	int64		antecedent;		/* the sequence A */
	double		support;
	double		confidence;
	double		base_rate;
	double		lift;
} SeqRule;

/* The rule A => y of stored sequence q = A + <y> (of two or more items). */
static void
RuleOf(const CxSequences *s, int64 q, SeqRule *r)
{
	const uint32 *items = s->seq_items + s->seq_off[q];
	int32		k = s->seq_len[q];
	uint32		y = items[k - 1];

	r->antecedent = s->seq_prefix[q];
	r->support = (double) s->seq_count[q] / (double) s->n;
	r->confidence = (double) s->seq_count[q] / (double) s->seq_count[r->antecedent];
	r->base_rate = (double) s->item_follow[y] / (double) s->n;
	r->lift = CxLift(s->seq_count[q], s->seq_count[r->antecedent], s->item_follow[y], s->n);
}

/* cxsell.sequences(sequences): every frequent sequence. */
Datum
sequences_list(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store = CxMaterializeSRF(fcinfo, &tupdesc);
	CxSequences *s;
	int64		q;

	if (PG_ARGISNULL(0))
		return (Datum) 0;
	s = CxSequencesFromDatumCached(fcinfo->flinfo, PG_GETARG_DATUM(0));
	for (q = 0; q < s->nseqs; q++)
	{
		Datum		values[5];
		bool		nulls[5] = {0};

		if ((q & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		values[0] = CxNamesArray(s->item_name, s->seq_items + s->seq_off[q], s->seq_len[q]);
		values[1] = Int32GetDatum(s->seq_len[q]);
		values[2] = Int64GetDatum(s->seq_count[q]);
		values[3] = Float8GetDatum((double) s->seq_count[q] / (double) s->n);
		if (s->seq_len[q] < 2)
			nulls[4] = true;
		else
			values[4] = Float8GetDatum(CxTimeUnitsToGap(s->time_kind, s->seq_gap[q]));
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * cxsell.sequence_rules(sequences, min_confidence, min_lift,
 * max_antecedent): the rules A => y of the stored sequences, in the
 * sequences' order (by length, then by items).
 */
Datum
sequences_rules(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	CxSequences *s;
	double		min_confidence;
	double		min_lift;
	int32		max_antecedent;
	int64		q;

	CxRequireArg(fcinfo, 1, "min_confidence", "Omit the argument to use its default.");
	CxRequireArg(fcinfo, 2, "min_lift", "Omit the argument to use its default.");
	min_confidence = PG_GETARG_FLOAT8(1);
	min_lift = PG_GETARG_FLOAT8(2);
	CxCheckRuleThresholds(min_confidence, min_lift);
	CxRequireArg(fcinfo, 3, "max_antecedent", "Omit the argument to use its default.");
	max_antecedent = PG_GETARG_INT32(3);
	CxRequireNonNegative(max_antecedent, "max_antecedent",
						 "Use 0 for no limit, or the largest number of items an antecedent may have.");
	store = CxMaterializeSRF(fcinfo, &tupdesc);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	s = CxSequencesFromDatumCached(fcinfo->flinfo, PG_GETARG_DATUM(0));
	for (q = s->nitems; q < s->nseqs; q++)
	{
		const uint32 *items = s->seq_items + s->seq_off[q];
		int32		k = s->seq_len[q];
		SeqRule		r;
		Datum		values[9];
		bool		nulls[9] = {0};

		if ((q & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (max_antecedent > 0 && k - 1 > max_antecedent)
			break;
		RuleOf(s, q, &r);
		if (r.confidence < min_confidence || r.lift < min_lift)
			continue;
		values[0] = CxNamesArray(s->item_name, items, k - 1);
		values[1] = CStringGetTextDatum(s->item_name[items[k - 1]]);
		values[2] = Int64GetDatum(s->seq_count[q]);
		values[3] = Int64GetDatum(s->seq_count[r.antecedent]);
		values[4] = Float8GetDatum(r.support);
		values[5] = Float8GetDatum(r.confidence);
		values[6] = Float8GetDatum(r.base_rate);
		values[7] = Float8GetDatum(r.lift);
		values[8] = Float8GetDatum(CxTimeUnitsToGap(s->time_kind, s->seq_gap[q]));
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
	return (Datum) 0;
}

/* A customer's history as of a time: events of frequent items. */
typedef struct History
{
	int64		as_of;
	int32		nev;			/* events in (as_of - window, as_of] */
	int64	   *ev_time;
	int32	   *item_first;		/* item f's events: item_ev[item_first[f] ..
								 * item_first[f + 1]), ascending */
	int32	   *item_ev;
	bool	   *held;			/* items taken at any time up to as_of */
} History;

/*
 * Read the history: items (text[]) and times (an array of the mined time
 * type, as long), as of `as_of` (argument 4; NULL: the latest time given).
 * Rows with a NULL item or time are skipped, as are rows after as_of.
 */
static void
ReadHistory(FunctionCallInfo fcinfo, CxSequences *s, History *h)
{
	ArrayType  *names;
	ArrayType  *times;
	Oid			time_type;
	Datum	   *nelems;
	bool	   *nnulls;
	int			nn;
	Datum	   *telems;
	bool	   *tnulls;
	int			nt;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	CxTimedItem *rows;
	int64	   *tv;
	int32		nrows = 0;
	int32		i;
	bool		have_as_of = false;

	h->held = palloc0(Max(s->nitems, 1) * sizeof(bool));
	h->as_of = 0;
	h->nev = 0;
	h->ev_time = NULL;
	h->item_first = palloc0((s->nitems + 1) * sizeof(int32));
	h->item_ev = NULL;
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return;
	names = PG_GETARG_ARRAYTYPE_P(1);
	times = PG_GETARG_ARRAYTYPE_P(2);
	time_type = ARR_ELEMTYPE(times);
	if (CxTimeKindOf(time_type) != s->time_kind)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the history's times are of type %s, not of the type the sequences were mined with",
						format_type_be(time_type)),
				 errhint("Pass the times as the same type as the mined times (integer, date, timestamp or timestamptz).")));
	if (ARR_NDIM(names) > 1 || ARR_NDIM(times) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("items and times must be one-dimensional arrays"),
				 errhint("Pass each item with the time it was taken, as array_agg(item ORDER BY t) and array_agg(t ORDER BY t).")));
	deconstruct_array(names, TEXTOID, -1, false, TYPALIGN_INT, &nelems, &nnulls, &nn);
	get_typlenbyvalalign(time_type, &typlen, &typbyval, &typalign);
	deconstruct_array(times, time_type, typlen, typbyval, typalign, &telems, &tnulls, &nt);
	if (nn != nt)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("items and times must have the same length"),
				 errdetail("There are %d items and %d times.", nn, nt),
				 errhint("Pass each item with the time it was taken, as array_agg(item ORDER BY t) and array_agg(t ORDER BY t).")));
	/* each row's time, in units; as_of, by default the latest */
	tv = palloc_extended(Max(nn, 1) * sizeof(int64), MCXT_ALLOC_HUGE);
	for (i = 0; i < nn; i++)
	{
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (nnulls[i] || tnulls[i])
			continue;
		tv[i] = CxTimeUnits(telems[i], time_type);
		if (!have_as_of || tv[i] > h->as_of)
			h->as_of = tv[i];
		have_as_of = true;
	}
	if (!PG_ARGISNULL(4))
	{
		/* anyelement and anyarray: the times' element type */
		Assert(get_fn_expr_argtype(fcinfo->flinfo, 4) == time_type);
		h->as_of = CxTimeUnits(PG_GETARG_DATUM(4), time_type);
	}
	rows = palloc_extended(Max(nn, 1) * sizeof(CxTimedItem), MCXT_ALLOC_HUGE);
	for (i = 0; i < nn; i++)
	{
		char	   *name;
		int32		first;
		int32		count;
		int32		j;
		int64		t = tv[i];

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (nnulls[i] || tnulls[i] || t > h->as_of)
			continue;
		name = TextDatumGetCString(nelems[i]);
		first = CxSequencesFindItem(s, name, &count);
		/* a value's names are distinct: rows holds one per element */
		Assert(count <= 1);
		for (j = first; j < first + count; j++)
		{
			int32		f = s->by_name[j];

			h->held[f] = true;
			/* only the window before as_of can start a sequence that goes on */
			if ((uint64) h->as_of - (uint64) t < (uint64) s->window)
			{
				rows[nrows].time = t;
				rows[nrows].item = f;
				nrows++;
			}
		}
		pfree(name);
	}
	/* events in time order (an item twice at one time is once), and each item's */
	qsort(rows, nrows, sizeof(CxTimedItem), CxCompareTimedItems);
	{
		int32		w = 0;

		for (i = 0; i < nrows; i++)
			if (w == 0 || rows[w - 1].time != rows[i].time || rows[w - 1].item != rows[i].item)
				rows[w++] = rows[i];
		nrows = w;
	}
	h->ev_time = palloc_extended(Max(nrows, 1) * sizeof(int64), MCXT_ALLOC_HUGE);
	h->item_ev = palloc_extended(Max(nrows, 1) * sizeof(int32), MCXT_ALLOC_HUGE);
	for (i = 0; i < nrows; i++)
	{
		if (h->nev == 0 || h->ev_time[h->nev - 1] != rows[i].time)
			h->ev_time[h->nev++] = rows[i].time;
		h->item_first[rows[i].item + 1]++;
	}
	for (i = 0; i < s->nitems; i++)
		h->item_first[i + 1] += h->item_first[i];
	{
		int32	   *fill = palloc(Max(s->nitems, 1) * sizeof(int32));
		int32		ev = -1;

		memcpy(fill, h->item_first, s->nitems * sizeof(int32));
		for (i = 0; i < nrows; i++)
		{
			if (i == 0 || rows[i].time != rows[i - 1].time)
				ev++;
			h->item_ev[fill[rows[i].item]++] = ev;
		}
		pfree(fill);
	}
	pfree(rows);
}

/* The first event after `after` holding item f, or -1. */
static int32
NextEvent(const History *h, uint32 f, int32 after)
{
	int32		lo = h->item_first[f];
	int32		hi = h->item_first[f + 1];

	while (lo < hi)
	{
		int32		mid = lo + (hi - lo) / 2;

		if (h->item_ev[mid] <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < h->item_first[f + 1] ? h->item_ev[lo] : -1;
}

/* The best rule found for one candidate item. */
typedef struct NextCandidate
{
	int64		seq;			/* A + <y>; -1 while no rule fired */
	SeqRule		rule;
} NextCandidate;

typedef struct NextSort
{
	const CxSequences *s;
	const NextCandidate *cand;
	CxRankBy	rank_by;
} NextSort;

/* Whether rule x is better than rule y for the same item. */
static bool
BetterRule(const CxSequences *s, int64 x, const SeqRule *rx, int64 y, const SeqRule *ry)
{
	if (rx->confidence != ry->confidence)
		return rx->confidence > ry->confidence;
	if (s->seq_count[x] != s->seq_count[y])
		return s->seq_count[x] > s->seq_count[y];
	/* shorter antecedents come first in canonical order */
	return x < y;
}

/*
 * qsort_arg comparator of candidate items: by the rank_by measure, then the
 * other, then customers, descending; then in item order.
 */
static int
CompareNext(const void *a, const void *b, void *arg)
{
	const NextSort *ns = (const NextSort *) arg;
	uint32		x = *(const uint32 *) a;
	uint32		y = *(const uint32 *) b;
	const NextCandidate *cx = &ns->cand[x];
	const NextCandidate *cy = &ns->cand[y];

	if (ns->rank_by == CX_RANK_LIFT)
	{
		CX_CMP_DESC(cx->rule.lift, cy->rule.lift);
		CX_CMP_DESC(cx->rule.confidence, cy->rule.confidence);
	}
	else
	{
		CX_CMP_DESC(cx->rule.confidence, cy->rule.confidence);
		CX_CMP_DESC(cx->rule.lift, cy->rule.lift);
	}
	CX_CMP_DESC(ns->s->seq_count[cx->seq], ns->s->seq_count[cy->seq]);
	return (x > y) - (x < y);
}

/* Items by follow count, then count, descending; then in item order. */
static int
CompareFollow(const void *a, const void *b, void *arg)
{
	const CxSequences *s = (const CxSequences *) arg;
	uint32		x = *(const uint32 *) a;
	uint32		y = *(const uint32 *) b;

	CX_CMP_DESC(s->item_follow[x], s->item_follow[y]);
	CX_CMP_DESC(s->item_count[x], s->item_count[y]);
	return (x > y) - (x < y);
}

/*
 * Fire the rules on the history: a rule A => y fires when A occurs among
 * the events of the last window before as_of (so that y may still follow
 * within the window of A's start) and y was never taken.  Each stored
 * sequence's earliest end in the history is found from its prefix's.
 */
static void
FireSequences(const CxSequences *s, const History *h, double min_confidence,
			  double min_lift, NextCandidate *cand)
{
	int32	   *end;
	int64		q;

	/* nothing taken in the last window: no rule can fire */
	if (h->nev == 0)
		return;
	end = palloc_extended(Max(s->nseqs, 1) * sizeof(int32), MCXT_ALLOC_HUGE);
	for (q = 0; q < s->nseqs; q++)
	{
		const uint32 *items = s->seq_items + s->seq_off[q];
		int32		k = s->seq_len[q];
		int64		prefix;
		uint32		y = items[k - 1];
		SeqRule		r;

		if ((q & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		if (k == 1)
		{
			end[q] = NextEvent(h, y, -1);
			continue;
		}
		prefix = s->seq_prefix[q];
		end[q] = end[prefix] < 0 ? -1 : NextEvent(h, y, end[prefix]);
		if (end[prefix] < 0 || h->held[y])
			continue;
		RuleOf(s, q, &r);
		if (r.confidence < min_confidence || r.lift < min_lift)
			continue;
		if (cand[y].seq < 0 || BetterRule(s, q, &r, cand[y].seq, &cand[y].rule))
		{
			cand[y].seq = q;
			cand[y].rule = r;
		}
	}
	pfree(end);
}

/*
 * cxsell.recommend_next(sequences, items, times, n, as_of, rank_by,
 * min_confidence, min_lift, fallback): the n items this customer is most
 * likely to take up next, each with the rule that fired, topped up by the
 * most common follow-on items when fallback is on.
 */
Datum
sequences_recommend(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	CxSequences *s;
	CxRecommendArgs args;
	History		h;
	NextCandidate *cand;
	uint32	   *order;
	int32		norder = 0;
	int32		nout = 0;
	int32		i;

	CxReadRecommendArgs(fcinfo, 3, 5, &args);
	store = CxMaterializeSRF(fcinfo, &tupdesc);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	s = CxSequencesFromDatumCached(fcinfo->flinfo, PG_GETARG_DATUM(0));
	ReadHistory(fcinfo, s, &h);

	cand = palloc(Max(s->nitems, 1) * sizeof(NextCandidate));
	for (i = 0; i < s->nitems; i++)
		cand[i].seq = -1;
	order = palloc(Max(s->nitems, 1) * sizeof(uint32));
	if (args.rank_by != CX_RANK_POPULARITY)
	{
		NextSort	ns = {s, cand, args.rank_by};

		FireSequences(s, &h, args.min_confidence, args.min_lift, cand);
		for (i = 0; i < s->nitems; i++)
			if (cand[i].seq >= 0)
				order[norder++] = (uint32) i;
		qsort_arg(order, norder, sizeof(uint32), CompareNext, &ns);
		for (i = 0; i < norder && nout < args.n; i++)
		{
			const NextCandidate *c = &cand[order[i]];
			const uint32 *items = s->seq_items + s->seq_off[c->seq];
			Datum		values[9];
			bool		nulls[9] = {0};

			values[0] = Int32GetDatum(++nout);
			values[1] = CStringGetTextDatum(s->item_name[order[i]]);
			values[2] = Float8GetDatum(args.rank_by == CX_RANK_LIFT ? c->rule.lift : c->rule.confidence);
			values[3] = Float8GetDatum(c->rule.confidence);
			values[4] = Float8GetDatum(c->rule.lift);
			values[5] = Float8GetDatum(c->rule.support);
			values[6] = CxNamesArray(s->item_name, items, s->seq_len[c->seq] - 1);
			values[7] = Float8GetDatum(CxTimeUnitsToGap(s->time_kind, s->seq_gap[c->seq]));
			values[8] = CStringGetTextDatum("rule");
			tuplestore_putvalues(store, tupdesc, values, nulls);
		}
	}
	if (nout < args.n && (args.fallback || args.rank_by == CX_RANK_POPULARITY))
	{
		Datum		empty = CxNamesArray(s->item_name, NULL, 0);

		for (i = 0; i < s->nitems; i++)
			order[i] = (uint32) i;
		qsort_arg(order, s->nitems, sizeof(uint32), CompareFollow, s);
		for (i = 0; i < s->nitems && nout < args.n; i++)
		{
			uint32		y = order[i];
			double		rate = (double) s->item_follow[y] / (double) s->n;
			Datum		values[9];
			bool		nulls[9] = {0};

			if (h.held[y] || cand[y].seq >= 0 || s->item_follow[y] == 0)
				continue;
			values[0] = Int32GetDatum(++nout);
			values[1] = CStringGetTextDatum(s->item_name[y]);
			values[2] = Float8GetDatum(rate);
			values[3] = Float8GetDatum(rate);
			values[4] = Float8GetDatum(1.0);
			values[5] = Float8GetDatum(rate);
			values[6] = empty;
			nulls[7] = true;
			values[8] = CStringGetTextDatum("popularity");
			tuplestore_putvalues(store, tupdesc, values, nulls);
		}
	}
	return (Datum) 0;
}
