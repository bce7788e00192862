/*
 * hierarchy.c
 *		Item hierarchies: the ancestors of every item from the links
 *		child -> parent, and the hierarchy a cxsell.patterns value holds.
 *
 * A hierarchy may be any directed graph without a cycle: an item may have
 * several parents (a product in two departments).  Its ancestors are its
 * parents, their parents and so on.
 */
#include "postgres.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "cxsell.h"

PG_FUNCTION_INFO_V1(patterns_hierarchy);

/* Allocate n elements of `size` bytes, counted against cxsell.max_memory. */
static void *
ClosureAlloc(MemoryContext limitcxt, int64 n, Size size)
{
	CxCheckMemory(limitcxt, (Size) Max(n, 1) * size, CX_WORK_MINING);
	return palloc_extended((Size) Max(n, 1) * size, MCXT_ALLOC_HUGE);
}

/*
 * The ancestors of each of items 0..nitems-1 given the links child[k] ->
 * parent[k] (repeats allowed), as *anc_off / *anc (see CxPatterns), in the
 * current memory context, counted against cxsell.max_memory as held by
 * `limitcxt`.  Returns false, with *in_cycle an item on it, when the links
 * have a cycle.
 */
bool
CxAncestorClosure(int32 nitems, int64 nlinks, const uint32 *child,
				  const uint32 *parent, int32 **anc_off, uint32 **anc,
				  int32 *in_cycle, MemoryContext limitcxt)
{
	int64	   *poff = ClosureAlloc(limitcxt, (int64) nitems + 1, sizeof(int64));
	uint32	   *par = ClosureAlloc(limitcxt, nlinks, sizeof(uint32));
	int64	   *fill = ClosureAlloc(limitcxt, nitems, sizeof(int64));
	uint8	   *color = ClosureAlloc(limitcxt, nitems, 1);	/* 0 new, 1 open, 2 done */
	int32	   *stack = ClosureAlloc(limitcxt, nitems, sizeof(int32));
	int64	   *at = ClosureAlloc(limitcxt, nitems, sizeof(int64));
	int64	   *start = ClosureAlloc(limitcxt, nitems, sizeof(int64));
	int32	   *len = ClosureAlloc(limitcxt, nitems, sizeof(int32));
	uint32	   *stamp = ClosureAlloc(limitcxt, nitems, sizeof(uint32));
	uint32	   *buf = ClosureAlloc(limitcxt, nitems, sizeof(uint32));
	uint32	   *pool = NULL;
	int64		pool_len = 0;
	int64		pool_cap = 0;
	int64		k;
	int32		i;
	int32	   *off;
	uint32	   *out;

	memset(poff, 0, ((Size) nitems + 1) * sizeof(int64));
	memset(color, 0, Max(nitems, 1));
	memset(len, 0, Max(nitems, 1) * sizeof(int32));
	memset(stamp, 0, Max(nitems, 1) * sizeof(uint32));
	for (k = 0; k < nlinks; k++)
		poff[child[k] + 1]++;
	for (i = 0; i < nitems; i++)
		poff[i + 1] += poff[i];
	memcpy(fill, poff, (Size) nitems * sizeof(int64));
	for (k = 0; k < nlinks; k++)
		par[fill[child[k]]++] = parent[k];

	/* depth-first from every item; an item's ancestors once its parents' are known */
	for (i = 0; i < nitems; i++)
	{
		int32		depth = 0;

		if (color[i] != 0)
			continue;
		stack[0] = i;
		at[i] = poff[i];
		color[i] = 1;
		while (depth >= 0)
		{
			int32		x = stack[depth];
			int32		n = 0;

			CHECK_FOR_INTERRUPTS();
			if (at[x] < poff[x + 1])
			{
				int32		p = (int32) par[at[x]++];

				if (color[p] == 1)
				{
					*in_cycle = p;
					return false;
				}
				if (color[p] == 0)
				{
					color[p] = 1;
					at[p] = poff[p];
					stack[++depth] = p;
				}
				continue;
			}

			/*
			 * Every parent of x is done: x's ancestors are its parents and
			 * theirs, each taken once (stamped with x), sorted once.
			 */
			for (k = poff[x]; k < poff[x + 1]; k++)
			{
				int32		p = (int32) par[k];
				int32		j;

				if ((k & 255) == 0)
					CHECK_FOR_INTERRUPTS();
				if (stamp[p] != (uint32) x + 1)
				{
					stamp[p] = (uint32) x + 1;
					buf[n++] = (uint32) p;
				}
				for (j = 0; j < len[p]; j++)
				{
					uint32		q = pool[start[p] + j];

					if (stamp[q] != (uint32) x + 1)
					{
						stamp[q] = (uint32) x + 1;
						buf[n++] = q;
					}
				}
			}
			CxSortUint32(buf, n);
			if (pool_len + n > PG_INT32_MAX)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("the item hierarchy is too deep"),
						 errdetail("The items' ancestors number more than %d in all.", PG_INT32_MAX),
						 errhint("Give each item a few levels of ancestors, not a long chain.")));
			if (pool_len + n > pool_cap)
				pool = CxGrowArray(pool, &pool_cap, pool_len + n, sizeof(uint32),
								   CurrentMemoryContext, limitcxt, CX_WORK_MINING);
			memcpy(pool + pool_len, buf, (Size) n * sizeof(uint32));
			start[x] = pool_len;
			len[x] = n;
			pool_len += n;
			color[x] = 2;
			depth--;
		}
	}

	off = ClosureAlloc(limitcxt, (int64) nitems + 1, sizeof(int32));
	out = ClosureAlloc(limitcxt, pool_len, sizeof(uint32));
	off[0] = 0;
	for (i = 0; i < nitems; i++)
	{
		if (len[i] > 0)
			memcpy(out + off[i], pool + start[i], (Size) len[i] * sizeof(uint32));
		off[i + 1] = off[i] + len[i];
	}
	*anc_off = off;
	*anc = out;
	pfree(poff);
	pfree(par);
	pfree(fill);
	pfree(color);
	pfree(stack);
	pfree(at);
	pfree(start);
	pfree(len);
	pfree(stamp);
	pfree(buf);
	if (pool)
		pfree(pool);
	return true;
}

