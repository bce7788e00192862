/*
 * mine_final.c
 *		Final function of the cxsell.mine aggregates: from collected
 *		(basket, item) pairs to a cxsell.patterns value.
 *
 * The layouts come from mine_layout.c, the mining from eclat.c.  The state
 * is not modified, so the final function may be called more than once.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/guc.h"

#include "mine_layout.h"

PG_FUNCTION_INFO_V1(mine_final);

/* Finalise a cxsell.mine state into a cxsell.patterns value. */
Datum
mine_final(PG_FUNCTION_ARGS)
{
	MemoryContext outcxt = CurrentMemoryContext;
	MineState  *st;
	Layout		l;
	int			nestlevel;
	int32	   *newid;
	int64		n;
	int64		min_count;
	CxMineInput in;
	CxPatterns	out;
	bytea	   *result;
	ErrorContextCallback call;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (MineState *) PG_GETARG_POINTER(0);
	if (!CxLayoutStart(&l, st))
		PG_RETURN_NULL();
	CxEnterAggregate(&call, fcinfo);

	/*
	 * Items are ordered (types without a btree order by their text) and
	 * named under fixed output settings, as pg_dump prints values: names do
	 * not depend on the session's DateStyle, TimeZone, IntervalStyle or
	 * extra_float_digits, and different values print differently.
	 */
	nestlevel = NewGUCNestLevel();
	CxPinOutputSettings();

	CxGroupByBasket(&l);
	CxDedupAndCount(&l);
	n = l.nb;
	min_count = CxMinCount(n, st->min_support);
	newid = CxFrequentItems(&l, min_count);
	/* likely mistakes: basket and item swapped; a percentage as min_support */
	if ((int64) l.nfreq > (int64) l.nb)
		l.work = CX_WORK_MINING_WIDE;
	else if (l.nfreq == 0 && st->min_support >= 0.5)
		ereport(NOTICE,
				(errmsg("no item is in at least %lld of the %lld baskets",
						(long long) min_count, (long long) n),
				 errdetail("min_support %g asks for items in %g%% of the baskets; the most frequent item is in %lld.",
						   st->min_support, st->min_support * 100.0, (long long) CxMaxItemCount(&l)),
				 errhint("min_support is a fraction of the baskets: 0.01 means 1%%.")));
	CxHorizontalLayout(&l, newid);

	memset(&out, 0, sizeof(out));
	out.n = n;
	out.min_support = st->min_support;
	out.max_len = st->max_len;
	out.min_count = min_count;
	out.nitems = l.nfreq;
	CxItemNames(&l, &out);
	AtEOXact_GUC(false, nestlevel);

	in.nbaskets = l.nb;
	in.nitems = l.nfreq;
	in.item_count = l.fcount;
	in.npairs = l.nfreqpairs;
	in.basket_off = l.boff;
	in.bitems = l.items;
	in.min_count = min_count;
	in.max_len = st->max_len;
	in.work = l.work;
	CxMine(&in, &out, l.cxt, st->limitcxt);

	MemoryContextSwitchTo(outcxt);
	result = CxPatternsEncode(&out);
	MemoryContextDelete(l.cxt);
	CxLeaveCall(&call);
	PG_RETURN_BYTEA_P(result);
}
