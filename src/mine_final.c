/*
 * mine_final.c
 *		Final function of the cxsell.mine aggregates: from collected
 *		(basket, item) pairs to a cxsell.patterns value.
 *
 * Every step here is linear in the number of pairs except the sort of the
 * frequent items and the mining itself (eclat.c).  The state is not
 * modified, so the final function may be called more than once.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/guc.h"

#include "cxsell.h"
#include "mine_state.h"

PG_FUNCTION_INFO_V1(mine_final);

/* Check for interrupts once per this many elements of a linear pass. */
#define STEP_CHECK(i) do { if (((i) & 0xFFFFF) == 0) CHECK_FOR_INTERRUPTS(); } while (0)

/* The layouts built from a state on the way to mining. */
typedef struct Layout
{
	MineState  *st;
	MemoryContext cxt;
	uint32		nb;				/* baskets */
	uint32		ni;				/* distinct items */
	int64	   *boff;			/* basket b's items: items[boff[b] .. boff[b+1]) */
	uint32	   *items;			/* item numbers of the state, per basket */
	int64	   *icount;			/* baskets holding each item */
	uint32	   *freq;			/* the frequent items, in value order */
	int32		nfreq;
	int64		nfreqpairs;		/* (basket, frequent item) pairs */
	int64	   *tid_off;		/* vertical: frequent item f's baskets */
	uint32	   *tids;
	int64	   *bas_off;		/* horizontal: basket b's frequent items */
	uint32	   *bitems;
	CxWork		work;			/* named when memory runs out */
} Layout;

/*
 * The smallest basket count c with c / n >= min_support, computed with the
 * same floating-point division a user would write.
 */
static int64
MinCount(int64 n, double min_support)
{
	int64		c = (int64) ceil(min_support * (double) n);

	if (c < 1)
		c = 1;
	while (c > 1 && (double) (c - 1) / (double) n >= min_support)
		c--;
	while ((double) c / (double) n < min_support)
		c++;
	return c;
}

/* qsort_arg comparator: item numbers by their values' order. */
static int
CompareItems(const void *a, const void *b, void *arg)
{
	MineState  *st = (MineState *) arg;
	uint32		ia = *(const uint32 *) a;
	uint32		ib = *(const uint32 *) b;

	return CxCompareValues(&st->item_ti, st->items.values[ia],
						   st->items.values[ib]);
}

/* Allocate in the layout's context, counting against the memory bound. */
static void *
LayoutAlloc(Layout *l, Size size)
{
	CxCheckMemory(l->st->limitcxt, size, l->work);
	return MemoryContextAllocHuge(l->cxt, Max(size, 1));
}

/* Group the state's pairs by basket (counting sort). */
static void
GroupByBasket(Layout *l)
{
	MineState  *st = l->st;
	int64	   *fill;
	int64		k;
	uint32		b;

	l->boff = LayoutAlloc(l, (Size) (l->nb + 1) * sizeof(int64));
	memset(l->boff, 0, (Size) (l->nb + 1) * sizeof(int64));
	for (k = 0; k < st->npairs; k++)
	{
		STEP_CHECK(k);
		l->boff[st->pair_basket[k] + 1]++;
	}
	for (b = 0; b < l->nb; b++)
		l->boff[b + 1] += l->boff[b];
	l->items = LayoutAlloc(l, (Size) st->npairs * sizeof(uint32));
	fill = LayoutAlloc(l, (Size) Max(l->nb, 1) * sizeof(int64));
	memcpy(fill, l->boff, (Size) l->nb * sizeof(int64));
	for (k = 0; k < st->npairs; k++)
	{
		STEP_CHECK(k);
		l->items[fill[st->pair_basket[k]]++] = st->pair_item[k];
	}
	pfree(fill);
}

