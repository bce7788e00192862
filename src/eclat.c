/*
 * eclat.c
 *		Frequent itemset mining: Eclat over a vertical database.
 *
 * The walk is Eclat's (M. J. Zaki, "Scalable Algorithms for Association
 * Mining", IEEE TKDE 12(3), 2000): depth first over the itemset lattice in
 * item order, each itemset carrying its tid list (the baskets that hold it).
 * Instead of intersecting tid lists pairwise, the counts of all extensions
 * of an itemset come from one pass over its baskets in the horizontal layout
 * ("occurrence deliver", T. Uno et al., "LCM ver. 2", FIMI 2004), and a
 * second pass builds the tid lists of the frequent extensions.  At the first
 * level this pass also yields the co-occurrence counts of all pairs of
 * frequent items.
 *
 * Work and memory are bounded: every loop checks for interrupts, every
 * allocation counts against cxsell.max_memory, and max_len bounds the depth.
 */
#include "postgres.h"

#include "miscadmin.h"

#include "cxsell.h"

/*
 * One extension of the current prefix: an item, the tid list of prefix+item,
 * and for each of those baskets the offset within it just past the item, so
 * that the items after it are found without a search.
 */
typedef struct Ext
{
	uint32		item;
	int64		len;
	uint32	   *tids;
	uint32	   *starts;
} Ext;

/* Per-depth working arrays, indexed by extension number. */
typedef struct Depth
{
	int32	   *slot;			/* item -> extension number, or -1 */
	int64	   *cnt;			/* co-occurrence count per extension */
	int32	   *touched;		/* extensions with cnt > 0 */
	int32	   *next;			/* extension -> number in the next level */
	MemoryContext cxt;			/* tid lists of the next level */
} Depth;

typedef struct Miner
{
	const CxMineInput *in;
	CxPatterns *out;
	MemoryContext cxt;
	MemoryContext limitcxt;
	Depth	   *depth;			/* per-depth working arrays */
	int32		maxlen;
	uint32	   *prefix;
	int64		set_cap;
	int64		item_cap;
	int64		pair_cap;
	int64		nset_items;
} Miner;

/* Grow an array of `elem`-byte elements from `cap` to at least `want`. */
static void *
Grow(Miner *m, void *ptr, int64 *cap, int64 want, Size elem)
{
	return CxGrowArray(ptr, cap, want, elem, m->cxt, m->limitcxt, m->in->work);
}

/* Record the itemset prefix[0..plen) + {last} with its count. */
static void
EmitSet(Miner *m, int32 plen, uint32 last, int64 count)
{
	CxPatterns *out = m->out;

	/* an itemset's items ascend, and its count makes it frequent */
	Assert(plen == 0 || m->prefix[plen - 1] < last);
	Assert(count >= m->in->min_count && count <= m->in->nbaskets);
	if (out->nsets == m->set_cap)
	{
		int64		cap = m->set_cap;

		out->set_size = Grow(m, out->set_size, &cap, out->nsets + 1, sizeof(int32));
		cap = m->set_cap;
		out->set_count = Grow(m, out->set_count, &cap, out->nsets + 1, sizeof(int64));
		cap = m->set_cap;
		out->set_off = Grow(m, out->set_off, &cap, out->nsets + 1, sizeof(int64));
		m->set_cap = cap;
	}
	if (m->nset_items + plen + 1 > m->item_cap)
		out->set_items = Grow(m, out->set_items, &m->item_cap,
							  m->nset_items + plen + 1, sizeof(uint32));
	out->set_size[out->nsets] = plen + 1;
	out->set_count[out->nsets] = count;
	out->set_off[out->nsets] = m->nset_items;
	if (plen > 0)
		memcpy(out->set_items + m->nset_items, m->prefix, plen * sizeof(uint32));
	out->set_items[m->nset_items + plen] = last;
	m->nset_items += plen + 1;
	out->nsets++;
}

