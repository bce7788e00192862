/*
 * eclat_dense.c
 *		Frequent itemset mining on dense data: Eclat over bit sets, with
 *		perfect extensions left out of the search.
 *
 * When baskets hold a good share of the frequent items (chess, mushroom,
 * survey and census data), an itemset's baskets are best kept as a bit set
 * over all baskets, and the count of an extension is the population count of
 * an AND (M. J. Zaki, IEEE TKDE 12(3), 2000).  Items are taken in ascending
 * order of their counts, which keeps the search tree narrow, and each bit
 * set remembers the range of its words that may be nonzero.
 *
 * An extension b of an itemset X that every basket of X holds is a perfect
 * extension (C. Borgelt, "Efficient Implementations of Apriori and Eclat",
 * FIMI 2003): every itemset below X exists with and without b at the same
 * count.  b is then not searched below X but handed to the writer
 * (mine_out.c) with every itemset found there, which spells out both.  On
 * dense data most extensions are perfect deep in the search, which is what
 * makes the search small.
 */
#include "postgres.h"

#include "miscadmin.h"

#include "eclat.h"

typedef uint64 Word;

#define WORD_BITS 64

/* An itemset's bit set of baskets, with the item that made it. */
typedef struct BitSet
{
	uint32		item;			/* item number */
	int32		lo;				/* words [lo, hi) may be nonzero */
	int32		hi;
	int64		count;
	Word	   *bits;
} BitSet;

/* The nodes one depth down from the itemset being extended there. */
typedef struct Level
{
	BitSet	   *nodes;
	Word	   *bits;
	int64		cap;			/* nodes the arrays hold */
} Level;

typedef int64 (*AndCountFn) (const BitSet *a, const BitSet *b, Word *dst,
							 int32 *lo, int32 *hi);

typedef struct Dense
{
	CxSetWriter *w;
	MemoryContext cxt;
	MemoryContext limitcxt;
	CxWork		work;
	int64		min_count;
	int32		maxlen;
	int32		nwords;
	AndCountFn	and_count;
	Level	   *level;			/* per depth */
	uint32	   *path;			/* the itemset being extended */
	uint32	   *perfect;		/* perfect extensions along the path */
	const int32 *anc_off;		/* a hierarchy (CxMineInput), or NULL */
	const uint32 *anc;
} Dense;

/*
 * dst = a AND b over the words both may have nonzero; returns the number of
 * bits set and the range [lo, hi) of nonzero words in dst.
 */
static inline int64
AndCountBody(const BitSet *a, const BitSet *b, Word *dst, int32 *lo, int32 *hi)
{
	int32		from = Max(a->lo, b->lo);
	int32		to = Min(a->hi, b->hi);
	int32		first = -1;
	int32		last = -1;
	int64		count = 0;
	int32		i;

	for (i = from; i < to; i++)
	{
		Word		x = a->bits[i] & b->bits[i];

		dst[i] = x;
		if (x != 0)
		{
			count += __builtin_popcountll(x);
			if (first < 0)
				first = i;
			last = i;
		}
	}
	*lo = first < 0 ? 0 : first;
	*hi = last + 1;
	return count;
}

static int64
AndCountPlain(const BitSet *a, const BitSet *b, Word *dst, int32 *lo, int32 *hi)
{
	return AndCountBody(a, b, dst, lo, hi);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__POPCNT__)
#define CX_POPCNT_TARGET 1
/* The same, using the CPU's POPCNT instruction. */
__attribute__((target("popcnt")))
static int64
AndCountPopcnt(const BitSet *a, const BitSet *b, Word *dst, int32 *lo, int32 *hi)
{
	return AndCountBody(a, b, dst, lo, hi);
}
#endif

/* The AND-and-count this CPU does fastest. */
static AndCountFn
ChooseAndCount(void)
{
#ifdef CX_POPCNT_TARGET
	__builtin_cpu_init();
	if (__builtin_cpu_supports("popcnt"))
		return AndCountPopcnt;
#endif
	return AndCountPlain;
}

/*
 * Whether bit sets suit the data: the frequent items fill at least 1/8 of
 * the basket x item matrix, and their bit sets take at most 1/8 of
 * cxsell.max_memory.  Counting all pairs costs about items^2/2 ANDs of
 * baskets/64 words with bit sets, and baskets x (items per basket)^2/2
 * steps by occurrence delivery: the same at a fill of 1/8.
 */
bool
CxDenseSuits(const CxMineInput *in)
{
	double		cells = (double) in->nbaskets * in->nitems;
	double		bytes = (double) in->nitems * ((in->nbaskets + WORD_BITS - 1) / WORD_BITS) * sizeof(Word);

	if (in->nitems < 2 || in->nbaskets < 1)
		return false;
	return (double) in->npairs * 8 >= cells &&
		bytes * 8 <= (double) cxsell_max_memory_kb * 1024;
}

/* The level at `depth`, with room for `n` nodes. */
static Level *
GetLevel(Dense *d, int32 depth, int64 n)
{
	Level	   *lv = &d->level[depth];

	if (lv->cap < n)
	{
		Size		bytes = (Size) n * (sizeof(BitSet) + (Size) d->nwords * sizeof(Word));

		CxCheckMemory(d->limitcxt, bytes, d->work);
		if (lv->nodes != NULL)
		{
			pfree(lv->nodes);
			pfree(lv->bits);
		}
		lv->nodes = MemoryContextAlloc(d->cxt, n * sizeof(BitSet));
		lv->bits = MemoryContextAllocHuge(d->cxt, (Size) n * d->nwords * sizeof(Word));
		lv->cap = n;
	}
	return lv;
}

