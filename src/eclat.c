/*
 * eclat.c
 *		Frequent itemset mining: Eclat over a vertical database.
 *
 * The algorithm is Zaki's Eclat (M. J. Zaki, "Scalable Algorithms for
 * Association Mining", IEEE TKDE 12(3), 2000): a depth-first walk of the
 * itemset lattice in which the baskets of an itemset (its tid list) are the
 * intersection of the tid lists of two of its subsets.  The first level is
 * done by projection instead of intersection: one pass over the baskets of
 * item i counts every item j > i that co-occurs with it, which also gives the
 * co-occurrence counts of all pairs of frequent items, and a second pass
 * builds the tid lists of the frequent pairs {i, j}.
 *
 * Work and memory are bounded: every loop checks for interrupts, every
 * allocation counts against cxsell.max_memory, and max_len bounds the depth.
 */
#include "postgres.h"

#include "miscadmin.h"

#include "cxsell.h"

/* One extension of the current prefix: an item and the tid list of prefix+item. */
typedef struct Ext
{
	uint32		item;
	int64		len;
	uint32	   *tids;
} Ext;

typedef struct Miner
{
	const CxMineInput *in;
	CxPatterns *out;
	MemoryContext cxt;
	MemoryContext limitcxt;
	MemoryContext *level;		/* per-depth scratch contexts */
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
	int64		newcap = Max(*cap, 64);

	while (newcap < want)
		newcap *= 2;
	CxCheckMemory(m->limitcxt, (Size) (newcap - *cap) * elem, "cxsell.mine");
	if (ptr == NULL)
		ptr = MemoryContextAllocHuge(m->cxt, (Size) newcap * elem);
	else
		ptr = repalloc_huge(ptr, (Size) newcap * elem);
	*cap = newcap;
	return ptr;
}