/* Record the co-occurrence count of frequent items a < b. */
static void
EmitPair(Miner *m, uint32 a, uint32 b, int64 count)
{
	CxPatterns *out = m->out;

	if (out->npairs == m->pair_cap)
	{
		int64		cap = m->pair_cap;

		out->pair_a = Grow(m, out->pair_a, &cap, out->npairs + 1, sizeof(uint32));
		cap = m->pair_cap;
		out->pair_b = Grow(m, out->pair_b, &cap, out->npairs + 1, sizeof(uint32));
		cap = m->pair_cap;
		out->pair_count = Grow(m, out->pair_count, &cap, out->npairs + 1, sizeof(int64));
		m->pair_cap = cap;
	}
	out->pair_a[out->npairs] = a;
	out->pair_b[out->npairs] = b;
	out->pair_count[out->npairs] = count;
	out->npairs++;
}

/* The working arrays of depth `d`, created on first use. */
static Depth *
GetDepth(Miner *m, int32 d)
{
	Depth	   *dp = &m->depth[d];

	if (dp->slot == NULL)
	{
		int32		n = Max(m->in->nitems, 1);
		int32		i;

		CxCheckMemory(m->limitcxt, (Size) n * (sizeof(int64) + 3 * sizeof(int32)),
					  m->in->work);
		dp->slot = MemoryContextAlloc(m->cxt, n * sizeof(int32));
		for (i = 0; i < n; i++)
			dp->slot[i] = -1;
		dp->cnt = MemoryContextAllocZero(m->cxt, n * sizeof(int64));
		dp->touched = MemoryContextAlloc(m->cxt, n * sizeof(int32));
		dp->next = MemoryContextAlloc(m->cxt, n * sizeof(int32));
		dp->cxt = AllocSetContextCreate(m->cxt, "cxsell eclat level",
										ALLOCSET_DEFAULT_SIZES);
	}
	return dp;
}

static int
CompareInt32(const void *a, const void *b)
{
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	return (x > y) - (x < y);
}

/*
 * Count, over the baskets of extension a, every later extension b in them:
 * dp->cnt[b] becomes the count of prefix + a + b.  The extensions met are
 * listed in dp->touched, in order; returns how many.
 */
static int32
CountLater(const Miner *m, Depth *dp, const Ext *exts, int32 a)
{
	const CxMineInput *in = m->in;
	int32		ntouched = 0;
	int64		t;

	for (t = 0; t < exts[a].len; t++)
	{
		int64		b = exts[a].tids[t];
		int64		end = in->basket_off[b + 1];
		int64		q;

		for (q = in->basket_off[b] + exts[a].starts[t]; q < end; q++)
		{
			int32		sl = dp->slot[in->bitems[q]];

			if (sl > a && dp->cnt[sl]++ == 0)
				dp->touched[ntouched++] = sl;
		}
	}
	qsort(dp->touched, ntouched, sizeof(int32), CompareInt32);
	return ntouched;
}

/*
 * Record what the counts of CountLater found: the pairs (at depth 0), the
 * frequent itemsets prefix + a + b, and, in dp->next, the number each
 * frequent b gets at the next level (-1 for the others); returns how many
 * go on to the next level.
 */
static int32
RecordCounts(Miner *m, Depth *dp, const Ext *exts, int32 plen, int32 ntouched)
{
	bool		emit = (plen + 2 <= m->maxlen);
	bool		deeper = (plen + 3 <= m->maxlen);
	int32		nnext = 0;
	int32		k;

	for (k = 0; k < ntouched; k++)
	{
		int32		sl = dp->touched[k];
		int64		c = dp->cnt[sl];

		dp->next[sl] = -1;
		if (plen == 0)
			EmitPair(m, m->prefix[plen], exts[sl].item, c);
		if (c < m->in->min_count)
			continue;
		if (emit)
			EmitSet(m, plen + 1, exts[sl].item, c);
		if (deeper)
			dp->next[sl] = nnext++;
	}
	return nnext;
}

/*
 * The extensions of prefix + a for the next level: for each frequent b
 * numbered by RecordCounts, the tid list of prefix + a + b, in dp->cxt.
 */
