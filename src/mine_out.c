/*
 * mine_out.c
 *		Writing a miner's frequent itemsets and item pairs into a
 *		CxPatterns value.
 *
 * A miner hands over an itemset together with its perfect extensions: the
 * items every basket of the itemset also holds (C. Borgelt, "Efficient
 * Implementations of Apriori and Eclat", FIMI 2003).  Adding any of them
 * keeps the count, so the itemset stands for itself plus every subset of its
 * perfect extensions, up to max_len items; the writer spells them out.
 *
 * The writer holds the output within cxsell.max_memory and the size of one
 * cxsell.patterns value.  When a batch of itemsets would pass either limit
 * it stops storing and only counts, so that the error at the end says how
 * many itemsets the mining would produce.
 *
 * Itemsets arrive in any order, each with its items in any order; the end
 * puts them in canonical order (size, then items) with a radix sort.  Pairs
 * arrive in (a, b) order.
 */
#include "postgres.h"

#include "miscadmin.h"

#include "mine_out.h"

/* bytes held per stored itemset and per item in one */
#define SET_BYTES (sizeof(int32) + 2 * sizeof(int64))
#define ITEM_BYTES sizeof(uint32)

/* Start writing into `out`, whose items the caller has set. */
void
CxWriterInit(CxSetWriter *w, CxPatterns *out, int32 max_len, CxWork work,
			 MemoryContext cxt, MemoryContext limitcxt)
{
	Size		scratch = 3 * ((Size) out->nitems + 1) * sizeof(uint32);

	memset(w, 0, sizeof(*w));
	w->out = out;
	w->cxt = cxt;
	w->limitcxt = limitcxt;
	w->work = work;
	w->maxlen = max_len > 0 ? max_len : PG_INT32_MAX;
	out->nsets = 0;
	out->npairs = 0;
	w->encoded = CxPatternsEncodedSize(out);
	CxCheckMemory(limitcxt, scratch, work);
	w->base = MemoryContextAlloc(cxt, scratch);
	w->ext = w->base + out->nitems + 1;
	w->pick = w->ext + out->nitems + 1;
}

/*
 * Stop storing itemsets: from now on they are only counted, up to 16 times
 * as many as were stored and at least 10^8, so that counting takes about as
 * long as the mining so far, and stops where the output is hopeless.
 */
static void
StartCounting(CxSetWriter *w, bool over_memory)
{
	w->counting = true;
	w->over_memory = over_memory;
	w->stop_at = Max(16.0 * w->out->nsets, 1e8);
}

/*
 * Make room for `nsets` more itemsets of `nitems` items in all, or, when
 * they would pass a limit, switch to counting; returns whether to store.
 */
static bool
Reserve(CxSetWriter *w, double nsets, double nitems)
{
	CxPatterns *out = w->out;
	double		bytes = nsets * CX_PATTERNS_SET_BYTES(0) + nitems * 4;
	int64		want_sets;
	int64		want_items;
	Size		grow = 0;

	if (!w->counting &&
		(double) w->encoded + bytes > (double) MaxAllocSize)
		StartCounting(w, false);
	if (w->counting)
		return false;
	want_sets = out->nsets + (int64) nsets;
	want_items = w->nset_items + (int64) nitems;
	if (want_sets > w->set_cap)
		grow += (Size) (CxGrowCapacity(w->set_cap, want_sets) - w->set_cap) * SET_BYTES;
	if (want_items > w->item_cap)
		grow += (Size) (CxGrowCapacity(w->item_cap, want_items) - w->item_cap) * ITEM_BYTES;
	if (grow > 0 && !CxMemoryFits(w->limitcxt, grow))
	{
		StartCounting(w, true);
		return false;
	}
	if (want_sets > w->set_cap)
	{
		int64		cap = w->set_cap;

		out->set_size = CxGrowArray(out->set_size, &cap, want_sets, sizeof(int32),
									w->cxt, w->limitcxt, w->work);
		cap = w->set_cap;
		out->set_count = CxGrowArray(out->set_count, &cap, want_sets, sizeof(int64),
									 w->cxt, w->limitcxt, w->work);
		cap = w->set_cap;
		out->set_off = CxGrowArray(out->set_off, &cap, want_sets, sizeof(int64),
								   w->cxt, w->limitcxt, w->work);
		w->set_cap = cap;
	}
	if (want_items > w->item_cap)
		out->set_items = CxGrowArray(out->set_items, &w->item_cap, want_items,
									 sizeof(uint32), w->cxt, w->limitcxt, w->work);
	w->encoded += (Size) bytes;
	return true;
}

