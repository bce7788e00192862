/*
 * mine_weights.c
 *		The weight of every mined itemset: the sum of the weights of the
 *		baskets holding it.
 *
 * The miners count baskets; the weights are summed afterwards, in one
 * depth-first walk over the itemsets in lexicographic order, keeping the
 * baskets (tid list) of each prefix on a stack: an itemset's baskets are its
 * prefix's intersected with its last item's.  Every subset of a stored
 * itemset is stored, so each itemset's prefix is met just before it.  Sums
 * are exact, in fixed point, so the result does not depend on the order of
 * the baskets (a parallel plan gives the serial plan's weights).
 */
#include "postgres.h"

#include "miscadmin.h"

#include "mine_layout.h"

typedef struct WeighSort
{
	const CxPatterns *p;
} WeighSort;

/* qsort_arg comparator: itemset numbers in lexicographic order of items. */
static int
CompareLex(const void *a, const void *b, void *arg)
{
	const CxPatterns *p = ((const WeighSort *) arg)->p;
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;
	const uint32 *ix = p->set_items + p->set_off[x];
	const uint32 *iy = p->set_items + p->set_off[y];
	int32		n = Min(p->set_size[x], p->set_size[y]);
	int32		k;

	for (k = 0; k < n; k++)
		if (ix[k] != iy[k])
			return ix[k] < iy[k] ? -1 : 1;
	return (p->set_size[x] > p->set_size[y]) - (p->set_size[x] < p->set_size[y]);
}

/*
 * Set out->total_weight and out->set_weight from the baskets of layout `l`
 * (after CxHorizontalLayout) and their weights.
 */
void
CxWeighItemsets(Layout *l, const INT128 *basket_weight, CxPatterns *out)
{
	int64	   *toff;
	uint32	   *tids;
	int64	   *fill;
	int64	   *order;
	uint32	  **stack;
	int64	   *stack_len;
	int64	   *stack_cap;
	INT128		total = int64_to_int128(0);
	WeighSort	ws;
	int32		maxsize = 1;
	int32		f;
	uint32		b;
	int64		k;

	/* the total, and each frequent item's baskets */
	toff = CxLayoutAlloc(l, (Size) (out->nitems + 1) * sizeof(int64));
	memset(toff, 0, (Size) (out->nitems + 1) * sizeof(int64));
	for (b = 0; b < l->nb; b++)
	{
		if ((b & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		CxWeightAdd(&total, basket_weight[b]);
		for (k = l->boff[b]; k < l->boff[b + 1]; k++)
			toff[l->items[k] + 1]++;
	}
	for (f = 0; f < out->nitems; f++)
		toff[f + 1] += toff[f];
	tids = CxLayoutAlloc(l, (Size) Max(toff[out->nitems], 1) * sizeof(uint32));
	fill = CxLayoutAlloc(l, (Size) Max(out->nitems, 1) * sizeof(int64));
	memcpy(fill, toff, (Size) out->nitems * sizeof(int64));
	for (b = 0; b < l->nb; b++)
	{
		if ((b & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		for (k = l->boff[b]; k < l->boff[b + 1]; k++)
			tids[fill[l->items[k]]++] = b;
	}

	/* the itemsets in lexicographic order */
	order = CxLayoutAlloc(l, (Size) Max(out->nsets, 1) * sizeof(int64));
	for (k = 0; k < out->nsets; k++)
	{
		order[k] = k;
		maxsize = Max(maxsize, out->set_size[k]);
	}
	ws.p = out;
	qsort_arg(order, out->nsets, sizeof(int64), CompareLex, &ws);
	CHECK_FOR_INTERRUPTS();

	stack = CxLayoutAlloc(l, (Size) (maxsize + 1) * sizeof(uint32 *));
	stack_len = CxLayoutAlloc(l, (Size) (maxsize + 1) * sizeof(int64));
	stack_cap = CxLayoutAlloc(l, (Size) (maxsize + 1) * sizeof(int64));
	for (f = 0; f <= maxsize; f++)
	{
		stack[f] = NULL;
		stack_cap[f] = 0;
	}
	out->set_weight = CxLayoutAlloc(l, (Size) Max(out->nsets, 1) * sizeof(double));
	for (k = 0; k < out->nsets; k++)
	{
		int64		s = order[k];
		int32		size = out->set_size[s];
		uint32		last = out->set_items[out->set_off[s] + size - 1];
		const uint32 *mine;
		int64		nmine;
		INT128		sum = int64_to_int128(0);
		int64		t;

		if ((k & 0x3FF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (size == 1)
		{
			/* the first level points into the tid lists */
			stack[1] = tids + toff[last];
			nmine = toff[last + 1] - toff[last];
		}
		else
		{
			if (stack_cap[size] < stack_len[size - 1])
			{
				if (stack[size] != NULL)
					pfree(stack[size]);
				stack_cap[size] = stack_len[size - 1];
				stack[size] = CxLayoutAlloc(l, (Size) stack_cap[size] * sizeof(uint32));
			}
			nmine = CxIntersectSorted(stack[size - 1], stack_len[size - 1],
							  tids + toff[last], toff[last + 1] - toff[last],
							  stack[size]);
		}
		mine = stack[size];
		stack_len[size] = nmine;
		Assert(nmine == out->set_count[s]);
		for (t = 0; t < nmine; t++)
			CxWeightAdd(&sum, basket_weight[mine[t]]);
		out->set_weight[s] = CxWeightDouble(sum);
	}
	out->weighted = true;
	out->total_weight = CxWeightDouble(total);
}