static Ext *
BuildNext(const Miner *m, Depth *dp, const Ext *exts, int32 a, int32 ntouched,
		  int32 nnext)
{
	const CxMineInput *in = m->in;
	MemoryContext old;
	Size		total = 0;
	Ext		   *next;
	int32		k;
	int64		t;

	for (k = 0; k < ntouched; k++)
		if (dp->next[dp->touched[k]] >= 0)
			total += dp->cnt[dp->touched[k]];
	CxCheckMemory(m->limitcxt, total * 2 * sizeof(uint32) + nnext * sizeof(Ext),
				  m->in->work);
	old = MemoryContextSwitchTo(dp->cxt);
	next = palloc(nnext * sizeof(Ext));
	for (k = 0; k < ntouched; k++)
	{
		int32		sl = dp->touched[k];
		int32		x = dp->next[sl];

		if (x < 0)
			continue;
		next[x].item = exts[sl].item;
		next[x].len = 0;
		next[x].tids = palloc(dp->cnt[sl] * sizeof(uint32));
		next[x].starts = palloc(dp->cnt[sl] * sizeof(uint32));
	}
	MemoryContextSwitchTo(old);
	for (t = 0; t < exts[a].len; t++)
	{
		uint32		b = exts[a].tids[t];
		int64		begin = in->basket_off[b];
		int64		end = in->basket_off[b + 1];
		int64		q;

		for (q = begin + exts[a].starts[t]; q < end; q++)
		{
			int32		sl = dp->slot[in->bitems[q]];
			int32		x;

			if (sl > a && (x = dp->next[sl]) >= 0)
			{
				next[x].tids[next[x].len] = b;
				next[x].starts[next[x].len] = (uint32) (q + 1 - begin);
				next[x].len++;
			}
		}
	}
	return next;
}

/*
 * Extend the prefix prefix[0..plen) by each of its extensions in turn.
 * exts[e] is a frequent item, greater than every prefix item, with the tid
 * list of prefix + item.  For extension a, one pass over a's baskets counts
 * every later extension b in them, giving the count of prefix + a + b; a
 * second pass builds the tid lists of the frequent ones for the next level.
 * At depth 0 the prefix is empty, the extensions are all frequent items, and
 * every co-occurring pair is recorded.
 */
static void
Recurse(Miner *m, int32 plen, Ext *exts, int32 nexts)
{
	Depth	   *dp = GetDepth(m, plen);
	int32		a;
	int32		e;

	check_stack_depth();
	for (e = 0; e < nexts; e++)
		dp->slot[exts[e].item] = e;

	for (a = 0; a + 1 < nexts; a++)
	{
		int32		ntouched;
		int32		nnext;
		int32		k;
		Ext		   *next;

		CHECK_FOR_INTERRUPTS();
		m->prefix[plen] = exts[a].item;
		ntouched = CountLater(m, dp, exts, a);
		nnext = RecordCounts(m, dp, exts, plen, ntouched);
		next = nnext >= 2 ? BuildNext(m, dp, exts, a, ntouched, nnext) : NULL;
		for (k = 0; k < ntouched; k++)
			dp->cnt[dp->touched[k]] = 0;
		if (next != NULL)
		{
			Recurse(m, plen + 1, next, nnext);
			MemoryContextReset(dp->cxt);
		}
	}

	for (e = 0; e < nexts; e++)
		dp->slot[exts[e].item] = -1;
}

/* qsort_arg comparator: itemsets in canonical order (size, then items). */
static int
CompareSets(const void *a, const void *b, void *arg)
{
	const CxPatterns *p = (const CxPatterns *) arg;
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;
	int32		k;

	if (p->set_size[x] != p->set_size[y])
		return p->set_size[x] < p->set_size[y] ? -1 : 1;
	for (k = 0; k < p->set_size[x]; k++)
	{
		uint32		ix = p->set_items[p->set_off[x] + k];
		uint32		iy = p->set_items[p->set_off[y] + k];

		if (ix != iy)
			return ix < iy ? -1 : 1;
	}
	return 0;
}