/* Drop repeated items within a basket and count each item's baskets. */
static void
DedupAndCount(Layout *l)
{
	uint32	   *mark = LayoutAlloc(l, (Size) Max(l->ni, 1) * sizeof(uint32));
	int64		w = 0;
	int64		start = 0;
	uint32		i;
	uint32		b;

	l->icount = LayoutAlloc(l, (Size) Max(l->ni, 1) * sizeof(int64));
	memset(l->icount, 0, (Size) Max(l->ni, 1) * sizeof(int64));
	for (i = 0; i < l->ni; i++)
		mark[i] = PG_UINT32_MAX;
	for (b = 0; b < l->nb; b++)
	{
		int64		end = l->boff[b + 1];
		int64		k;

		STEP_CHECK(b);
		for (k = start; k < end; k++)
		{
			uint32		item = l->items[k];

			if (mark[item] != b)
			{
				mark[item] = b;
				l->icount[item]++;
				l->items[w++] = item;
			}
		}
		start = end;
		l->boff[b + 1] = w;
	}
	pfree(mark);
}

/*
 * The frequent items, numbered in the item type's order; newid[] maps a
 * state item number to its frequent number (or -1).
 */
static int32 *
FrequentItems(Layout *l, int64 min_count)
{
	int32	   *newid;
	uint32		i;
	int32		f;

	l->freq = LayoutAlloc(l, (Size) Max(l->ni, 1) * sizeof(uint32));
	l->nfreq = 0;
	for (i = 0; i < l->ni; i++)
		if (l->icount[i] >= min_count)
			l->freq[l->nfreq++] = i;
	qsort_arg(l->freq, l->nfreq, sizeof(uint32), CompareItems, l->st);
	CHECK_FOR_INTERRUPTS();
	newid = LayoutAlloc(l, (Size) Max(l->ni, 1) * sizeof(int32));
	for (i = 0; i < l->ni; i++)
		newid[i] = -1;
	l->nfreqpairs = 0;
	for (f = 0; f < l->nfreq; f++)
	{
		newid[l->freq[f]] = f;
		l->nfreqpairs += l->icount[l->freq[f]];
	}
	return newid;
}

/* The number of baskets holding the most frequent item. */
static int64
MaxItemCount(const Layout *l)
{
	int64		most = 0;
	uint32		i;

	for (i = 0; i < l->ni; i++)
		most = Max(most, l->icount[i]);
	return most;
}

/* The vertical layout: each frequent item's baskets, ascending. */
static void
VerticalLayout(Layout *l, const int32 *newid)
{
	int64	   *fill;
	int64		start = 0;
	uint32		b;
	int32		f;

	l->tid_off = LayoutAlloc(l, (Size) (l->nfreq + 1) * sizeof(int64));
	l->tid_off[0] = 0;
	for (f = 0; f < l->nfreq; f++)
		l->tid_off[f + 1] = l->tid_off[f] + l->icount[l->freq[f]];
	l->tids = LayoutAlloc(l, (Size) l->nfreqpairs * sizeof(uint32));
	fill = LayoutAlloc(l, (Size) Max(l->nfreq, 1) * sizeof(int64));
	memcpy(fill, l->tid_off, (Size) l->nfreq * sizeof(int64));
	for (b = 0; b < l->nb; b++)
	{
		int64		k;

		STEP_CHECK(b);
		for (k = start; k < l->boff[b + 1]; k++)
		{
			int32		id = newid[l->items[k]];

			if (id >= 0)
				l->tids[fill[id]++] = b;
		}
		start = l->boff[b + 1];
	}
	pfree(fill);
}

