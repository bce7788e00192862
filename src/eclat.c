/*
 * eclat.c
 *		Frequent itemset mining on sparse data: Eclat with occurrence
 *		delivery over projected baskets.
 *
 * The walk is Eclat's (M. J. Zaki, "Scalable Algorithms for Association
 * Mining", IEEE TKDE 12(3), 2000): depth first over the itemset lattice in
 * item order, each itemset carrying its tid list (the baskets that hold it).
 * Instead of intersecting tid lists pairwise, the counts of all extensions
 * of an itemset come from one pass over its baskets ("occurrence deliver",
 * T. Uno et al., "LCM ver. 2", FIMI 2004), and a second pass builds, for the
 * next level, the tid lists of the frequent extensions and the baskets
 * projected on them: each basket of the itemset cut to the extensions it
 * holds, numbered as the next level numbers them, packed together (LCM's
 * database reduction).  Deeper levels so read only what they count, from
 * memory that is close together.  At the first level the pass also yields
 * the co-occurrence counts of all pairs of frequent items.
 *
 * Work and memory are bounded: every loop checks for interrupts, every
 * allocation counts against cxsell.max_memory, and max_len bounds the depth.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "miscadmin.h"

#include "eclat.h"
#include "value_io.h"

/*
 * Baskets as one level sees them: basket b holds the extension numbers
 * items[off[b] .. off[b + 1]), ascending, and stands for weight[b] equal
 * baskets of the input.
 */
typedef struct Baskets
{
	const int64 *off;
	const uint32 *items;
	const uint32 *weight;
} Baskets;

/*
 * A count of CountLater packs two sums: the weight of the baskets counted
 * (their number in the input) above, and how many baskets of the level that
 * is, below.  Neither exceeds the input's basket count, which fits 32 bits.
 */
#define PACK_ONE(weight)	(((uint64) (weight) << 32) | 1)
#define PACKED_SUPPORT(c)	((int64) ((c) >> 32))
#define PACKED_BASKETS(c)	((int64) ((c) & PG_UINT32_MAX))

/*
 * One extension of the current prefix: an item, the tid list of prefix+item
 * (baskets of its level), and for each of those baskets the offset within
 * it just past the extension, so that the later ones are found without a
 * search.
 */
typedef struct Ext
{
	uint32		item;
	int64		count;			/* support of prefix + item */
	int64		len;			/* baskets of its level holding it */
	uint32	   *tids;
	uint32	   *starts;
} Ext;

/* Per-depth working arrays, indexed by extension number. */
typedef struct Depth
{
	uint64	   *cnt;			/* packed count per extension (PACK_ONE) */
	int32	   *touched;		/* extensions with cnt > 0 */
	int32	   *next;			/* extension -> number in the next level */
	MemoryContext cxt;			/* tid lists and baskets of the next level */
} Depth;

typedef struct Miner
{
	const CxMineInput *in;
	CxSetWriter *w;
	MemoryContext cxt;
	MemoryContext limitcxt;
	Depth	   *depth;			/* per-depth working arrays */
	int32		maxlen;
	uint32	   *prefix;
	uint32	   *perfect;		/* perfect extensions along the prefix */
} Miner;