/* Put the itemsets of `out` into canonical order. */
static void
SortSets(Miner *m)
{
	CxPatterns *out = m->out;
	int64		nsets = out->nsets;
	int64	   *order;
	int32	   *size;
	int64	   *count;
	int64	   *off;
	uint32	   *items;
	int64		i;
	int64		w = 0;

	CxCheckMemory(m->limitcxt,
				  (Size) nsets * (sizeof(int64) * 3 + sizeof(int32)) +
				  (Size) m->nset_items * sizeof(uint32), m->in->work);
	order = MemoryContextAllocHuge(m->cxt, Max(nsets, 1) * sizeof(int64));
	for (i = 0; i < nsets; i++)
		order[i] = i;
	qsort_arg(order, nsets, sizeof(int64), CompareSets, out);

	size = MemoryContextAllocHuge(m->cxt, Max(nsets, 1) * sizeof(int32));
	count = MemoryContextAllocHuge(m->cxt, Max(nsets, 1) * sizeof(int64));
	off = MemoryContextAllocHuge(m->cxt, Max(nsets, 1) * sizeof(int64));
	items = MemoryContextAllocHuge(m->cxt, Max(m->nset_items, 1) * sizeof(uint32));
	for (i = 0; i < nsets; i++)
	{
		int64		s = order[i];

		size[i] = out->set_size[s];
		count[i] = out->set_count[s];
		off[i] = w;
		memcpy(items + w, out->set_items + out->set_off[s],
			   size[i] * sizeof(uint32));
		w += size[i];
	}
	out->set_size = size;
	out->set_count = count;
	out->set_off = off;
	out->set_items = items;
	pfree(order);
}

/*
 * Mine the frequent itemsets (up to in->max_len items) and the co-occurrence
 * counts of all pairs of frequent items into `out`, whose n, min_support,
 * max_len, min_count, and items the caller has set.  Memory comes from `cxt`
 * and is checked against cxsell.max_memory as held by `limitcxt`.
 */
void
CxMine(const CxMineInput *in, CxPatterns *out, MemoryContext cxt,
	   MemoryContext limitcxt)
{
	Miner		m;
	Ext		   *exts;
	uint32	   *starts;
	int64	   *fill;
	int64		b;
	int32		i;

	memset(&m, 0, sizeof(m));
	m.in = in;
	m.out = out;
	m.cxt = cxt;
	m.limitcxt = limitcxt;
	m.maxlen = in->max_len > 0 ? in->max_len : PG_INT32_MAX;
	out->nsets = 0;
	out->npairs = 0;

	CxCheckMemory(limitcxt, (Size) (in->nitems + 1) *
				  (sizeof(uint32) + sizeof(Depth) + sizeof(Ext) + sizeof(int64)) +
				  (Size) in->tid_off[in->nitems] * sizeof(uint32), in->work);
	m.prefix = MemoryContextAlloc(cxt, (in->nitems + 1) * sizeof(uint32));
	m.depth = MemoryContextAllocZero(cxt, (in->nitems + 1) * sizeof(Depth));
	exts = MemoryContextAlloc(cxt, (in->nitems + 1) * sizeof(Ext));

	/* the offset just past each item in each of its baskets */
	starts = MemoryContextAllocHuge(cxt, Max(in->tid_off[in->nitems], 1) * sizeof(uint32));
	fill = MemoryContextAlloc(cxt, (in->nitems + 1) * sizeof(int64));
	memcpy(fill, in->tid_off, (in->nitems + 1) * sizeof(int64));
	for (b = 0; b < in->nbaskets; b++)
	{
		int64		q;

		for (q = in->basket_off[b]; q < in->basket_off[b + 1]; q++)
			starts[fill[in->bitems[q]]++] = (uint32) (q + 1 - in->basket_off[b]);
	}
	pfree(fill);

	for (i = 0; i < in->nitems; i++)
	{
		EmitSet(&m, 0, (uint32) i, in->tid_off[i + 1] - in->tid_off[i]);
		exts[i].item = (uint32) i;
		exts[i].len = in->tid_off[i + 1] - in->tid_off[i];
		exts[i].tids = (uint32 *) in->tids + in->tid_off[i];
		exts[i].starts = starts + in->tid_off[i];
	}
	Recurse(&m, 0, exts, in->nitems);
	SortSets(&m);
}