/* The horizontal layout: each basket's frequent items, ascending. */
static void
HorizontalLayout(Layout *l)
{
	int64	   *fill;
	int64		k;
	uint32		b;
	int32		f;

	l->bas_off = LayoutAlloc(l, (Size) (l->nb + 1) * sizeof(int64));
	memset(l->bas_off, 0, (Size) (l->nb + 1) * sizeof(int64));
	for (k = 0; k < l->nfreqpairs; k++)
	{
		STEP_CHECK(k);
		l->bas_off[l->tids[k] + 1]++;
	}
	for (b = 0; b < l->nb; b++)
		l->bas_off[b + 1] += l->bas_off[b];
	l->bitems = LayoutAlloc(l, (Size) l->nfreqpairs * sizeof(uint32));
	fill = LayoutAlloc(l, (Size) Max(l->nb, 1) * sizeof(int64));
	memcpy(fill, l->bas_off, (Size) l->nb * sizeof(int64));
	for (f = 0; f < l->nfreq; f++)
	{
		CHECK_FOR_INTERRUPTS();
		for (k = l->tid_off[f]; k < l->tid_off[f + 1]; k++)
			l->bitems[fill[l->tids[k]]++] = (uint32) f;
	}
	pfree(fill);
}

/* The text of each frequent item and its count. */
static void
ItemNames(Layout *l, CxPatterns *out)
{
	MemoryContext old = MemoryContextSwitchTo(l->cxt);
	int32		f;

	out->item_name = LayoutAlloc(l, (Size) Max(l->nfreq, 1) * sizeof(char *));
	out->item_count = LayoutAlloc(l, (Size) Max(l->nfreq, 1) * sizeof(int64));
	for (f = 0; f < l->nfreq; f++)
	{
		STEP_CHECK(f);
		out->item_name[f] = CxValueText(&l->st->item_ti, l->st->items.values[l->freq[f]]);
		out->item_count[f] = l->icount[l->freq[f]];
	}
	MemoryContextSwitchTo(old);
}

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
	memset(&l, 0, sizeof(l));
	l.st = st;
	l.work = CX_WORK_MINING;
	l.nb = st->rowform ? st->baskets.nvalues : st->nbaskets;
	l.ni = st->items.nvalues;
	if (l.nb == 0)
		PG_RETURN_NULL();
	l.cxt = AllocSetContextCreate(st->cxt, "cxsell.mine final", ALLOCSET_DEFAULT_SIZES);
	CxEnterAggregate(&call, fcinfo);

	/*
	 * Items are ordered (types without a btree order by their text) and
	 * named under fixed output settings, as pg_dump prints values: names do
	 * not depend on the session's DateStyle, TimeZone, IntervalStyle or
	 * extra_float_digits, and different values print differently.
	 */
	nestlevel = NewGUCNestLevel();
	CxPinOutputSettings();

	GroupByBasket(&l);
	DedupAndCount(&l);
	n = l.nb;
	min_count = MinCount(n, st->min_support);
	newid = FrequentItems(&l, min_count);
	/* likely mistakes: basket and item swapped; a percentage as min_support */
	if ((int64) l.nfreq > (int64) l.nb)
		l.work = CX_WORK_MINING_WIDE;
	else if (l.nfreq == 0 && st->min_support >= 0.5)
		ereport(NOTICE,
				(errmsg("no item is in at least %lld of the %lld baskets",
						(long long) min_count, (long long) n),
				 errdetail("min_support %g asks for items in %g%% of the baskets; the most frequent item is in %lld.",
						   st->min_support, st->min_support * 100.0, (long long) MaxItemCount(&l)),
				 errhint("min_support is a fraction of the baskets: 0.01 means 1%%.")));
	VerticalLayout(&l, newid);
	pfree(l.items);
	pfree(l.boff);
	HorizontalLayout(&l);

	memset(&out, 0, sizeof(out));
	out.n = n;
	out.min_support = st->min_support;
	out.max_len = st->max_len;
	out.min_count = min_count;
	out.nitems = l.nfreq;
	ItemNames(&l, &out);
	AtEOXact_GUC(false, nestlevel);

	in.nbaskets = l.nb;
	in.nitems = l.nfreq;
	in.tid_off = l.tid_off;
	in.tids = l.tids;
	in.basket_off = l.bas_off;
	in.bitems = l.bitems;
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