/* Store base + pick (both ascending) as one itemset; room was reserved. */
static void
Store(CxSetWriter *w, int32 npick)
{
	CxPatterns *out = w->out;
	uint32	   *dst = out->set_items + w->nset_items;
	int32		i = 0;
	int32		j = 0;

	if (++w->tick == 4096)
	{
		w->tick = 0;
		CHECK_FOR_INTERRUPTS();
	}
	Assert(w->count >= out->min_count && w->count <= out->n);
	while (i < w->nbase && j < npick)
		*dst++ = w->base[i] < w->pick[j] ? w->base[i++] : w->pick[j++];
	while (i < w->nbase)
		*dst++ = w->base[i++];
	while (j < npick)
		*dst++ = w->pick[j++];
	out->set_size[out->nsets] = w->nbase + npick;
	out->set_count[out->nsets] = w->count;
	out->set_off[out->nsets] = w->nset_items;
	w->nset_items += w->nbase + npick;
	out->nsets++;
}

/* Store base + every subset of ext[from..) added to pick[0..npick). */
static void
StoreSubsets(CxSetWriter *w, int32 from, int32 npick)
{
	int32		i;

	Store(w, npick);
	if (w->nbase + npick >= w->maxlen)
		return;
	check_stack_depth();
	for (i = from; i < w->next; i++)
	{
		w->pick[npick] = w->ext[i];
		StoreSubsets(w, i + 1, npick + 1);
	}
}

/*
 * Write the itemset items[0..nitems) with count `count`, and, for every
 * subset S of perfect[0..nperfect), the itemset items + S, which has the
 * same count: those of at most max_len items.  The arrays are not kept.
 */
void
CxWriterSets(CxSetWriter *w, const uint32 *items, int32 nitems,
			 const uint32 *perfect, int32 nperfect, int64 count)
{
	double		nsets = 0;
	double		nall = 0;
	double		choose = 1;		/* C(nperfect, j) */
	int32		j;

	if (nitems < 1 || nitems > w->maxlen)
		elog(ERROR, "itemset of %d items written under max_len %d", nitems, w->maxlen);
	/* itemsets and items: sum over j of C(nperfect, j) * (1, nitems + j) */
	for (j = 0; j <= nperfect && nitems + j <= w->maxlen; j++)
	{
		nsets += choose;
		nall += choose * (nitems + j);
		choose = choose * (nperfect - j) / (j + 1);
	}
	if (!Reserve(w, nsets, nall))
	{
		w->more_sets += nsets;
		w->more_items += nall;
		if (w->out->nsets + w->more_sets >= w->stop_at)
			w->stopped = true;
		if (++w->tick >= 4096)
		{
			w->tick = 0;
			CHECK_FOR_INTERRUPTS();
		}
		return;
	}
	memcpy(w->base, items, nitems * sizeof(uint32));
	CxSortUint32(w->base, nitems);
	memcpy(w->ext, perfect, nperfect * sizeof(uint32));
	CxSortUint32(w->ext, nperfect);
	w->nbase = nitems;
	w->next = nperfect;
	w->count = count;
	StoreSubsets(w, 0, 0);
}

/* Record the co-occurrence count of frequent items a < b. */
void
CxWriterPair(CxSetWriter *w, uint32 a, uint32 b, int64 count)
{
	CxPatterns *out = w->out;

	Assert(a < b && b < (uint32) out->nitems);
	Assert(out->npairs == 0 || out->pair_a[out->npairs - 1] < a ||
		   (out->pair_a[out->npairs - 1] == a && out->pair_b[out->npairs - 1] < b));
	if (out->npairs == w->pair_cap)
	{
		int64		cap = w->pair_cap;

		out->pair_a = CxGrowArray(out->pair_a, &cap, out->npairs + 1, sizeof(uint32),
								  w->cxt, w->limitcxt, w->work);
		cap = w->pair_cap;
		out->pair_b = CxGrowArray(out->pair_b, &cap, out->npairs + 1, sizeof(uint32),
								  w->cxt, w->limitcxt, w->work);
		cap = w->pair_cap;
		out->pair_count = CxGrowArray(out->pair_count, &cap, out->npairs + 1, sizeof(int64),
									  w->cxt, w->limitcxt, w->work);
		w->pair_cap = cap;
	}
	out->pair_a[out->npairs] = a;
	out->pair_b[out->npairs] = b;
	out->pair_count[out->npairs] = count;
	out->npairs++;
	w->encoded += CX_PATTERNS_PAIR_BYTES;
}

