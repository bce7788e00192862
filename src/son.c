/*
 * son.c
 *		Exact frequent itemsets of a table spread over shards, by the
 *		partition algorithm (Savasere, Omiecinski & Navathe, 1995).
 *
 * An itemset frequent in the whole table is frequent, at the same relative
 * support, in at least one part of it when every basket lies in one part.
 * So cxsell.mine_distributed mines every shard on its own (pass 1), takes
 * the union of the locally frequent itemsets as candidates, has every shard
 * count the candidates, every candidate item and every co-occurring pair of
 * candidate items (pass 2), and builds the patterns value from the summed
 * counts: the same value, byte for byte, as cxsell.mine over all the rows.
 *
 * The functions here are the C steps of that plan:
 *	 cxsell._son_candidates(patterns[])	the union of the shards' itemsets
 *	 cxsell._son_candidate_items(bytea)		the candidate items' names
 *	 cxsell._son_count(basket, item, bytea)	a shard's counts (aggregate)
 *	 cxsell._son_patterns(...)				the patterns from summed counts
 * Items are matched across shards by name (their text under the fixed
 * output settings of cxsell.mine).
 *
 * Candidates: "CXS", version, u32 items, each (u32 length, bytes) in
 * strictly ascending byte order, u64 sets, each (u32 k >= 2, k ascending
 * u32 item numbers), the sets in canonical order without repeats.
 * Counts: "CXN", version, u64 baskets, u32 items, u64 count per item, u64
 * sets, u64 count per set, u64 pairs, then the pairs (a < b, count > 0) in
 * ascending order, each as three varints: a minus the previous pair's a; b
 * minus the previous b when a repeats, else minus a; the count.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/int.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "mine_layout.h"
#include "pair_counts.h"

PG_FUNCTION_INFO_V1(son_candidates);
PG_FUNCTION_INFO_V1(son_candidate_items);
PG_FUNCTION_INFO_V1(son_union);
PG_FUNCTION_INFO_V1(son_count_trans);
PG_FUNCTION_INFO_V1(son_count_final);
PG_FUNCTION_INFO_V1(son_patterns);

#define SON_VERSION 1

/* The candidates, decoded. */
typedef struct Candidates
{
	int32		nitems;
	char	  **names;			/* ascending byte order */
	int64		nsets;
	int32	   *size;
	int64	   *off;
	uint32	   *items;			/* each set's items, ascending */
	int64		nset_items;
} Candidates;

