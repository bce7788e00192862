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

#include "cxsell.h"
#include "mine_state.h"

PG_FUNCTION_INFO_V1(mine_final);

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

/* Allocate in `cxt`, counting against the memory bound of the state. */
static void *
MineAlloc(MineState *st, MemoryContext cxt, Size size)
{
	CxCheckMemory(st->cxt, size, "cxsell.mine");
	return MemoryContextAllocHuge(cxt, Max(size, 1));
}

/* Finalise a cxsell.mine state into a cxsell.patterns value. */
Datum
mine_final(PG_FUNCTION_ARGS)
{
	MineState  *st;
	MemoryContext outcxt = CurrentMemoryContext;
	MemoryContext cxt;
	uint32		nb;
	uint32		ni;
	int64		k;
	int64	   *boff;
	uint32	   *bitems_raw;
	uint32	   *mark;
	int64	   *icount;
	int64		n;
	int64		min_count;
	uint32	   *freq;
	int32		nfreq;
	int32	   *newid;
	int64	   *tid_off;
	uint32	   *tids;
	int64	   *bas_off;
	uint32	   *bitems;
	int64		nfreqpairs;
	CxMineInput in;
	CxPatterns	out;
	bytea	   *result;
	uint32		b;
	int32		f;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (MineState *) PG_GETARG_POINTER(0);
	nb = st->rowform ? st->baskets.nvalues : st->nbaskets;
	ni = st->items.nvalues;
	if (nb == 0)
		PG_RETURN_NULL();

	cxt = AllocSetContextCreate(st->cxt, "cxsell.mine final",
								ALLOCSET_DEFAULT_SIZES);

	/* group the pairs by basket (counting sort) */
	boff = MineAlloc(st, cxt, (Size) (nb + 1) * sizeof(int64));
	memset(boff, 0, (Size) (nb + 1) * sizeof(int64));
	for (k = 0; k < st->npairs; k++)
		boff[st->pair_basket[k] + 1]++;
	for (b = 0; b < nb; b++)
		boff[b + 1] += boff[b];
	bitems_raw = MineAlloc(st, cxt, (Size) st->npairs * sizeof(uint32));
	{
		int64	   *fill = MineAlloc(st, cxt, (Size) nb * sizeof(int64));

		memcpy(fill, boff, (Size) nb * sizeof(int64));
		for (k = 0; k < st->npairs; k++)
			bitems_raw[fill[st->pair_basket[k]]++] = st->pair_item[k];
		pfree(fill);
	}

	/* drop repeated items within a basket and count each item's baskets */
	mark = MineAlloc(st, cxt, (Size) Max(ni, 1) * sizeof(uint32));
	icount = MineAlloc(st, cxt, (Size) Max(ni, 1) * sizeof(int64));
	memset(icount, 0, (Size) Max(ni, 1) * sizeof(int64));
	for (k = 0; k < ni; k++)
		mark[k] = PG_UINT32_MAX;
	{
		int64		w = 0;
		int64		start = 0;

		for (b = 0; b < nb; b++)
		{
			int64		end = boff[b + 1];

			for (k = start; k < end; k++)
			{
				uint32		item = bitems_raw[k];

				if (mark[item] != b)
				{
					mark[item] = b;
					icount[item]++;
					bitems_raw[w++] = item;
				}
			}
			start = end;
			boff[b + 1] = w;
		}
	}
	pfree(mark);
	CHECK_FOR_INTERRUPTS();

	/* frequent items, numbered in the item type's order */
	n = nb;
	min_count = MinCount(n, st->min_support);
	freq = MineAlloc(st, cxt, (Size) Max(ni, 1) * sizeof(uint32));
	nfreq = 0;
	for (k = 0; k < ni; k++)
		if (icount[k] >= min_count)
			freq[nfreq++] = (uint32) k;
	qsort_arg(freq, nfreq, sizeof(uint32), CompareItems, st);
	newid = MineAlloc(st, cxt, (Size) Max(ni, 1) * sizeof(int32));
	for (k = 0; k < ni; k++)
		newid[k] = -1;
	nfreqpairs = 0;
	for (f = 0; f < nfreq; f++)
	{
		newid[freq[f]] = f;
		nfreqpairs += icount[freq[f]];
	}

	/* vertical layout: each frequent item's baskets, ascending */
	tid_off = MineAlloc(st, cxt, (Size) (nfreq + 1) * sizeof(int64));
	tid_off[0] = 0;
	for (f = 0; f < nfreq; f++)
		tid_off[f + 1] = tid_off[f] + icount[freq[f]];
	tids = MineAlloc(st, cxt, (Size) nfreqpairs * sizeof(uint32));
	{
		int64	   *fill = MineAlloc(st, cxt, (Size) Max(nfreq, 1) * sizeof(int64));
		int64		start = 0;

		memcpy(fill, tid_off, (Size) nfreq * sizeof(int64));
		for (b = 0; b < nb; b++)
		{
			for (k = start; k < boff[b + 1]; k++)
			{
				int32		id = newid[bitems_raw[k]];

				if (id >= 0)
					tids[fill[id]++] = b;
			}
			start = boff[b + 1];
		}
		pfree(fill);
	}
	pfree(bitems_raw);
	pfree(boff);

	/* horizontal layout: each basket's frequent items, ascending */
	bas_off = MineAlloc(st, cxt, (Size) (nb + 1) * sizeof(int64));
	memset(bas_off, 0, (Size) (nb + 1) * sizeof(int64));
	for (k = 0; k < nfreqpairs; k++)
		bas_off[tids[k] + 1]++;
	for (b = 0; b < nb; b++)
		bas_off[b + 1] += bas_off[b];
	bitems = MineAlloc(st, cxt, (Size) nfreqpairs * sizeof(uint32));
	{
		int64	   *fill = MineAlloc(st, cxt, (Size) nb * sizeof(int64));

		memcpy(fill, bas_off, (Size) nb * sizeof(int64));
		for (f = 0; f < nfreq; f++)
			for (k = tid_off[f]; k < tid_off[f + 1]; k++)
				bitems[fill[tids[k]]++] = (uint32) f;
		pfree(fill);
	}
	CHECK_FOR_INTERRUPTS();

	/* mine */
	memset(&out, 0, sizeof(out));
	out.n = n;
	out.min_support = st->min_support;
	out.max_len = st->max_len;
	out.min_count = min_count;
	out.nitems = nfreq;
	out.item_name = MineAlloc(st, cxt, (Size) Max(nfreq, 1) * sizeof(char *));
	out.item_count = MineAlloc(st, cxt, (Size) Max(nfreq, 1) * sizeof(int64));
	for (f = 0; f < nfreq; f++)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		out.item_name[f] = CxValueText(&st->item_ti, st->items.values[freq[f]]);
		out.item_count[f] = icount[freq[f]];
		MemoryContextSwitchTo(old);
	}

	in.nbaskets = nb;
	in.nitems = nfreq;
	in.tid_off = tid_off;
	in.tids = tids;
	in.basket_off = bas_off;
	in.bitems = bitems;
	in.min_count = min_count;
	in.max_len = st->max_len;
	CxMine(&in, &out, cxt, st->cxt);

	MemoryContextSwitchTo(outcxt);
	result = CxPatternsEncode(&out);
	MemoryContextDelete(cxt);
	PG_RETURN_BYTEA_P(result);
}