/*
 * A count as text: exact up to 2^53, else to three digits; "more than" when
 * counting stopped before the end.
 */
static char *
CountText(double x, bool at_least)
{
	const char *pre = at_least ? "more than " : (x < 9007199254740992.0 ? "" : "about ");

	return x < 9007199254740992.0 ? psprintf("%s%.0f", pre, x) : psprintf("%s%.3g", pre, x);
}

/* Stop: the itemsets are more than the limits allow. */
static void
TooMany(double nsets, double nitems, bool memory, bool at_least)
{
	double		mb = (nsets * CX_PATTERNS_SET_BYTES(0) + nitems * 4) / (1024.0 * 1024.0);

	if (memory)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the frequent itemsets are too many for cxsell.max_memory"),
				 errdetail("The mining finds %s itemsets holding %s items in all (%s MB as a cxsell.patterns value); cxsell.max_memory is %d kB.",
						   CountText(nsets, at_least), CountText(nitems, at_least),
						   CountText(mb, at_least), cxsell_max_memory_kb),
				 errhint("Raise min_support, bound the itemset size with max_len, or raise cxsell.max_memory.")));
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("the frequent itemsets are too many for one cxsell.patterns value"),
			 errdetail("The mining finds %s itemsets holding %s items in all (%s MB as a cxsell.patterns value); the limit is %zu MB.",
					   CountText(nsets, at_least), CountText(nitems, at_least),
					   CountText(mb, at_least), (Size) MaxAllocSize / (1024 * 1024)),
			 errhint("Raise min_support or bound the itemset size with max_len.")));
}

/*
 * The itemsets of one size k, packed as rows of k item numbers and the
 * count (two 32-bit words, high first): rows[r * width ...), width = k + 2.
 */
typedef struct Rows
{
	uint32	   *rows;
	int64		n;
	int32		k;
	int32		width;
} Rows;

/* The most buckets of one radix digit made of several item positions. */
#define CX_RADIX_MAX 65536

/* The most buckets of a digit for sorting n rows: n/4, within [256, 65536]. */
static inline uint64
RadixCap(int64 n)
{
	return Min(Max((uint64) n / 4, 256), CX_RADIX_MAX);
}

/* Whether the rows are in lexicographic order of their items already. */
static bool
RowsSorted(const Rows *g)
{
	int64		r;

	for (r = 1; r < g->n; r++)
	{
		const uint32 *x = g->rows + (r - 1) * g->width;
		const uint32 *y = x + g->width;
		int32		j = 0;

		while (j < g->k && x[j] == y[j])
			j++;
		if (j < g->k && x[j] > y[j])
			return false;
	}
	return true;
}

/* The digit of a row made of its items at [from, to), in base nkeys. */
static inline uint32
Digit(const uint32 *row, int32 from, int32 to, uint32 nkeys)
{
	uint32		d = 0;
	int32		j;

	for (j = from; j < to; j++)
		d = d * nkeys + row[j];
	return d;
}

/* Copy one row of `width` words. */
static inline void
CopyRow(uint32 *dst, const uint32 *src, int32 width)
{
	int32		j;

	for (j = 0; j < width; j++)
		dst[j] = src[j];
}

/*
 * Sort the rows of g lexicographically by their items: a least significant
 * digit first radix sort, each digit a run of item positions whose values
 * make at most about n/4 buckets (256 to 65536; one position when there are
 * more items), one stable counting pass per digit, between g's rows and
 * `tmp` in turn.
 */
static void
SortRows(Rows *g, uint32 *tmp, int64 *cnt, uint32 nkeys)
{
	uint64		limit = RadixCap(g->n);
	int32		per = 1;
	uint64		span = nkeys;
	int32		to = g->k;
	uint32	   *src = g->rows;
	uint32	   *dst = tmp;

	if (g->n < 2 || RowsSorted(g))
		return;
	while (span * nkeys <= limit && per < g->k)
	{
		span *= nkeys;
		per++;
	}
	while (to > 0)
	{
		int32		from = Max(to - per, 0);
		uint32		radix = 1;
		uint32	   *swap;
		int64		r;
		int32		j;

		CHECK_FOR_INTERRUPTS();
		for (j = from; j < to; j++)
			radix *= nkeys;
		memset(cnt, 0, ((Size) radix + 1) * sizeof(int64));
		for (r = 0; r < g->n; r++)
			cnt[Digit(src + r * g->width, from, to, nkeys) + 1]++;
		for (j = 0; j < (int32) radix; j++)
			cnt[j + 1] += cnt[j];
		for (r = 0; r < g->n; r++)
		{
			const uint32 *row = src + r * g->width;

			CopyRow(dst + cnt[Digit(row, from, to, nkeys)]++ * g->width, row, g->width);
		}
		swap = src;
		src = dst;
		dst = swap;
		to = from;
	}
	if (src != g->rows)
		memcpy(g->rows, src, (Size) g->n * g->width * sizeof(uint32));
}