static int
CompareNames(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static int
CompareUint64(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return (x > y) - (x < y);
}

/* The number of `name` among the candidate items, or -1. */
static int32
FindName(const Candidates *c, const char *name)
{
	int32		lo = 0;
	int32		hi = c->nitems;

	while (lo < hi)
	{
		int32		mid = lo + (hi - lo) / 2;
		int			cmp = strcmp(c->names[mid], name);

		if (cmp == 0)
			return mid;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* qsort_arg comparator: sets (by number) in canonical order. */
static int
CompareSets(const void *a, const void *b, void *arg)
{
	const Candidates *c = (const Candidates *) arg;
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;
	int32		k;

	if (c->size[x] != c->size[y])
		return c->size[x] < c->size[y] ? -1 : 1;
	for (k = 0; k < c->size[x]; k++)
	{
		uint32		ix = c->items[c->off[x] + k];
		uint32		iy = c->items[c->off[y] + k];

		if (ix != iy)
			return ix < iy ? -1 : 1;
	}
	return 0;
}

static bytea *
EncodeCandidates(const Candidates *c, const int64 *order, int64 nsets)
{
	StringInfoData buf;
	int32		i;
	int64		s;

	CxStateBegin(&buf, "CXS", SON_VERSION);
	cx_put_u32(&buf, (uint32) c->nitems);
	for (i = 0; i < c->nitems; i++)
	{
		Size		len = strlen(c->names[i]);

		CxStateReserve(&buf, 4 + len);
		cx_put_u32(&buf, (uint32) len);
		appendBinaryStringInfo(&buf, c->names[i], len);
	}
	cx_put_u64(&buf, (uint64) nsets);
	for (s = 0; s < nsets; s++)
	{
		int64		x = order[s];
		int32		k;

		CxStateReserve(&buf, 4 + 4 * (Size) c->size[x]);
		cx_put_u32(&buf, (uint32) c->size[x]);
		for (k = 0; k < c->size[x]; k++)
			cx_put_u32(&buf, c->items[c->off[x] + k]);
	}
	return CxStateEnd(&buf);
}

/* Decode and validate candidates. */
static Candidates *
DecodeCandidates(bytea *bytes)
{
	Candidates *c = palloc0(sizeof(Candidates));
	CxReader	r;
	int32		i;
	int64		s;
	int64		cap = 0;

	CxStateOpen(&r, bytes, "CXS", SON_VERSION, "cxsell candidate itemsets",
				ERRCODE_INVALID_BINARY_REPRESENTATION);
	c->nitems = (int32) cx_get_u32(&r);
	if (c->nitems < 0 || (Size) c->nitems > (r.len - r.pos) / 4)
		CxReaderFail(&r, "The item count exceeds the bytes present");
	c->names = palloc(Max(c->nitems, 1) * sizeof(char *));
	for (i = 0; i < c->nitems; i++)
	{
		uint32		len = cx_get_u32(&r);

		c->names[i] = pnstrdup(cx_get_bytes(&r, len), len);
		if (strlen(c->names[i]) != len ||
			(i > 0 && strcmp(c->names[i - 1], c->names[i]) >= 0))
			CxReaderFail(&r, "The item names are not distinct and ascending");
	}
	c->nsets = (int64) cx_get_u64(&r);
	if (c->nsets < 0 || (Size) c->nsets > (r.len - r.pos) / 12)
		CxReaderFail(&r, "The set count exceeds the bytes present");
	c->size = palloc(Max(c->nsets, 1) * sizeof(int32));
	c->off = palloc(Max(c->nsets, 1) * sizeof(int64));
	for (s = 0; s < c->nsets; s++)
	{
		int32		k = (int32) cx_get_u32(&r);
		int32		j;

		if ((s & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (k < 2 || k > c->nitems || (Size) k > (r.len - r.pos) / 4)
			CxReaderFail(&r, "A set size is out of range");
		c->items = CxGrowArray(c->items, &cap, c->nset_items + k, sizeof(uint32),
							   CurrentMemoryContext, CurrentMemoryContext, CX_WORK_MINING);
		c->size[s] = k;
		c->off[s] = c->nset_items;
		for (j = 0; j < k; j++)
		{
			uint32		item = cx_get_u32(&r);

			if (item >= (uint32) c->nitems ||
				(j > 0 && c->items[c->nset_items + j - 1] >= item))
				CxReaderFail(&r, "A set's items are not ascending candidate items");
			c->items[c->nset_items + j] = item;
		}
		c->nset_items += k;
		if (s > 0)
		{
			int64		prev = s - 1;
			int64		cur = s;

			if (CompareSets(&prev, &cur, c) >= 0)
				CxReaderFail(&r, "The sets are not in canonical order");
		}
	}
	CxReaderEnd(&r);
	return c;
}

/*
 * The union of several sets of candidates: every item name once, in byte
 * order, and every set once, in canonical order.
 */
static bytea *
UnionCandidates(Candidates **parts, int nparts)
{
	Candidates	c;
	int64		nnames = 0;
	char	  **names;
	int64		*order;
	int64		nunique = 0;
	int64		total_sets = 0;
	int64		total_items = 0;
	int64		cap;
	int64		s;
	int			e;

	for (e = 0; e < nparts; e++)
	{
		nnames += parts[e]->nitems;
		total_sets += parts[e]->nsets;
		total_items += parts[e]->nset_items;
	}
	cap = 0;
	names = CxGrowArray(NULL, &cap, Max(nnames, 1), sizeof(char *),
						CurrentMemoryContext, CurrentMemoryContext, CX_WORK_MINING);
	nnames = 0;
	for (e = 0; e < nparts; e++)
	{
		memcpy(names + nnames, parts[e]->names, parts[e]->nitems * sizeof(char *));
		nnames += parts[e]->nitems;
	}

	/* the items: every name, once, in byte order */
	memset(&c, 0, sizeof(c));
	if (nnames > 0)
		qsort(names, nnames, sizeof(char *), CompareNames);
	c.names = palloc(Max(nnames, 1) * sizeof(char *));
	for (s = 0; s < nnames; s++)
		if (c.nitems == 0 || strcmp(c.names[c.nitems - 1], names[s]) != 0)
			c.names[c.nitems++] = names[s];

	/* the sets, in the union's item numbers */
	cap = 0;
	c.size = CxGrowArray(NULL, &cap, Max(total_sets, 1), sizeof(int32),
						 CurrentMemoryContext, CurrentMemoryContext, CX_WORK_MINING);
	cap = 0;
	c.off = CxGrowArray(NULL, &cap, Max(total_sets, 1), sizeof(int64),
						CurrentMemoryContext, CurrentMemoryContext, CX_WORK_MINING);
	cap = 0;
	c.items = CxGrowArray(NULL, &cap, Max(total_items, 1), sizeof(uint32),
						  CurrentMemoryContext, CurrentMemoryContext, CX_WORK_MINING);
	for (e = 0; e < nparts; e++)
	{
		Candidates *p = parts[e];
		int32	   *map = palloc(Max(p->nitems, 1) * sizeof(int32));
		int32		i;

		for (i = 0; i < p->nitems; i++)
			map[i] = FindName(&c, p->names[i]);
		for (s = 0; s < p->nsets; s++)
		{
			int32		k = p->size[s];
			int32		j;

			if ((s & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
			c.size[c.nsets] = k;
			c.off[c.nsets] = c.nset_items;
			for (j = 0; j < k; j++)
				c.items[c.nset_items + j] = (uint32) map[p->items[p->off[s] + j]];
			qsort(c.items + c.nset_items, k, sizeof(uint32), CxCompareUint32);
			c.nset_items += k;
			c.nsets++;
		}
		pfree(map);
	}

	/* in canonical order, each once */
	order = palloc(Max(c.nsets, 1) * sizeof(int64));
	for (s = 0; s < c.nsets; s++)
		order[s] = s;
	qsort_arg(order, c.nsets, sizeof(int64), CompareSets, &c);
	for (s = 0; s < c.nsets; s++)
		if (nunique == 0 || CompareSets(&order[nunique - 1], &order[s], &c) != 0)
			order[nunique++] = order[s];
	return EncodeCandidates(&c, order, nunique);
}

/*
 * cxsell._son_candidates(patterns[]): the itemsets of mining results as
 * candidates (NULL elements are parts without baskets).  A node turns its
 * own result into candidates, so that only the itemsets travel.
 */
Datum
son_candidates(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	Candidates **parts;
	int			nparts = 0;
	int			e;

	deconstruct_array(arr, ARR_ELEMTYPE(arr), -1, false, TYPALIGN_INT,
					  &elems, &nulls, &nelems);
	parts = palloc(Max(nelems, 1) * sizeof(Candidates *));
	for (e = 0; e < nelems; e++)
	{
		CxPatterns *p;
		Candidates *c;

		CHECK_FOR_INTERRUPTS();
		if (nulls[e])
			continue;
		p = CxPatternsFromDatum(elems[e]);
		/* the single items lead the itemsets; the sets of two or more follow */
		c = palloc0(sizeof(Candidates));
		c->nitems = p->nitems;
		c->names = p->item_name;
		c->nsets = p->nsets - p->nitems;
		c->size = p->set_size + p->nitems;
		c->off = p->set_off + p->nitems;
		c->items = p->set_items;
		c->nset_items = p->nsets > p->nitems ?
			p->set_off[p->nsets - 1] + p->set_size[p->nsets - 1] - p->set_off[p->nitems] : 0;
		parts[nparts++] = c;
	}
	PG_RETURN_BYTEA_P(UnionCandidates(parts, nparts));
}

/* cxsell._son_union(candidates[]): the union of the nodes' candidates. */
Datum
son_union(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	Candidates **parts;
	int			nparts = 0;
	int			e;

	deconstruct_array(arr, BYTEAOID, -1, false, TYPALIGN_INT, &elems, &nulls, &nelems);
	parts = palloc(Max(nelems, 1) * sizeof(Candidates *));
	for (e = 0; e < nelems; e++)
	{
		CHECK_FOR_INTERRUPTS();
		if (!nulls[e])
			parts[nparts++] = DecodeCandidates(DatumGetByteaPP(elems[e]));
	}
	PG_RETURN_BYTEA_P(UnionCandidates(parts, nparts));
}

/* cxsell._son_candidate_items(candidates): the candidate items' names, in number order. */
Datum
son_candidate_items(PG_FUNCTION_ARGS)
{
	Candidates *c = DecodeCandidates(PG_GETARG_BYTEA_PP(0));
	Datum	   *elems = palloc(Max(c->nitems, 1) * sizeof(Datum));
	int32		i;

	for (i = 0; i < c->nitems; i++)
		elems[i] = CStringGetTextDatum(c->names[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, c->nitems, TEXTOID, -1, false, TYPALIGN_INT));
}

/* The state of cxsell._son_count: the shard's lines and the candidates. */
typedef struct CountState
{
	MineState  *lines;
	bytea	   *candidates;
} CountState;

/* Transition of cxsell._son_count(basket, item, candidates). */
Datum
son_count_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = CxAggContext(fcinfo);
	CountState *cs = PG_ARGISNULL(0) ? NULL : (CountState *) PG_GETARG_POINTER(0);

	if (cs == NULL)
	{
		cs = MemoryContextAllocZero(aggcxt, sizeof(CountState));
		if (PG_ARGISNULL(3))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("candidates must not be null")));
		cs->candidates = (bytea *) MemoryContextAlloc(aggcxt, VARSIZE_ANY(PG_GETARG_BYTEA_PP(3)));
		memcpy(cs->candidates, PG_GETARG_BYTEA_PP(3), VARSIZE_ANY(PG_GETARG_BYTEA_PP(3)));
	}
	cs->lines = CxMineAddRow(fcinfo, aggcxt, cs->lines, 1.0, 0);
	PG_RETURN_POINTER(cs);
}

/* The baskets (ascending) holding candidate item i: tids[off[i] .. off[i+1]). */
typedef struct Vertical
{
	int64	   *off;
	uint32	   *tids;
} Vertical;

/* The number of baskets holding every item of candidate set s. */
static int64
CountSet(const Candidates *c, const Vertical *v, int64 s, uint32 *buf_a, uint32 *buf_b)
{
	const uint32 *items = c->items + c->off[s];
	int32		k = c->size[s];
	int64		n;
	int32		j;
	uint32	   *cur = buf_a;
	uint32	   *next = buf_b;

	n = v->off[items[0] + 1] - v->off[items[0]];
	memcpy(cur, v->tids + v->off[items[0]], n * sizeof(uint32));
	for (j = 1; j < k && n > 0; j++)
	{
		const uint32 *t = v->tids + v->off[items[j]];
		int64		len = v->off[items[j] + 1] - v->off[items[j]];
		uint32	   *swap;

		n = CxIntersectSorted(cur, n, t, len, next);
		swap = cur;
		cur = next;
		next = swap;
	}
	return n;
}

/*
 * The candidate items of basket b, each once, ascending, into present[];
 * returns how many.
 */
static int32
BasketCandidates(const Layout *l, const int32 *cand, uint32 b, uint32 *present)
{
	int32		np = 0;
	int32		x;
	int32		y;
	int64		k;

	if ((b & 1023) == 0)
		CHECK_FOR_INTERRUPTS();
	for (k = l->boff[b]; k < l->boff[b + 1]; k++)
		if (cand[l->items[k]] >= 0)
			present[np++] = (uint32) cand[l->items[k]];
	qsort(present, np, sizeof(uint32), CxCompareUint32);
	/* two values of one name count once */
	for (x = 0, y = 0; x < np; x++)
		if (y == 0 || present[y - 1] != present[x])
			present[y++] = present[x];
	return y;
}

/*
 * Final of cxsell._son_count: the shard's baskets, the count of every
 * candidate item and set, and of every co-occurring pair of candidate
 * items.  Pairs are counted item by item: for candidate item a, the items
 * after a in each basket holding a go into a dense counter.
 */
Datum
son_count_final(PG_FUNCTION_ARGS)
{
	CountState *cs;
	Candidates *c;
	Layout		l;
	int			nestlevel;
	int32	   *cand;			/* state item -> candidate item, or -1 */
	int64	   *icount;
	int64	   *scount;
	int64	   *hoff;			/* basket b's candidate items: hitems[hoff[b] ..) */
	uint32	   *hitems;
	Vertical	v;
	int64	   *pos;			/* per tid: where its item sits in hitems */
	int64	   *fill;
	int64	   *pcount;
	uint32	   *touched;
	uint32	   *buf_a;
	uint32	   *buf_b;
	int64		maxlist = 0;
	int64		npairs = 0;
	uint32		prev_a = 0;
	Size		npairs_at;
	uint64		be;
	uint32		b;
	uint32		i;
	int64		s;
	StringInfoData buf;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	cs = (CountState *) PG_GETARG_POINTER(0);
	c = DecodeCandidates(cs->candidates);
	CxStateBegin(&buf, "CXN", SON_VERSION);
	if (cs->lines == NULL || !CxLayoutStart(&l, cs->lines))
	{
		/* no basket: every count is zero */
		cx_put_u64(&buf, 0);
		cx_put_u32(&buf, (uint32) c->nitems);
		CxStateReserve(&buf, 8 * ((Size) c->nitems + c->nsets) + 16);
		for (i = 0; i < (uint32) c->nitems; i++)
			cx_put_u64(&buf, 0);
		cx_put_u64(&buf, (uint64) c->nsets);
		for (s = 0; s < c->nsets; s++)
			cx_put_u64(&buf, 0);
		cx_put_u64(&buf, 0);
		PG_RETURN_BYTEA_P(CxStateEnd(&buf));
	}
	CxGroupByBasket(&l);
	CxDedupAndCount(&l);

	/* the state's items by name, under mine's output settings */
	nestlevel = NewGUCNestLevel();
	CxPinOutputSettings();
	cand = CxLayoutAlloc(&l, (Size) Max(l.ni, 1) * sizeof(int32));
	for (i = 0; i < l.ni; i++)
	{
		char	   *name = CxValueText(&l.st->item_ti, l.st->items.values[i]);

		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		cand[i] = FindName(c, name);
		pfree(name);
	}
	AtEOXact_GUC(false, nestlevel);

	/* each basket's candidate items, ascending, and the item counts */
	icount = CxLayoutAlloc(&l, (Size) Max(c->nitems, 1) * sizeof(int64));
	memset(icount, 0, (Size) Max(c->nitems, 1) * sizeof(int64));
	hoff = CxLayoutAlloc(&l, ((Size) l.nb + 1) * sizeof(int64));
	hitems = CxLayoutAlloc(&l, (Size) Max(l.boff[l.nb], 1) * sizeof(uint32));
	hoff[0] = 0;
	for (b = 0; b < l.nb; b++)
	{
		int32		np = BasketCandidates(&l, cand, b, hitems + hoff[b]);
		int32		x;

		for (x = 0; x < np; x++)
			icount[hitems[hoff[b] + x]]++;
		hoff[b + 1] = hoff[b] + np;
	}

	/* the vertical layout, remembering each item's place in its basket */
	v.off = CxLayoutAlloc(&l, (Size) (c->nitems + 1) * sizeof(int64));
	v.off[0] = 0;
	for (i = 0; i < (uint32) c->nitems; i++)
	{
		v.off[i + 1] = v.off[i] + icount[i];
		maxlist = Max(maxlist, icount[i]);
	}
	v.tids = CxLayoutAlloc(&l, (Size) Max(v.off[c->nitems], 1) * sizeof(uint32));
	pos = CxLayoutAlloc(&l, (Size) Max(v.off[c->nitems], 1) * sizeof(int64));
	fill = CxLayoutAlloc(&l, (Size) Max(c->nitems, 1) * sizeof(int64));
	memcpy(fill, v.off, (Size) c->nitems * sizeof(int64));
	for (b = 0; b < l.nb; b++)
	{
		int64		k;

		if ((b & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		for (k = hoff[b]; k < hoff[b + 1]; k++)
		{
			pos[fill[hitems[k]]] = k;
			v.tids[fill[hitems[k]]++] = b;
		}
	}

	/* the sets' counts */
	scount = CxLayoutAlloc(&l, (Size) Max(c->nsets, 1) * sizeof(int64));
	buf_a = CxLayoutAlloc(&l, (Size) Max(maxlist, 1) * sizeof(uint32));
	buf_b = CxLayoutAlloc(&l, (Size) Max(maxlist, 1) * sizeof(uint32));
	for (s = 0; s < c->nsets; s++)
	{
		if ((s & 255) == 0)
			CHECK_FOR_INTERRUPTS();
		scount[s] = CountSet(c, &v, s, buf_a, buf_b);
	}

	/* the answer: counts of items and sets, then the pairs as counted */
	CxStateReserve(&buf, 16 + 8 * ((Size) c->nitems + c->nsets) + 8);
	cx_put_u64(&buf, (uint64) l.nb);
	cx_put_u32(&buf, (uint32) c->nitems);
	for (i = 0; i < (uint32) c->nitems; i++)
		cx_put_u64(&buf, (uint64) icount[i]);
	cx_put_u64(&buf, (uint64) c->nsets);
	for (s = 0; s < c->nsets; s++)
		cx_put_u64(&buf, (uint64) scount[s]);
	npairs_at = buf.len;
	cx_put_u64(&buf, 0);

	pcount = CxLayoutAlloc(&l, (Size) Max(c->nitems, 1) * sizeof(int64));
	memset(pcount, 0, (Size) Max(c->nitems, 1) * sizeof(int64));
	touched = CxLayoutAlloc(&l, (Size) Max(c->nitems, 1) * sizeof(uint32));
	for (i = 0; i < (uint32) c->nitems; i++)
	{
		int32		nt = 0;
		int32		x;
		int64		t;

		CHECK_FOR_INTERRUPTS();
		for (t = v.off[i]; t < v.off[i + 1]; t++)
		{
			int64		end = hoff[v.tids[t] + 1];
			int64		k;

			for (k = pos[t] + 1; k < end; k++)
				if (pcount[hitems[k]]++ == 0)
					touched[nt++] = hitems[k];
		}
		if (nt == 0)
			continue;
		qsort(touched, nt, sizeof(uint32), CxCompareUint32);
		CxStateReserve(&buf, 30 * (Size) nt);
		for (x = 0; x < nt; x++)
		{
			cx_put_varint(&buf, x == 0 ? i - prev_a : 0);
			cx_put_varint(&buf, touched[x] - (x == 0 ? i : touched[x - 1]));
			cx_put_varint(&buf, (uint64) pcount[touched[x]]);
			pcount[touched[x]] = 0;
		}
		prev_a = i;
		npairs += nt;
	}
	be = pg_hton64((uint64) npairs);
	memcpy(buf.data + npairs_at, &be, sizeof(be));
	MemoryContextDelete(l.cxt);
	PG_RETURN_BYTEA_P(CxStateEnd(&buf));
}

/* Add n counts, each at most nb baskets, to totals. */
static void
AddCountArray(CxReader *r, int64 n, int64 nb, int64 *totals, const char *bad)
{
	int64		s;

	if ((Size) n > (r->len - r->pos) / 8)
		CxReaderFail(r, "The counts exceed the bytes present");
	for (s = 0; s < n; s++)
	{
		int64		v = (int64) cx_get_u64(r);

		if (v < 0 || v > nb)
			CxReaderFail(r, bad);
		totals[s] += v;
	}
}

/* Add one shard's counts (validated against the candidates) to the totals. */
static void
AddCounts(bytea *bytes, const Candidates *c, int64 *n, int64 *icount, int64 *scount,
		  cx_pair_counts_hash *pairs)
{
	CxReader	r;
	int64		s;
	int64		npairs;
	int64		nb;
	uint32		prev_a = 0;
	uint32		prev_b = 0;

	CxStateOpen(&r, bytes, "CXN", SON_VERSION, "cxsell candidate counts",
				ERRCODE_INVALID_BINARY_REPRESENTATION);
	nb = (int64) cx_get_u64(&r);
	if (nb < 0 || pg_add_s64_overflow(*n, nb, n))
		CxReaderFail(&r, "The basket count is out of range");
	if ((int32) cx_get_u32(&r) != c->nitems)
		CxReaderFail(&r, "The counts are not of these candidates");
	AddCountArray(&r, c->nitems, nb, icount, "An item count is out of range");
	if ((int64) cx_get_u64(&r) != c->nsets)
		CxReaderFail(&r, "The counts are not of these candidates");
	AddCountArray(&r, c->nsets, nb, scount, "A set count is out of range");
	npairs = (int64) cx_get_u64(&r);
	if (npairs < 0 || (Size) npairs > (r.len - r.pos) / 3)
		CxReaderFail(&r, "The pair count exceeds the bytes present");
	for (s = 0; s < npairs; s++)
	{
		uint64		da = cx_get_varint(&r);
		uint64		db = cx_get_varint(&r);
		uint64		v = cx_get_varint(&r);
		uint64		a = (uint64) prev_a + da;
		uint64		b = (s == 0 || da > 0 ? a : (uint64) prev_b) + db;
		CxPairCount  *pc;
		bool		found;

		if ((s & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
		/* ascending: a never falls, b rises past a and past the last b */
		if (da >= (uint64) c->nitems || db == 0 || db >= (uint64) c->nitems ||
			a >= (uint64) c->nitems ||
			b >= (uint64) c->nitems || v < 1 || v > (uint64) nb)
			CxReaderFail(&r, "A pair is out of range or out of order");
		prev_a = (uint32) a;
		prev_b = (uint32) b;
		pc = cx_pair_counts_insert(pairs, a << 32 | b, &found);
		if (!found)
			pc->count = 0;
		pc->count += (int64) v;
	}
	CxReaderEnd(&r);
}

/* The candidate items as values of the item type, to be ordered. */
typedef struct ItemOrderArg
{
	CxTypeInfo *ti;
	Datum	   *values;
	char	  **names;
} ItemOrderArg;

static int
CompareItems(const void *a, const void *b, void *arg)
{
	const ItemOrderArg *o = (const ItemOrderArg *) arg;
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	CHECK_FOR_INTERRUPTS();
	if (o->values == NULL)
		return strcmp(o->names[x], o->names[y]);
	return CxCompareValues(o->ti, o->values[x], o->values[y]);
}

/*
 * The candidate items (by number) in the order cxsell.mine numbers them:
 * the item type's default btree order under its collation, else the order
 * of their text.  Names are read back under mine's output settings.
 */
static int32 *
ItemOrder(const Candidates *c, Oid type, Oid collation)
{
	CxTypeInfo	ti;
	ItemOrderArg o;
	int32	   *order = palloc(Max(c->nitems, 1) * sizeof(int32));
	int32		i;

	CxTypeInfoInit(&ti, type, collation, "item");
	o.ti = &ti;
	o.names = c->names;
	o.values = NULL;
	if (ti.has_cmp)
	{
		int			nestlevel = NewGUCNestLevel();
		Oid			infn;
		Oid			ioparam;

		CxPinOutputSettings();
		getTypeInputInfo(type, &infn, &ioparam);
		o.values = palloc(Max(c->nitems, 1) * sizeof(Datum));
		for (i = 0; i < c->nitems; i++)
		{
			if ((i & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
			o.values[i] = OidInputFunctionCall(infn, c->names[i], ioparam, -1);
		}
		AtEOXact_GUC(false, nestlevel);
	}
	for (i = 0; i < c->nitems; i++)
		order[i] = i;
	qsort_arg(order, c->nitems, sizeof(int32), CompareItems, &o);
	return order;
}

/*
 * cxsell._son_patterns(candidates, counts[], min_support, max_len,
 * item_type, item_collation): the patterns value of the whole table from
 * every shard's counts, its items numbered as cxsell.mine numbers values of
 * that type and collation.  The value is validated as any stored value is.
 */
Datum
son_patterns(PG_FUNCTION_ARGS)
{
	Candidates *c = DecodeCandidates(PG_GETARG_BYTEA_PP(0));
	ArrayType  *counts = PG_GETARG_ARRAYTYPE_P(1);
	double		min_support = PG_GETARG_FLOAT8(2);
	int32		max_len = PG_GETARG_INT32(3);
	Oid			item_type = PG_GETARG_OID(4);
	Oid			item_collation = PG_GETARG_OID(5);
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	int32	   *order;
	int			norder;
	int32	   *newid;
	int64		n = 0;
	int64	   *icount;
	int64	   *scount;
	cx_pair_counts_hash *pairs;
	cx_pair_counts_iterator it;
	CxPairCount  *pc;
	CxPatterns	out;
	Candidates	o;
	int64	   *sorder;
	int64		nsets = 0;
	int64		nset_items = 0;
	uint64	   *keys;
	int64		npairs = 0;
	int64		s;
	int32		f;
	int			e;
	bytea	   *result;

	CxCheckMineParams(min_support, max_len);

	/* the totals */
	icount = palloc0(Max(c->nitems, 1) * sizeof(int64));
	scount = palloc0(Max(c->nsets, 1) * sizeof(int64));
	pairs = cx_pair_counts_create(CurrentMemoryContext, 1024, NULL);
	deconstruct_array(counts, BYTEAOID, -1, false, TYPALIGN_INT, &elems, &nulls, &nelems);
	for (e = 0; e < nelems; e++)
	{
		CHECK_FOR_INTERRUPTS();
		if (nulls[e])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a shard's counts are missing")));
		AddCounts(DatumGetByteaPP(elems[e]), c, &n, icount, scount, pairs);
	}
	if (n == 0)
		PG_RETURN_NULL();

	/* the frequent items, numbered in the item type's order */
	order = ItemOrder(c, item_type, item_collation);
	norder = c->nitems;
	memset(&out, 0, sizeof(out));
	out.n = n;
	out.min_support = min_support;
	out.max_len = max_len;
	out.min_count = CxMinCount(n, min_support);
	newid = palloc(Max(norder, 1) * sizeof(int32));
	for (e = 0; e < norder; e++)
		newid[e] = -1;
	out.item_name = palloc(Max(norder, 1) * sizeof(char *));
	out.item_count = palloc(Max(norder, 1) * sizeof(int64));
	for (e = 0; e < norder; e++)
		if (icount[order[e]] >= out.min_count)
		{
			newid[order[e]] = out.nitems;
			out.item_name[out.nitems] = c->names[order[e]];
			out.item_count[out.nitems] = icount[order[e]];
			out.nitems++;
		}

	/* the itemsets: the items, then the frequent candidate sets */
	o.size = palloc(Max(out.nitems + c->nsets, 1) * sizeof(int32));
	o.off = palloc(Max(out.nitems + c->nsets, 1) * sizeof(int64));
	o.items = palloc(Max(out.nitems + c->nset_items, 1) * sizeof(uint32));
	out.set_count = palloc(Max(out.nitems + c->nsets, 1) * sizeof(int64));
	for (f = 0; f < out.nitems; f++)
	{
		o.size[nsets] = 1;
		o.off[nsets] = nset_items;
		o.items[nset_items++] = (uint32) f;
		out.set_count[nsets++] = out.item_count[f];
	}
	for (s = 0; s < c->nsets; s++)
	{
		int32		k = c->size[s];
		int32		j;

		if (scount[s] < out.min_count || (max_len > 0 && k > max_len))
			continue;
		o.size[nsets] = k;
		o.off[nsets] = nset_items;
		for (j = 0; j < k; j++)
		{
			int32		id = newid[c->items[c->off[s] + j]];

			if (id < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						 errmsg("invalid cxsell candidate counts value"),
						 errdetail("A set is counted more often than one of its items.")));
			o.items[nset_items + j] = (uint32) id;
		}
		qsort(o.items + nset_items, k, sizeof(uint32), CxCompareUint32);
		nset_items += k;
		out.set_count[nsets++] = scount[s];
	}
	sorder = palloc(Max(nsets, 1) * sizeof(int64));
	for (s = 0; s < nsets; s++)
		sorder[s] = s;
	qsort_arg(sorder, nsets, sizeof(int64), CompareSets, &o);
	out.nsets = nsets;
	out.set_size = palloc(Max(nsets, 1) * sizeof(int32));
	out.set_off = palloc(Max(nsets, 1) * sizeof(int64));
	out.set_items = palloc(Max(nset_items, 1) * sizeof(uint32));
	{
		int64	   *cnt = palloc(Max(nsets, 1) * sizeof(int64));
		int64		w = 0;

		for (s = 0; s < nsets; s++)
		{
			int64		x = sorder[s];

			out.set_size[s] = o.size[x];
			out.set_off[s] = w;
			memcpy(out.set_items + w, o.items + o.off[x], o.size[x] * sizeof(uint32));
			w += o.size[x];
			cnt[s] = out.set_count[x];
		}
		out.set_count = cnt;
	}

	/* the co-occurring pairs of frequent items */
	keys = palloc(Max(pairs->members, 1) * sizeof(uint64));
	cx_pair_counts_start_iterate(pairs, &it);
	while ((pc = cx_pair_counts_iterate(pairs, &it)) != NULL)
	{
		int32		a = newid[pc->key >> 32];
		int32		b = newid[(uint32) pc->key];

		if (a < 0 || b < 0)
			continue;
		keys[npairs++] = a < b ? ((uint64) a << 32 | (uint32) b) : ((uint64) b << 32 | (uint32) a);
	}
	qsort(keys, npairs, sizeof(uint64), CompareUint64);
	out.npairs = npairs;
	out.pair_a = palloc(Max(npairs, 1) * sizeof(uint32));
	out.pair_b = palloc(Max(npairs, 1) * sizeof(uint32));
	out.pair_count = palloc(Max(npairs, 1) * sizeof(int64));
	for (s = 0; s < npairs; s++)
	{
		out.pair_a[s] = (uint32) (keys[s] >> 32);
		out.pair_b[s] = (uint32) keys[s];
	}
	/* the counts, looked up by the candidate numbers of each pair's items */
	{
		int32	   *cand = palloc(Max(out.nitems, 1) * sizeof(int32));

		for (e = 0; e < norder; e++)
			if (newid[order[e]] >= 0)
				cand[newid[order[e]]] = order[e];
		for (s = 0; s < npairs; s++)
		{
			uint32		x = (uint32) cand[out.pair_a[s]];
			uint32		y = (uint32) cand[out.pair_b[s]];

			pc = cx_pair_counts_lookup(pairs, x < y ? ((uint64) x << 32 | y) : ((uint64) y << 32 | x));
			Assert(pc != NULL);
			out.pair_count[s] = pc->count;
		}
	}

	/* encode, then read back as every stored value is read */
	result = CxPatternsEncode(&out);
	(void) CxPatternsFromDatum(PointerGetDatum(result));
	PG_RETURN_BYTEA_P(result);
}
