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

/*
 * The ancestors of each of items 0..nitems-1 given the links child[k] ->
 * parent[k] (repeats allowed), as *anc_off / *anc (see CxPatterns), in the
 * current memory context.  Returns false, with *in_cycle an item on it, when
 * the links have a cycle.
 */
bool
CxAncestorClosure(int32 nitems, int64 nlinks, const uint32 *child,
				  const uint32 *parent, int32 **anc_off, uint32 **anc,
				  int32 *in_cycle)
{
	int64	   *poff = palloc0((Size) (nitems + 1) * sizeof(int64));
	uint32	   *par = palloc(Max(nlinks, 1) * sizeof(uint32));
	int64	   *fill = palloc(Max(nitems, 1) * sizeof(int64));
	uint8	   *color = palloc0(Max(nitems, 1));	/* 0 new, 1 open, 2 done */
	int32	   *stack = palloc(Max(nitems, 1) * sizeof(int32));
	int64	   *at = palloc(Max(nitems, 1) * sizeof(int64));
	int64	   *start = palloc(Max(nitems, 1) * sizeof(int64));
	int32	   *len = palloc0(Max(nitems, 1) * sizeof(int32));
	uint32	   *pool = NULL;
	int64		pool_len = 0;
	int64		pool_cap = 0;
	/* one item's ancestors so far (at most nitems) and one parent's list */
	uint32	   *buf = palloc((2 * (Size) Max(nitems, 1) + 1) * sizeof(uint32));
	int64		k;
	int32		i;
	int32	   *off;
	uint32	   *out;
	int64		total = 0;

	for (k = 0; k < nlinks; k++)
		poff[child[k] + 1]++;
	for (i = 0; i < nitems; i++)
		poff[i + 1] += poff[i];
	memcpy(fill, poff, (Size) nitems * sizeof(int64));
	for (k = 0; k < nlinks; k++)
		par[fill[child[k]]++] = parent[k];
	/* each item's parents once (rows repeat links), in place */
	{
		int64		w = 0;

		for (i = 0; i < nitems; i++)
		{
			int64		from = poff[i];
			int64		j;

			CHECK_FOR_INTERRUPTS();
			CxSortUint32(par + from, poff[i + 1] - from);
			poff[i] = w;
			for (j = from; j < poff[i + 1]; j++)
				if (j == from || par[j] != par[j - 1])
					par[w++] = par[j];
		}
		poff[nitems] = w;
	}

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
			/* every parent of x is done: x's ancestors are theirs and them */
			{
				int32		n = 0;
				int32		u;
				int32		w = 0;

				for (k = poff[x]; k < poff[x + 1]; k++)
				{
					int32		p = (int32) par[k];
					int32		j;

					buf[n++] = (uint32) p;
					for (j = 0; j < len[p]; j++)
						buf[n++] = pool[start[p] + j];
					/* deduplicated after each parent, buf holds at most nitems */
					CxSortUint32(buf, n);
					for (u = 0, w = 0; u < n; u++)
						if (w == 0 || buf[w - 1] != buf[u])
							buf[w++] = buf[u];
					n = w;
				}
				if (pool_len + n > PG_INT32_MAX)
					ereport(ERROR,
							(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							 errmsg("the item hierarchy is too deep"),
							 errdetail("The items' ancestors number more than %d in all.", PG_INT32_MAX),
							 errhint("Give each item a few levels of ancestors, not a long chain.")));
				if (pool_len + n > pool_cap)
					pool = CxGrowArray(pool, &pool_cap, pool_len + n, sizeof(uint32),
									   CurrentMemoryContext, CurrentMemoryContext,
									   CX_WORK_MINING);
				memcpy(pool + pool_len, buf, (Size) n * sizeof(uint32));
				start[x] = pool_len;
				len[x] = n;
				pool_len += n;
				total += n;
			}
			color[x] = 2;
			depth--;
		}
	}

	off = palloc((Size) (nitems + 1) * sizeof(int32));
	out = palloc(Max(total, 1) * sizeof(uint32));
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
	pfree(buf);
	if (pool)
		pfree(pool);
	return true;
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

/* The depth of item x: 0 without a parent, else 1 + its deepest parent's. */
static int32
Depth(const CxPatterns *p, uint32 x, int32 *depths)
{
	int64		first;
	int64		end;
	int32		d = 0;

	if (depths[x] >= 0)
		return depths[x];
	check_stack_depth();
	CxParentLinks(p, x, &first, &end);
	for (; first < end; first++)
		d = Max(d, 1 + Depth(p, p->link_parent[first], depths));
	depths[x] = d;
	return d;
}

/* Every item's depth in the value's hierarchy (all 0 without one). */
int32 *
CxItemDepths(const CxPatterns *p)
{
	int32	   *depths = palloc(Max(p->nitems, 1) * sizeof(int32));
	int32		i;

	for (i = 0; i < p->nitems; i++)
		depths[i] = -1;
	for (i = 0; i < p->nitems; i++)
		(void) Depth(p, (uint32) i, depths);
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