/*
 * Put the itemsets in canonical order: by size, then lexicographically by
 * item number.  The itemsets of each size are packed into rows (one pass in
 * the order they were written) and radix sorted, then written back.
 */
static void
SortSets(CxSetWriter *w)
{
	CxPatterns *out = w->out;
	int64		nsets = out->nsets;
	uint32		nkeys = (uint32) Max(out->nitems, 1);
	int32		maxsize = 0;
	int64		most = 0;
	int64	   *nsize;
	int64	   *wordoff;
	int64	   *cnt;
	uint32	   *packed;
	uint32	   *tmp;
	int64		s;
	int64		at = 0;
	int32		k;

	for (s = 0; s < nsets; s++)
		maxsize = Max(maxsize, out->set_size[s]);
	nsize = MemoryContextAllocZero(w->cxt, ((Size) maxsize + 2) * 2 * sizeof(int64));
	wordoff = nsize + maxsize + 2;
	for (s = 0; s < nsets; s++)
		nsize[out->set_size[s]]++;
	for (k = 1; k <= maxsize; k++)
	{
		wordoff[k + 1] = wordoff[k] + nsize[k] * (k + 2);
		most = Max(most, nsize[k] * (k + 2));
	}
	if (!CxMemoryFits(w->limitcxt,
					  ((Size) wordoff[maxsize + 1] + most) * sizeof(uint32) +
					  ((Size) Max(nkeys, RadixCap(nsets)) + 1) * sizeof(int64)))
		TooMany((double) nsets, (double) w->nset_items, true, false);
	packed = MemoryContextAllocHuge(w->cxt, Max(wordoff[maxsize + 1], 1) * sizeof(uint32));
	tmp = MemoryContextAllocHuge(w->cxt, Max(most, 1) * sizeof(uint32));
	cnt = MemoryContextAlloc(w->cxt, ((Size) Max(nkeys, RadixCap(nsets)) + 1) * sizeof(int64));

	/* pack each size's rows, in the order written */
	memset(nsize, 0, ((Size) maxsize + 2) * sizeof(int64));
	for (s = 0; s < nsets; s++)
	{
		int32		size = out->set_size[s];
		uint32	   *row = packed + wordoff[size] + nsize[size]++ * (size + 2);
		uint64		count = (uint64) out->set_count[s];

		if ((s & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		memcpy(row, out->set_items + out->set_off[s], size * sizeof(uint32));
		row[size] = (uint32) (count >> 32);
		row[size + 1] = (uint32) count;
	}

	/* sort each size, and write the rows back in order */
	s = 0;
	for (k = 1; k <= maxsize; k++)
	{
		Rows		g;
		int64		r;

		g.rows = packed + wordoff[k];
		g.n = nsize[k];
		g.k = k;
		g.width = k + 2;
		SortRows(&g, tmp, cnt, nkeys);
		for (r = 0; r < g.n; r++, s++)
		{
			const uint32 *row = g.rows + r * g.width;

			out->set_size[s] = k;
			out->set_count[s] = (int64) (((uint64) row[k] << 32) | row[k + 1]);
			out->set_off[s] = at;
			memcpy(out->set_items + at, row, k * sizeof(uint32));
			at += k;
		}
	}
	Assert(s == nsets && at == w->nset_items);
	pfree(packed);
	pfree(tmp);
	pfree(cnt);
	pfree(nsize);
}

/*
 * Finish: stop with an error saying how many itemsets the mining finds when
 * they passed a limit, else put them in canonical order.
 */
void
CxWriterFinish(CxSetWriter *w)
{
	if (w->counting)
		TooMany((double) w->out->nsets + w->more_sets,
				(double) w->nset_items + w->more_items, w->over_memory,
				w->stopped);
	SortSets(w);
}