/*
 * Extend the itemset path[0..depth) by each of nodes[0..n) in turn: write
 * path + item with its perfect extensions (the nperfect on the stack plus
 * the later nodes every basket of it holds), then search below it with the
 * later nodes it keeps frequent.
 */
static void
Recurse(Dense *d, int32 depth, const BitSet *nodes, int32 n, int32 nperfect)
{
	int32		a;

	check_stack_depth();
	for (a = 0; a < n && !d->w->stopped; a++)
	{
		const BitSet *x = &nodes[a];
		Level	   *lv = NULL;
		int32		np = nperfect;
		int32		nchild = 0;
		int32		b;

		CHECK_FOR_INTERRUPTS();
		d->path[depth] = x->item;
		if (depth + 2 <= d->maxlen && a + 1 < n)
		{
			lv = GetLevel(d, depth + 1, n - a - 1);
			for (b = a + 1; b < n; b++)
			{
				BitSet	   *c = &lv->nodes[nchild];
				Word	   *dst = lv->bits + (Size) nchild * d->nwords;
				int32		lo;
				int32		hi;
				int64		count;

				/*
				 * Under a hierarchy an item never joins its ancestor, and no
				 * item is a perfect extension: two of them could be related.
				 */
				if (d->anc_off != NULL &&
					CxRelated(d->anc_off, d->anc, x->item, nodes[b].item))
					continue;
				count = d->and_count(x, &nodes[b], dst, &lo, &hi);
				if (count == x->count && d->anc_off == NULL)
					d->perfect[np++] = nodes[b].item;
				else if (count >= d->min_count)
				{
					c->item = nodes[b].item;
					c->lo = lo;
					c->hi = hi;
					c->count = count;
					c->bits = dst;
					nchild++;
				}
			}
		}
		CxWriterSets(d->w, d->path, depth + 1, d->perfect, np, x->count);
		if (nchild > 0)
			Recurse(d, depth + 1, lv->nodes, nchild, np);
	}
}

/* qsort_arg comparator: root nodes by count, then item number. */
static int
CompareRoots(const void *a, const void *b, void *arg)
{
	const BitSet *x = (const BitSet *) a;
	const BitSet *y = (const BitSet *) b;

	(void) arg;
	if (x->count != y->count)
		return x->count < y->count ? -1 : 1;
	return (x->item > y->item) - (x->item < y->item);
}

/*
 * Mine `in` with bit sets into `w`: the pairs of frequent items that
 * co-occur, then every frequent itemset.
 */
void
CxMineDense(const CxMineInput *in, CxSetWriter *w, MemoryContext cxt,
			MemoryContext limitcxt)
{
	Dense		d;
	int32		nitems = in->nitems;
	BitSet	   *roots;
	Word	   *bits;
	Word	   *scratch;
	int64		b;
	int32		i;
	int32		j;

	memset(&d, 0, sizeof(d));
	d.w = w;
	d.cxt = cxt;
	d.limitcxt = limitcxt;
	d.work = in->work;
	d.min_count = in->min_count;
	d.maxlen = w->maxlen;
	d.nwords = (int32) ((in->nbaskets + WORD_BITS - 1) / WORD_BITS);
	d.and_count = ChooseAndCount();
	d.anc_off = in->anc_off;
	d.anc = in->anc;

	CxCheckMemory(limitcxt, ((Size) nitems + 1) *
				  (sizeof(BitSet) + sizeof(Level) + 2 * sizeof(uint32) +
				   (Size) d.nwords * sizeof(Word)), in->work);
	d.level = MemoryContextAllocZero(cxt, ((Size) nitems + 1) * sizeof(Level));
	d.path = MemoryContextAlloc(cxt, ((Size) nitems + 1) * sizeof(uint32));
	d.perfect = MemoryContextAlloc(cxt, ((Size) nitems + 1) * sizeof(uint32));
	roots = MemoryContextAlloc(cxt, (Size) nitems * sizeof(BitSet));
	bits = MemoryContextAllocExtended(cxt, ((Size) nitems + 1) * d.nwords * sizeof(Word),
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	scratch = bits + (Size) nitems * d.nwords;

	for (i = 0; i < nitems; i++)
	{
		BitSet	   *r = &roots[i];

		r->item = (uint32) i;
		r->count = in->item_count[i];
		r->bits = bits + (Size) i * d.nwords;
		r->lo = 0;
		r->hi = d.nwords;
	}
	for (b = 0; b < in->nbaskets; b++)
	{
		int64		q;

		if ((b & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		for (q = in->basket_off[b]; q < in->basket_off[b + 1]; q++)
			roots[in->bitems[q]].bits[b / WORD_BITS] |= (Word) 1 << (b % WORD_BITS);
	}

	/* every pair of frequent items that co-occurs, in (a, b) order */
	for (i = 0; i < nitems; i++)
	{
		CHECK_FOR_INTERRUPTS();
		for (j = i + 1; j < nitems; j++)
		{
			int32		lo;
			int32		hi;
			int64		count;

			if (d.anc_off != NULL && CxRelated(d.anc_off, d.anc, i, j))
				continue;
			count = d.and_count(&roots[i], &roots[j], scratch, &lo, &hi);
			if (count > 0)
				CxWriterPair(w, (uint32) i, (uint32) j, count);
		}
	}

	qsort_arg(roots, nitems, sizeof(BitSet), CompareRoots, NULL);
	Recurse(&d, 0, roots, nitems, 0);
}