/*
 * Sort the links child[k] -> parent[k] by (child, parent) and drop repeats,
 * in place; returns how many remain.  Working memory is counted against
 * cxsell.max_memory as held by `limitcxt`.
 */
int64
CxSortLinks(uint32 *child, uint32 *parent, int64 n, MemoryContext limitcxt)
{
	uint64	   *keys = ClosureAlloc(limitcxt, n, sizeof(uint64));
	int64		kept = 0;
	int64		k;

	for (k = 0; k < n; k++)
		keys[k] = (uint64) child[k] << 32 | parent[k];
	qsort(keys, n, sizeof(uint64), CxCompareUint64);
	CHECK_FOR_INTERRUPTS();
	for (k = 0; k < n; k++)
	{
		if (k > 0 && keys[k] == keys[k - 1])
			continue;
		child[kept] = (uint32) (keys[k] >> 32);
		parent[kept] = (uint32) keys[k];
		kept++;
	}
	pfree(keys);
	return kept;
}

/* Item `item`'s links to its parents: p->link_parent[*first .. *end). */
void
CxParentLinks(const CxPatterns *p, uint32 item, int64 *first, int64 *end)
{
	int64		lo = 0;
	int64		hi = p->nlinks;

	while (lo < hi)
	{
		int64		mid = lo + (hi - lo) / 2;

		if (p->link_child[mid] < item)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (hi < p->nlinks && p->link_child[hi] == item)
		hi++;
	*end = hi;
}

/*
 * Every item's depth in the value's hierarchy: 0 without a parent, else 1 +
 * its deepest parent's (all 0 without a hierarchy).  Iterative: a chain may
 * be deeper than the stack.
 */
int32 *
CxItemDepths(const CxPatterns *p)
{
	int32	   *depths = palloc_extended((Size) Max(p->nitems, 1) * sizeof(int32), MCXT_ALLOC_HUGE);
	int32	   *stack = palloc_extended((Size) Max(p->nitems, 1) * sizeof(int32), MCXT_ALLOC_HUGE);
	int64	   *at = palloc_extended((Size) Max(p->nitems, 1) * sizeof(int64), MCXT_ALLOC_HUGE);
	int32		i;

	for (i = 0; i < p->nitems; i++)
		depths[i] = -1;
	for (i = 0; i < p->nitems; i++)
	{
		int32		top = 0;
		int64		end;

		if (depths[i] >= 0)
			continue;
		stack[0] = i;
		CxParentLinks(p, (uint32) i, &at[i], &end);
		depths[i] = -2;			/* open */
		while (top >= 0)
		{
			int32		x = stack[top];
			int64		first;
			int32		d = 0;

			CHECK_FOR_INTERRUPTS();
			CxParentLinks(p, (uint32) x, &first, &end);
			if (at[x] < end)
			{
				int32		q = (int32) p->link_parent[at[x]++];

				if (depths[q] == -1)
				{
					depths[q] = -2;
					CxParentLinks(p, (uint32) q, &at[q], &end);
					stack[++top] = q;
				}
				continue;
			}
			/* the value holds no cycle: every parent is done */
			for (; first < end; first++)
				d = Max(d, 1 + depths[p->link_parent[first]]);
			depths[x] = d;
			top--;
		}
	}
	pfree(stack);
	pfree(at);
	return depths;
}

/*
 * cxsell.hierarchy(patterns): the links item -> parent of the hierarchy the
 * value was mined with, between its frequent items, with both items' counts.
 */
Datum
patterns_hierarchy(PG_FUNCTION_ARGS)
{
	CxPatterns *p = CxPatternsFromDatumCached(fcinfo->flinfo, PG_GETARG_DATUM(0));
	TupleDesc	tupdesc;
	Tuplestorestate *ts = CxMaterializeSRF(fcinfo, &tupdesc);
	int64		k;

	for (k = 0; k < p->nlinks; k++)
	{
		Datum		values[4];
		bool		nulls[4] = {0};

		CHECK_FOR_INTERRUPTS();
		values[0] = CStringGetTextDatum(p->item_name[p->link_child[k]]);
		values[1] = CStringGetTextDatum(p->item_name[p->link_parent[k]]);
		values[2] = Int64GetDatum(p->item_count[p->link_child[k]]);
		values[3] = Int64GetDatum(p->item_count[p->link_parent[k]]);
		tuplestore_putvalues(ts, tupdesc, values, nulls);
	}
	PG_RETURN_NULL();
}
