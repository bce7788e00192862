/*
 * mine_layout.c
 *		From the (basket, item) pairs of a cxsell.mine state to the layout
 *		the miners read.  Every step is linear in the number of pairs except
 *		the sort of the frequent items and of each basket's items.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "mine_layout.h"

/* Check for interrupts once per this many elements of a linear pass. */
#define STEP_CHECK(i) do { if (((i) & 0xFFFFF) == 0) CHECK_FOR_INTERRUPTS(); } while (0)


/*
 * Start the layouts of state `st` in a memory context of their own under
 * the state's; false when the state holds no basket.
 */
bool
CxLayoutStart(Layout *l, MineState *st)
{
	memset(l, 0, sizeof(*l));
	l->st = st;
	l->work = CX_WORK_MINING;
	l->nb = st->rowform ? st->baskets.nvalues : st->nbaskets;
	l->ni = st->items.nvalues;
	if (l->nb == 0)
		return false;
	l->cxt = AllocSetContextCreate(st->cxt, "cxsell layout", ALLOCSET_DEFAULT_SIZES);
	return true;
}

/*
 * The smallest basket count c with c / n >= min_support, computed with the
 * same floating-point division a user would write.
 */
int64
CxMinCount(int64 n, double min_support)
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
void *
CxLayoutAlloc(Layout *l, Size size)
{
	CxCheckMemory(l->st->limitcxt, size, l->work);
	return MemoryContextAllocHuge(l->cxt, Max(size, 1));
}

/*
 * Group the state's pairs by basket (counting sort); under a hierarchy, each
 * item brings its ancestors along (repeats go with the others).
 */
void
CxGroupByBasket(Layout *l)
{
	MineState  *st = l->st;
	int64	   *fill;
	int64		k;
	uint32		b;

	l->boff = CxLayoutAlloc(l, (Size) (l->nb + 1) * sizeof(int64));
	memset(l->boff, 0, (Size) (l->nb + 1) * sizeof(int64));
	for (k = 0; k < st->npairs; k++)
	{
		STEP_CHECK(k);
		l->boff[st->pair_basket[k] + 1] += 1 + (l->anc_off == NULL ? 0 :
			l->anc_off[st->pair_item[k] + 1] - l->anc_off[st->pair_item[k]]);
	}
	for (b = 0; b < l->nb; b++)
		l->boff[b + 1] += l->boff[b];
	l->items = CxLayoutAlloc(l, (Size) Max(l->boff[l->nb], 1) * sizeof(uint32));
	fill = CxLayoutAlloc(l, (Size) Max(l->nb, 1) * sizeof(int64));
	memcpy(fill, l->boff, (Size) l->nb * sizeof(int64));
	for (k = 0; k < st->npairs; k++)
	{
		uint32		item = st->pair_item[k];

		STEP_CHECK(k);
		l->items[fill[st->pair_basket[k]]++] = item;
		if (l->anc_off != NULL)
		{
			int32		a;

			for (a = l->anc_off[item]; a < l->anc_off[item + 1]; a++)
				l->items[fill[st->pair_basket[k]]++] = l->anc[a];
		}
	}
	pfree(fill);
}

/* Drop repeated items within a basket and count each item's baskets. */
void
CxDedupAndCount(Layout *l)
{
	uint32	   *mark = CxLayoutAlloc(l, (Size) Max(l->ni, 1) * sizeof(uint32));
	int64		w = 0;
	int64		start = 0;
	uint32		i;
	uint32		b;

	l->icount = CxLayoutAlloc(l, (Size) Max(l->ni, 1) * sizeof(int64));
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
int32 *
CxFrequentItems(Layout *l, int64 min_count)
{
	int32	   *newid;
	uint32		i;
	int32		f;

	l->freq = CxLayoutAlloc(l, (Size) Max(l->ni, 1) * sizeof(uint32));
	l->nfreq = 0;
	for (i = 0; i < l->ni; i++)
		if (l->icount[i] >= min_count)
			l->freq[l->nfreq++] = i;
	qsort_arg(l->freq, l->nfreq, sizeof(uint32), CompareItems, l->st);
	CHECK_FOR_INTERRUPTS();
	newid = CxLayoutAlloc(l, (Size) Max(l->ni, 1) * sizeof(int32));
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
int64
CxMaxItemCount(const Layout *l)
{
	int64		most = 0;
	uint32		i;

	for (i = 0; i < l->ni; i++)
		most = Max(most, l->icount[i]);
	return most;
}

/*
 * The horizontal layout, in place of the grouped items: each basket's
 * frequent items by frequent number, ascending; and each frequent item's
 * count.  Baskets stay numbered as they were, the empty ones included.
 */
void
CxHorizontalLayout(Layout *l, const int32 *newid)
{
	int64		start = 0;
	int64		w = 0;
	uint32		b;
	int32		f;

	l->fcount = CxLayoutAlloc(l, (Size) Max(l->nfreq, 1) * sizeof(int64));
	for (f = 0; f < l->nfreq; f++)
		l->fcount[f] = l->icount[l->freq[f]];
	for (b = 0; b < l->nb; b++)
	{
		int64		end = l->boff[b + 1];
		int64		first = w;
		int64		k;

		STEP_CHECK(b);
		for (k = start; k < end; k++)
		{
			int32		id = newid[l->items[k]];

			if (id >= 0)
				l->items[w++] = (uint32) id;
		}
		CxSortUint32(l->items + first, w - first);
		start = end;
		l->boff[b + 1] = w;
	}
	Assert(w == l->nfreqpairs);
}

/*
 * The text of each frequent item and its count.  Results name items by
 * their text, so two values that print alike (some types' values do, such
 * as two operators of one name) are refused.
 */
void
CxItemNames(Layout *l, CxPatterns *out)
{
	MemoryContext old = MemoryContextSwitchTo(l->cxt);
	const char *dup;
	int32		f;

	out->item_name = CxLayoutAlloc(l, (Size) Max(l->nfreq, 1) * sizeof(char *));
	out->item_count = CxLayoutAlloc(l, (Size) Max(l->nfreq, 1) * sizeof(int64));
	for (f = 0; f < l->nfreq; f++)
	{
		STEP_CHECK(f);
		out->item_name[f] = CxValueText(&l->st->item_ti, l->st->items.values[l->freq[f]]);
		out->item_count[f] = l->icount[l->freq[f]];
	}
	dup = CxDuplicateName(out->item_name, l->nfreq);
	if (dup != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("two distinct items print as \"%s\"", dup),
				 errdetail("Results name items by their text, so each item must print differently."),
				 errhint("Pass the items as text or as a type whose values print apart, such as oid instead of regoper.")));
	MemoryContextSwitchTo(old);
}