/* Record the itemset prefix[0..plen) + {last} with its count. */
static void
EmitSet(Miner *m, int32 plen, uint32 last, int64 count)
{
	CxPatterns *out = m->out;

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

/*
 * Intersect sorted tid lists a and b into dst; give up (returning -1) as soon
 * as the result can no longer reach min_count.
 */
static int64
Intersect(const uint32 *a, int64 na, const uint32 *b, int64 nb,
		  uint32 *dst, int64 min_count)
{
	int64		i = 0;
	int64		j = 0;
	int64		n = 0;

	if (na > nb)
	{
		const uint32 *t = a;
		int64		tn = na;

		a = b;
		na = nb;
		b = t;
		nb = tn;
	}
	if (nb > 32 * na)
	{
		/* galloping: binary-search each element of the short list */
		for (i = 0; i < na; i++)
		{
			int64		lo = j;
			int64		step = 1;
			int64		hi;

			if (n + (na - i) < min_count)
				return -1;
			while (lo + step < nb && b[lo + step] < a[i])
			{
				lo += step;
				step *= 2;
			}
			hi = Min(lo + step, nb);
			while (lo < hi)
			{
				int64		mid = lo + (hi - lo) / 2;

				if (b[mid] < a[i])
					lo = mid + 1;
				else
					hi = mid;
			}
			j = lo;
			if (j < nb && b[j] == a[i])
				dst[n++] = a[i];
		}
		return n;
	}
	while (i < na && j < nb)
	{
		if (a[i] < b[j])
			i++;
		else if (a[i] > b[j])
			j++;
		else
		{
			dst[n++] = a[i];
			i++;
			j++;
		}
		if (n + Min(na - i, nb - j) < min_count)
			return -1;
	}
	return n;
}

/* The scratch context of depth `depth`, created on first use. */
static MemoryContext
LevelContext(Miner *m, int32 depth)
{
	if (m->level[depth] == NULL)
		m->level[depth] = AllocSetContextCreate(m->cxt, "cxsell eclat level",
												ALLOCSET_DEFAULT_SIZES);
	return m->level[depth];
}

/*
 * Extend the prefix prefix[0..plen) by each of its extensions in turn; every
 * itemset reached here has at least plen + 2 items.
 */
static void
Recurse(Miner *m, int32 plen, Ext *exts, int32 nexts)
{
	const int64 min_count = m->in->min_count;
	bool		deeper = (plen + 3 <= m->maxlen);
	MemoryContext lcxt = LevelContext(m, plen);
	int32		a;

	for (a = 0; a + 1 < nexts; a++)
	{
		MemoryContext old;
		Ext		   *next;
		int32		nnext = 0;
		uint32	   *scratch;
		int32		b;

		CHECK_FOR_INTERRUPTS();
		CxCheckMemory(m->limitcxt, (Size) exts[a].len * sizeof(uint32),
					  "cxsell.mine");
		old = MemoryContextSwitchTo(lcxt);
		next = palloc((nexts - a) * sizeof(Ext));
		scratch = palloc(Max(exts[a].len, 1) * sizeof(uint32));
		m->prefix[plen] = exts[a].item;
		for (b = a + 1; b < nexts; b++)
		{
			int64		len = Intersect(exts[a].tids, exts[a].len,
										exts[b].tids, exts[b].len,
										scratch, min_count);

			if (len < min_count)
				continue;
			EmitSet(m, plen + 1, exts[b].item, len);
			if (deeper)
			{
				next[nnext].item = exts[b].item;
				next[nnext].len = len;
				next[nnext].tids = palloc(len * sizeof(uint32));
				memcpy(next[nnext].tids, scratch, len * sizeof(uint32));
				nnext++;
			}
		}
		MemoryContextSwitchTo(old);
		if (nnext >= 2)
		{
			CxCheckMemory(m->limitcxt, 0, "cxsell.mine");
			Recurse(m, plen + 1, next, nnext);
		}
		MemoryContextReset(lcxt);
	}
}

static int
CompareUint32(const void *a, const void *b)
{
	uint32		x = *(const uint32 *) a;
	uint32		y = *(const uint32 *) b;

	return (x > y) - (x < y);
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
				  (Size) m->nset_items * sizeof(uint32), "cxsell.mine");
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
	int64	   *cnt;
	uint32	   *touched;
	int64	   *pos;
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

	CxCheckMemory(limitcxt, (Size) in->nitems * (sizeof(int64) + sizeof(uint32) * 2 +
												sizeof(MemoryContext)) +
				  (Size) in->nbaskets * sizeof(int64), "cxsell.mine");
	m.prefix = MemoryContextAlloc(cxt, (in->nitems + 1) * sizeof(uint32));
	m.level = MemoryContextAllocZero(cxt, (in->nitems + 1) * sizeof(MemoryContext));
	cnt = MemoryContextAllocZero(cxt, Max(in->nitems, 1) * sizeof(int64));
	touched = MemoryContextAlloc(cxt, Max(in->nitems, 1) * sizeof(uint32));
	pos = MemoryContextAllocHuge(cxt, Max(in->nbaskets, 1) * sizeof(int64));
	for (b = 0; b < in->nbaskets; b++)
		pos[b] = in->basket_off[b];

	for (i = 0; i < in->nitems; i++)
		EmitSet(&m, 0, (uint32) i, in->tid_off[i + 1] - in->tid_off[i]);

	for (i = 0; i < in->nitems; i++)
	{
		int64		t;
		int32		ntouched = 0;
		int32		nfreq = 0;
		int32		k;

		CHECK_FOR_INTERRUPTS();

		/* count the items that follow i in each of i's baskets */
		for (t = in->tid_off[i]; t < in->tid_off[i + 1]; t++)
		{
			int64		bb = in->tids[t];
			int64		end = in->basket_off[bb + 1];
			int64		q;

			Assert(in->bitems[pos[bb]] == (uint32) i);
			for (q = ++pos[bb]; q < end; q++)
			{
				uint32		j = in->bitems[q];

				if (cnt[j]++ == 0)
					touched[ntouched++] = j;
			}
		}
		qsort(touched, ntouched, sizeof(uint32), CompareUint32);

		m.prefix[0] = (uint32) i;
		for (k = 0; k < ntouched; k++)
		{
			uint32		j = touched[k];

			EmitPair(&m, (uint32) i, j, cnt[j]);
			if (cnt[j] >= in->min_count)
			{
				if (m.maxlen >= 2)
					EmitSet(&m, 1, j, cnt[j]);
				nfreq++;
			}
		}

		/* project i's baskets onto its frequent extensions and go deeper */
		if (m.maxlen >= 3 && nfreq >= 2)
		{
			MemoryContext lcxt = LevelContext(&m, 0);
			MemoryContext old = MemoryContextSwitchTo(lcxt);
			Ext		   *exts = palloc(nfreq * sizeof(Ext));
			int32	   *slot = palloc(Max(in->nitems, 1) * sizeof(int32));
			int64		total = 0;
			int32		e = 0;

			for (k = 0; k < ntouched; k++)
			{
				uint32		j = touched[k];

				slot[j] = -1;
				if (cnt[j] >= in->min_count)
				{
					slot[j] = e;
					exts[e].item = j;
					exts[e].len = 0;
					total += cnt[j];
					e++;
				}
			}
			CxCheckMemory(limitcxt, (Size) total * sizeof(uint32), "cxsell.mine");
			for (e = 0; e < nfreq; e++)
				exts[e].tids = palloc(cnt[exts[e].item] * sizeof(uint32));
			for (t = in->tid_off[i]; t < in->tid_off[i + 1]; t++)
			{
				int64		bb = in->tids[t];
				int64		q;

				for (q = pos[bb]; q < in->basket_off[bb + 1]; q++)
				{
					int32		s = slot[in->bitems[q]];

					if (s >= 0)
						exts[s].tids[exts[s].len++] = (uint32) bb;
				}
			}
			MemoryContextSwitchTo(old);
			Recurse(&m, 1, exts, nfreq);
			MemoryContextReset(lcxt);
		}

		for (k = 0; k < ntouched; k++)
			cnt[touched[k]] = 0;
	}

	SortSets(&m);
}
