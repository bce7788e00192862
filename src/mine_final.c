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

/*
 * Under a hierarchy, refuse a cycle in the state's links, and have the
 * layout add each item's ancestors to its baskets (Srikant and Agrawal's
 * extended baskets).
 */
static void
ExtendBaskets(Layout *l)
{
	MineState  *st = l->st;
	MemoryContext old = MemoryContextSwitchTo(l->cxt);
	int32	   *off;
	uint32	   *anc;
	int32		cycle;

	CxCheckMemory(st->limitcxt, (Size) st->nedges * 8 + (Size) l->ni * 64, l->work);
	if (!CxAncestorClosure((int32) l->ni, st->nedges, st->edge_child, st->edge_parent,
						   &off, &anc, &cycle, st->limitcxt))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the item hierarchy has a cycle"),
				 errdetail("\"%s\" is among its own ancestors.",
						   CxValueText(&st->item_ti, st->items.values[cycle])),
				 errhint("List each item's parent, then the parent's parent, up to the top level; give categories names no item has.")));
	l->anc_off = off;
	l->anc = anc;
	MemoryContextSwitchTo(old);
}

/*
 * Keep the links between frequent items in `out` (a frequent item's
 * ancestors are in each of its baskets, so are frequent too), and every
 * frequent item's ancestors in `out` and `in`.
 */
static void
FrequentHierarchy(Layout *l, const int32 *newid, CxPatterns *out, CxMineInput *in)
{
	MineState  *st = l->st;
	MemoryContext old = MemoryContextSwitchTo(l->cxt);
	int32		cycle;
	int64		n = 0;
	int64		k;

	CxCheckMemory(st->limitcxt, (Size) st->nedges * 8, l->work);
	out->link_child = palloc_extended((Size) Max(st->nedges, 1) * sizeof(uint32), MCXT_ALLOC_HUGE);
	out->link_parent = palloc_extended((Size) Max(st->nedges, 1) * sizeof(uint32), MCXT_ALLOC_HUGE);
	for (k = 0; k < st->nedges; k++)
	{
		int32		c = newid[st->edge_child[k]];
		int32		p = newid[st->edge_parent[k]];

		if (c < 0)
			continue;
		if (p < 0)
			elog(ERROR, "the parent of a frequent item is not frequent");
		out->link_child[n] = (uint32) c;
		out->link_parent[n] = (uint32) p;
		n++;
	}
	out->nlinks = CxSortLinks(out->link_child, out->link_parent, n, st->limitcxt);
	if (!CxAncestorClosure(out->nitems, out->nlinks, out->link_child,
						   out->link_parent, &out->anc_off, &out->anc, &cycle,
						   st->limitcxt))
		elog(ERROR, "the frequent items' hierarchy has a cycle");
	if (out->nlinks > 0)
	{
		in->anc_off = out->anc_off;
		in->anc = out->anc;
	}
	MemoryContextSwitchTo(old);
}

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

	if (st->hierarchical)
		ExtendBaskets(&l);
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
	memset(&in, 0, sizeof(in));
	if (st->hierarchical)
		FrequentHierarchy(&l, newid, &out, &in);
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
	if (st->weighted)
	{
		Assert(st->weight_cap >= (int64) l.nb);
		CxWeighItemsets(&l, st->basket_weight, &out);
		if (out.total_weight == 0.0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("every basket weighs 0"),
					 errdetail("Weighted support is a share of the baskets' total weight."),
					 errhint("Give baskets positive weights, or mine without weights.")));
	}

	MemoryContextSwitchTo(outcxt);
	result = CxPatternsEncode(&out);
	MemoryContextDelete(l.cxt);
	CxLeaveCall(&call);
	PG_RETURN_BYTEA_P(result);
}