/* The working arrays of depth `d`, created on first use. */
static Depth *
GetDepth(Miner *m, int32 d)
{
	Depth	   *dp = &m->depth[d];

	if (dp->cnt == NULL)
	{
		int32		n = Max(m->in->nitems, 1);

		CxCheckMemory(m->limitcxt, (Size) n * (sizeof(uint64) + 2 * sizeof(int32)),
					  m->in->work);
		dp->cnt = MemoryContextAllocZero(m->cxt, n * sizeof(uint64));
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
 * dp->cnt[b] becomes the packed count of prefix + a + b.  The extensions met are
 * listed in dp->touched, in order; returns how many.
 */
static int32
CountLater(Depth *dp, const Baskets *db, const Ext *exts, int32 a, int32 nexts)
{
	const int64 *off = db->off;
	const uint32 *items = db->items;
	const uint32 *tids = exts[a].tids;
	const uint32 *starts = exts[a].starts;
	const uint32 *weight = db->weight;
	uint64	   *cnt = dp->cnt;
	int32	   *touched = dp->touched;
	int64		len = exts[a].len;
	int32		ntouched = 0;
	int64		t;

	for (t = 0; t < len; t++)
	{
		int64		end = off[tids[t] + 1];
		uint64		one = PACK_ONE(weight[tids[t]]);
		int64		q;

		for (q = off[tids[t]] + starts[t]; q < end; q++)
		{
			if (cnt[items[q]] == 0)
				touched[ntouched++] = (int32) items[q];
			cnt[items[q]] += one;
		}
	}
	/* in order: a scan of the later extensions when few, else a sort */
	if ((int64) ntouched * 64 >= nexts - a - 1)
	{
		int32		e;

		ntouched = 0;
		for (e = a + 1; e < nexts; e++)
			if (cnt[e] > 0)
				touched[ntouched++] = e;
	}
	else
		qsort(touched, ntouched, sizeof(int32), CompareInt32);
	return ntouched;
}

/*
 * Sort what the counts of CountLater found: record the pairs (at depth 0);
 * push the perfect extensions of prefix + a (the b in all its baskets) on
 * m->perfect from *np; number in dp->next the other frequent b for the next
 * level (-1 for the rest).  Returns how many go on to the next level.
 */
static int32
RecordCounts(Miner *m, Depth *dp, const Ext *exts, int32 a, int32 plen,
			 int32 ntouched, int32 *np)
{
	int32		nnext = 0;
	int32		k;

	const CxMineInput *in = m->in;

	for (k = 0; k < ntouched; k++)
	{
		int32		e = dp->touched[k];
		int64		c = PACKED_SUPPORT(dp->cnt[e]);

		dp->next[e] = -1;

		/*
		 * Under a hierarchy an item never joins its ancestor, and no item is
		 * a perfect extension: two of them could be related.
		 */
		if (in->anc_off != NULL)
		{
			if (CxRelated(in->anc_off, in->anc, m->prefix[plen], exts[e].item))
				continue;
			if (plen == 0)
				CxWriterPair(m->w, m->prefix[plen], exts[e].item, c);
			if (c >= in->min_count)
				dp->next[e] = nnext++;
			continue;
		}
		if (plen == 0)
			CxWriterPair(m->w, m->prefix[plen], exts[e].item, c);
		if (c == exts[a].count)
			m->perfect[(*np)++] = exts[e].item;
		else if (c >= m->in->min_count)
			dp->next[e] = nnext++;
	}
	return nnext;
}

/*
 * The next level below prefix + a, in dp->cxt: for each frequent b numbered
 * by RecordCounts, the tid list of prefix + a + b; and a's baskets projected
 * on those b (`*ndb`), which the tid lists number.
 */
static Ext *
BuildNext(const Miner *m, Depth *dp, const Baskets *db, const Ext *exts,
		  int32 a, int32 ntouched, int32 nnext, Baskets *ndb)
{
	const int32 *next = dp->next;
	MemoryContext old;
	Size		total = 0;
	Ext		   *nx;
	int64	   *noff;
	uint32	   *nitems;
	uint32	   *nweight;
	int64		nb = 0;
	int64		w = 0;
	int32		k;
	int64		t;

	for (k = 0; k < ntouched; k++)
		if (next[dp->touched[k]] >= 0)
			total += PACKED_BASKETS(dp->cnt[dp->touched[k]]);
	CxCheckMemory(m->limitcxt, total * 3 * sizeof(uint32) + nnext * sizeof(Ext) +
				  (exts[a].len + 1) * (sizeof(int64) + sizeof(uint32)),
				  m->in->work);
	old = MemoryContextSwitchTo(dp->cxt);
	nx = palloc(nnext * sizeof(Ext));
	for (k = 0; k < ntouched; k++)
	{
		int32		e = dp->touched[k];
		int32		x = next[e];

		if (x < 0)
			continue;
		nx[x].item = exts[e].item;
		nx[x].count = PACKED_SUPPORT(dp->cnt[e]);
		nx[x].len = 0;
		nx[x].tids = palloc_extended(PACKED_BASKETS(dp->cnt[e]) * sizeof(uint32),
									 MCXT_ALLOC_HUGE);
		nx[x].starts = palloc_extended(PACKED_BASKETS(dp->cnt[e]) * sizeof(uint32),
									   MCXT_ALLOC_HUGE);
	}
	noff = palloc_extended((exts[a].len + 1) * sizeof(int64), MCXT_ALLOC_HUGE);
	nweight = palloc_extended(Max(exts[a].len, 1) * sizeof(uint32), MCXT_ALLOC_HUGE);
	nitems = palloc_extended(Max(total, 1) * sizeof(uint32), MCXT_ALLOC_HUGE);
	MemoryContextSwitchTo(old);

	noff[0] = 0;
	for (t = 0; t < exts[a].len; t++)
	{
		int64		end = db->off[exts[a].tids[t] + 1];
		int64		q;

		for (q = db->off[exts[a].tids[t]] + exts[a].starts[t]; q < end; q++)
		{
			int32		x = next[db->items[q]];

			if (x >= 0)
			{
				nitems[w++] = (uint32) x;
				nx[x].tids[nx[x].len] = (uint32) nb;
				nx[x].starts[nx[x].len] = (uint32) (w - noff[nb]);
				nx[x].len++;
			}
		}
		if (w > noff[nb])
		{
			nweight[nb] = db->weight[exts[a].tids[t]];
			noff[++nb] = w;
		}
	}
	Assert((Size) w == total);
	ndb->off = noff;
	ndb->items = nitems;
	ndb->weight = nweight;
	return nx;
}

/*
 * Extend the prefix prefix[0..plen) by each of its extensions in turn.
 * exts[e] is a frequent item, greater than every prefix item, with the tid
 * list of prefix + item over the baskets db of this level; m->perfect[0..nperfect) are the prefix's perfect
 * extensions.  For extension a, one pass over a's baskets counts every
 * later extension b in them, giving the count of prefix + a + b; the b in
 * every basket of prefix + a are its perfect extensions, written with it
 * and not searched (mine_out.c); a second pass builds the tid lists of the
 * other frequent b for the next level.  At depth 0 the prefix is empty, the
 * extensions are all frequent items, and every co-occurring pair is
 * recorded.
 */
static void
Recurse(Miner *m, int32 plen, Ext *exts, int32 nexts, int32 nperfect,
		const Baskets *db)
{
	Depth	   *dp = GetDepth(m, plen);
	int32		a;

	check_stack_depth();
	for (a = 0; a < nexts && !m->w->stopped; a++)
	{
		int32		ntouched = 0;
		int32		nnext = 0;
		int32		np = nperfect;
		int32		k;

		CHECK_FOR_INTERRUPTS();
		m->prefix[plen] = exts[a].item;
		if (a + 1 < nexts && (plen == 0 || plen + 2 <= m->maxlen))
		{
			ntouched = CountLater(dp, db, exts, a, nexts);
			nnext = RecordCounts(m, dp, exts, a, plen, ntouched, &np);
			if (plen + 2 > m->maxlen)
			{
				/* counted for the pairs only: no itemset of two */
				np = nperfect;
				nnext = 0;
				for (k = 0; k < ntouched; k++)
					dp->next[dp->touched[k]] = -1;
			}
		}
		CxWriterSets(m->w, m->prefix, plen + 1, m->perfect, np, exts[a].count);
		if (nnext >= 2 && plen + 3 <= m->maxlen)
		{
			Baskets		ndb;
			Ext		   *next = BuildNext(m, dp, db, exts, a, ntouched, nnext, &ndb);

			for (k = 0; k < ntouched; k++)
				dp->cnt[dp->touched[k]] = 0;
			Recurse(m, plen + 1, next, nnext, np, &ndb);
			MemoryContextReset(dp->cxt);
			continue;
		}
		/* the frequent prefix + a + b go no deeper: write them here */
		for (k = 0; k < ntouched; k++)
		{
			int32		e = dp->touched[k];

			if (dp->next[e] >= 0)
			{
				m->prefix[plen + 1] = exts[e].item;
				CxWriterSets(m->w, m->prefix, plen + 2, m->perfect, np,
							 PACKED_SUPPORT(dp->cnt[e]));
			}
			dp->cnt[e] = 0;
		}
	}
}

/* A hash of the items of one basket, mixed with the table's seed. */
static inline uint32
HashBasket(const uint32 *items, int64 len, uint32 seed)
{
	uint32		h = seed ^ (uint32) len;
	int64		q;

	for (q = 0; q < len; q++)
		h = murmurhash32(h ^ items[q]) + (uint32) q;
	return h;
}

/*
 * The first level's baskets into *db: the input's baskets of two or more
 * frequent items, equal ones merged into one that weighs their number
 * (baskets of one item add nothing to the counts of the items alone, which
 * the input has).  Then into exts each item, its count, and its tid list
 * over those baskets with the offsets just past it.
 */
static void
FirstLevel(const Miner *m, Baskets *db, Ext *exts)
{
	const CxMineInput *in = m->in;
	const int64 *boff = in->basket_off;
	uint32		seed = (uint32) CxHashSeed();
	uint64		probes = 0;
	int64		nmulti = 0;
	int64		nunique = 0;
	int64		w = 0;
	uint64		mask = 15;
	uint32	   *slot;
	uint32	   *hash;
	int64	   *off;
	uint32	   *items;
	uint32	   *weight;
	int64	   *tid_off;
	int64	   *fill;
	uint32	   *tids;
	uint32	   *starts;
	int64		b;
	int32		i;

	for (b = 0; b < in->nbaskets; b++)
	{
		if ((b & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (boff[b + 1] - boff[b] >= 2)
			nmulti++;
	}
	while (mask + 1 < (uint64) nmulti * 2)
		mask = mask * 2 + 1;
	CxCheckMemory(m->limitcxt, (Size) (mask + 1) * sizeof(uint32) +
				  (Size) nmulti * (sizeof(int64) + 2 * sizeof(uint32)) +
				  (Size) boff[in->nbaskets] * 3 * sizeof(uint32) +
				  (Size) (in->nitems + 1) * 2 * sizeof(int64), in->work);
	slot = MemoryContextAllocExtended(m->cxt, (mask + 1) * sizeof(uint32),
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	hash = MemoryContextAllocHuge(m->cxt, Max(nmulti, 1) * sizeof(uint32));
	off = MemoryContextAllocHuge(m->cxt, (nmulti + 1) * sizeof(int64));
	weight = MemoryContextAllocHuge(m->cxt, Max(nmulti, 1) * sizeof(uint32));
	items = MemoryContextAllocHuge(m->cxt, Max(boff[in->nbaskets], 1) * sizeof(uint32));

	off[0] = 0;
	for (b = 0; b < in->nbaskets; b++)
	{
		const uint32 *bi = in->bitems + boff[b];
		int64		len = boff[b + 1] - boff[b];
		uint32		h;
		uint64		s;

		if ((b & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (len < 2)
			continue;
		h = HashBasket(bi, len, seed);
		for (s = h & mask;; s = (s + 1) & mask)
		{
			uint32		u = slot[s];

			if ((++probes & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			if (u == 0)
			{
				slot[s] = (uint32) nunique + 1;
				hash[nunique] = h;
				weight[nunique] = 1;
				memcpy(items + w, bi, len * sizeof(uint32));
				w += len;
				off[++nunique] = w;
				break;
			}
			u--;
			if (hash[u] == h && off[u + 1] - off[u] == len &&
				memcmp(items + off[u], bi, len * sizeof(uint32)) == 0)
			{
				weight[u]++;
				break;
			}
		}
	}
	pfree(slot);
	pfree(hash);

	/* the tid lists over the merged baskets */
	tid_off = MemoryContextAllocZero(m->cxt, (in->nitems + 1) * sizeof(int64));
	for (b = 0; b < nunique; b++)
	{
		int64		q;

		if ((b & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		for (q = off[b]; q < off[b + 1]; q++)
			tid_off[items[q] + 1]++;
	}
	for (i = 0; i < in->nitems; i++)
		tid_off[i + 1] += tid_off[i];
	tids = MemoryContextAllocHuge(m->cxt, Max(w, 1) * sizeof(uint32));
	starts = MemoryContextAllocHuge(m->cxt, Max(w, 1) * sizeof(uint32));
	fill = MemoryContextAlloc(m->cxt, (in->nitems + 1) * sizeof(int64));
	memcpy(fill, tid_off, (in->nitems + 1) * sizeof(int64));
	for (b = 0; b < nunique; b++)
	{
		int64		q;

		if ((b & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		for (q = off[b]; q < off[b + 1]; q++)
		{
			tids[fill[items[q]]] = (uint32) b;
			starts[fill[items[q]]++] = (uint32) (q + 1 - off[b]);
		}
	}
	pfree(fill);

	for (i = 0; i < in->nitems; i++)
	{
		exts[i].item = (uint32) i;
		exts[i].count = in->item_count[i];
		exts[i].len = tid_off[i + 1] - tid_off[i];
		exts[i].tids = tids + tid_off[i];
		exts[i].starts = starts + tid_off[i];
	}
	pfree(tid_off);
	db->off = off;
	db->items = items;
	db->weight = weight;
}

/*
 * Mine with tid lists and occurrence delivery into `w`: the single items,
 * then every longer itemset and the pairs.
 */
static void
MineSparse(const CxMineInput *in, CxSetWriter *w, MemoryContext cxt,
		   MemoryContext limitcxt)
{
	Miner		m;
	Baskets		db;
	Ext		   *exts;

	memset(&m, 0, sizeof(m));
	m.in = in;
	m.w = w;
	m.cxt = cxt;
	m.limitcxt = limitcxt;
	m.maxlen = w->maxlen;

	CxCheckMemory(limitcxt, (Size) (in->nitems + 1) *
				  (2 * sizeof(uint32) + sizeof(Depth) + sizeof(Ext)), in->work);
	m.prefix = MemoryContextAlloc(cxt, (in->nitems + 1) * sizeof(uint32));
	m.perfect = MemoryContextAlloc(cxt, (in->nitems + 1) * sizeof(uint32));
	m.depth = MemoryContextAllocZero(cxt, (in->nitems + 1) * sizeof(Depth));
	exts = MemoryContextAlloc(cxt, (in->nitems + 1) * sizeof(Ext));
	/* at the first level the extension numbers are the item numbers */
	FirstLevel(&m, &db, exts);
	Recurse(&m, 0, exts, in->nitems, 0, &db);
}

/*
 * Mine the frequent itemsets (up to in->max_len items) and the co-occurrence
 * counts of all pairs of frequent items into `out`, whose n, min_support,
 * max_len, min_count, and items the caller has set.  Memory comes from `cxt`
 * and is checked against cxsell.max_memory as held by `limitcxt`.  Dense
 * data is mined with bit sets (eclat_dense.c), the rest with tid lists.
 */
void
CxMine(const CxMineInput *in, CxPatterns *out, MemoryContext cxt,
	   MemoryContext limitcxt)
{
	CxSetWriter w;

	CxWriterInit(&w, out, in->max_len, in->work, cxt, limitcxt);
	if (CxDenseSuits(in))
		CxMineDense(in, &w, cxt, limitcxt);
	else
		MineSparse(in, &w, cxt, limitcxt);
	CxWriterFinish(&w);
}
