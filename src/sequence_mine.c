/*
 * sequence_mine.c
 *		Final function of cxsell.mine_sequences: from (customer, time, item)
 *		rows to the frequent sequences within a window.
 *
 * A customer's history is their events, one per distinct time, each the
 * set of items taken then.  A sequence <a1, ..., ak> occurs in it when
 * events at times t1 < ... < tk hold a1, ..., ak and tk - t1 <= window; its
 * count is the number of customers in whose history it occurs.
 *
 * The miner grows sequences depth first from the right (pattern growth,
 * as PrefixSpan), keeping for each customer and each start event of the
 * sequence the earliest event at which it can end (its projection).  For a
 * fixed start, the earliest ending of each item in turn gives every item
 * its earliest possible time, so the sequence extends from that start
 * exactly when some occurrence does.  The entries of a projection are in
 * (customer, start) order, so the first of a customer's is its earliest
 * occurrence: the lexicographically smallest times, from which the median
 * gap is taken.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/guc.h"

#include "mine_layout.h"
#include "sequences.h"

PG_FUNCTION_INFO_V1(mine_sequences_final);

#define STEP_CHECK(i) do { if (((i) & 0xFFFF) == 0) CHECK_FOR_INTERRUPTS(); } while (0)

/* An occurrence of a sequence: its customer, start and end events. */
typedef struct Occurrence
{
	int64		start;
	int64		end;
	uint32		cust;
} Occurrence;

/* A candidate extension: an occurrence of the longer sequence, by item. */
typedef struct Extension
{
	Occurrence	occ;
	uint32		item;
	int64		gap;			/* time from the old end to the new one */
} Extension;

/* The histories over frequent items, and what the miner writes. */
typedef struct SeqMiner
{
	MemoryContext limitcxt;
	int64		window;
	int64		min_count;
	int32		max_len;
	int32		nfreq;

	int64	   *cust_ev;		/* customer c's events: [cust_ev[c], cust_ev[c+1]) */
	int64	   *ev_time;
	int64	   *ev_off;			/* event e's items: ev_items[ev_off[e] .. +1) */
	uint32	   *ev_items;		/* frequent numbers, ascending */

	/* per frequent item, scratch for one extension step */
	uint64	   *stamp;			/* the last occurrence that reached it */
	uint64		next_stamp;
	int64	   *ext_count;		/* candidate extensions */
	int64	   *ext_custs;		/* customers among them */
	uint32	   *ext_last;		/* the last customer counted, + 1 */

	/* per depth: the extensions found and then bucketed by item */
	Extension **cand;
	int64	   *cand_cap;
	Extension **bucket;
	int64	   *bucket_cap;
	uint32	  **touched;
	int64	   *touched_cap;
	int32		depth_cap;

	int64	   *gaps;			/* one gap per customer of a sequence */
	int64		gaps_cap;
	uint32	   *prefix;			/* the sequence being grown */
	uint32		tick;			/* events scanned since interrupts were
								 * checked */

	/* the output, in depth-first (lexicographic) order */
	int64		nseqs;
	int64		seq_cap;
	int32	   *seq_len;
	int64	   *seq_count;
	double	   *seq_gap;
	int64		items_len;
	int64		items_cap;
	uint32	   *seq_items;
	Size		encoded;
} SeqMiner;

/* Grow an array of the miner to hold `want` elements. */
static void *
Grow(SeqMiner *m, void *ptr, int64 *cap, int64 want, Size elem)
{
	if (want <= *cap)
		return ptr;
	return CxGrowArray(ptr, cap, want, elem, CurrentMemoryContext, m->limitcxt,
					   CX_WORK_MINING);
}

/*
 * Each customer's rows sorted by (time, item) without repeats, the items'
 * customer counts in l->icount, and their follow counts (customers who took
 * the item at an event within the window after an earlier event of theirs).
 * Returns the rows, customer c's at [(*off)[c], (*off)[c + 1]).
 */
static CxTimedItem *
Histories(Layout *l, int64 **off, int64 **follow)
{
	MineState  *st = l->st;
	int64	   *boff = CxLayoutAlloc(l, (Size) (l->nb + 1) * sizeof(int64));
	int64	   *fill = CxLayoutAlloc(l, (Size) Max(l->nb, 1) * sizeof(int64));
	CxTimedItem  *rows = CxLayoutAlloc(l, (Size) Max(st->npairs, 1) * sizeof(CxTimedItem));
	uint32	   *seen = CxLayoutAlloc(l, (Size) Max(l->ni, 1) * sizeof(uint32));
	uint32	   *followed = CxLayoutAlloc(l, (Size) Max(l->ni, 1) * sizeof(uint32));
	int64	   *fcount = CxLayoutAlloc(l, (Size) Max(l->ni, 1) * sizeof(int64));
	int64		k;
	int64		w = 0;
	uint32		c;

	memset(boff, 0, (Size) (l->nb + 1) * sizeof(int64));
	for (k = 0; k < st->npairs; k++)
		boff[st->pair_basket[k] + 1]++;
	for (c = 0; c < l->nb; c++)
		boff[c + 1] += boff[c];
	memcpy(fill, boff, (Size) l->nb * sizeof(int64));
	for (k = 0; k < st->npairs; k++)
	{
		CxTimedItem  *r = &rows[fill[st->pair_basket[k]]++];

		STEP_CHECK(k);
		r->time = st->pair_time[k];
		r->item = st->pair_item[k];
	}
	pfree(fill);

	l->icount = CxLayoutAlloc(l, (Size) Max(l->ni, 1) * sizeof(int64));
	memset(l->icount, 0, (Size) Max(l->ni, 1) * sizeof(int64));
	memset(fcount, 0, (Size) Max(l->ni, 1) * sizeof(int64));
	memset(seen, 0xFF, (Size) Max(l->ni, 1) * sizeof(uint32));
	memset(followed, 0xFF, (Size) Max(l->ni, 1) * sizeof(uint32));
	for (c = 0; c < l->nb; c++)
	{
		int64		first = w;
		int64		prev_time = 0;
		int64		cur_time = 0;
		bool		have_prev = false;
		bool		have_cur = false;

		STEP_CHECK(c);
		qsort(rows + boff[c], boff[c + 1] - boff[c], sizeof(CxTimedItem), CxCompareTimedItems);
		for (k = boff[c]; k < boff[c + 1]; k++)
		{
			CxTimedItem	r = rows[k];

			if (w > first && rows[w - 1].time == r.time && rows[w - 1].item == r.item)
				continue;
			rows[w++] = r;
			if (!have_cur || r.time != cur_time)
			{
				have_prev = have_cur;
				prev_time = cur_time;
				cur_time = r.time;
				have_cur = true;
			}
			if (seen[r.item] != c)
			{
				seen[r.item] = c;
				l->icount[r.item]++;
			}
			/* times are at most 2^63 apart: compare without overflow */
			if (have_prev && followed[r.item] != c &&
				(uint64) r.time - (uint64) prev_time <= (uint64) st->window)
			{
				followed[r.item] = c;
				fcount[r.item]++;
			}
		}
		boff[c] = first;
	}
	boff[l->nb] = w;
	pfree(seen);
	pfree(followed);
	*off = boff;
	*follow = fcount;
	return rows;
}

/*
 * The histories over frequent items: each customer's events that hold one,
 * with those items by frequent number.
 */
static void
FrequentHistories(Layout *l, SeqMiner *m, const CxTimedItem *rows, const int64 *off,
				  const int32 *newid)
{
	int64		nrows = off[l->nb];
	int64		ne = 0;
	int64		ni = 0;
	uint32		c;

	m->cust_ev = CxLayoutAlloc(l, (Size) (l->nb + 1) * sizeof(int64));
	m->ev_time = CxLayoutAlloc(l, (Size) Max(nrows, 1) * sizeof(int64));
	m->ev_off = CxLayoutAlloc(l, (Size) (nrows + 1) * sizeof(int64));
	m->ev_items = CxLayoutAlloc(l, (Size) Max(nrows, 1) * sizeof(uint32));
	for (c = 0; c < l->nb; c++)
	{
		int64		k;

		STEP_CHECK(c);
		m->cust_ev[c] = ne;
		for (k = off[c]; k < off[c + 1]; k++)
		{
			int32		f = newid[rows[k].item];

			if (f < 0)
				continue;
			if (ne == m->cust_ev[c] || m->ev_time[ne - 1] != rows[k].time)
			{
				m->ev_time[ne] = rows[k].time;
				m->ev_off[ne] = ni;
				ne++;
			}
			m->ev_items[ni++] = (uint32) f;
		}
		/* frequent numbers follow the item order, not the state's */
		if (ne > m->cust_ev[c])
		{
			int64		e;

			m->ev_off[ne] = ni;
			for (e = m->cust_ev[c]; e < ne; e++)
				CxSortUint32(m->ev_items + m->ev_off[e], m->ev_off[e + 1] - m->ev_off[e]);
		}
	}
	m->cust_ev[l->nb] = ne;
	m->ev_off[ne] = ni;
}

/*
 * The median of n > 0 gaps (the mean of the middle two when n is even);
 * gaps are positive, so they sort as unsigned.
 */
static double
MedianGap(int64 *gaps, int64 n)
{
	qsort(gaps, n, sizeof(int64), CxCompareUint64);
	if (n % 2 == 1)
		return (double) gaps[n / 2];
	return ((double) gaps[n / 2 - 1] + (double) gaps[n / 2]) / 2.0;
}

/* Write the sequence prefix[0 .. len) with its count and median gap. */
static void
Emit(SeqMiner *m, int32 len, int64 count, double gap)
{
	/* past the size of one value: stop now, not once every one is found */
	m->encoded += 20 + 4 * (Size) len;
	CxCheckSequencesSize(m->encoded, m->nseqs + 1);
	if (m->nseqs == m->seq_cap)
	{
		int64		cap = m->seq_cap;

		m->seq_len = Grow(m, m->seq_len, &cap, m->nseqs + 1, sizeof(int32));
		cap = m->seq_cap;
		m->seq_count = Grow(m, m->seq_count, &cap, m->nseqs + 1, sizeof(int64));
		cap = m->seq_cap;
		m->seq_gap = Grow(m, m->seq_gap, &cap, m->nseqs + 1, sizeof(double));
		m->seq_cap = cap;
	}
	m->seq_items = Grow(m, m->seq_items, &m->items_cap, m->items_len + len, sizeof(uint32));
	memcpy(m->seq_items + m->items_len, m->prefix, len * sizeof(uint32));
	m->items_len += len;
	m->seq_len[m->nseqs] = len;
	m->seq_count[m->nseqs] = count;
	m->seq_gap[m->nseqs] = gap;
	m->nseqs++;
}

/* A copy of `old` (n elements) with room for `cap`, the rest zeroed. */
static void *
Widen(void *old, Size n, Size cap, Size elem)
{
	void	   *p = palloc0(cap * elem);

	if (old != NULL)
	{
		memcpy(p, old, n * elem);
		pfree(old);
	}
	return p;
}

/* Make sure the per-depth buffers reach depth d. */
static void
ReserveDepth(SeqMiner *m, int32 d)
{
	int32		old = m->depth_cap;
	int32		cap;

	if (d < m->depth_cap)
		return;
	cap = Max(d + 1, old * 2);
	m->cand = Widen(m->cand, old, cap, sizeof(Extension *));
	m->cand_cap = Widen(m->cand_cap, old, cap, sizeof(int64));
	m->bucket = Widen(m->bucket, old, cap, sizeof(Extension *));
	m->bucket_cap = Widen(m->bucket_cap, old, cap, sizeof(int64));
	m->touched = Widen(m->touched, old, cap, sizeof(uint32 *));
	m->touched_cap = Widen(m->touched_cap, old, cap, sizeof(int64));
	m->prefix = Widen(m->prefix, old, cap, sizeof(uint32));
	m->depth_cap = cap;
}

/*
 * Grow the sequence prefix[0 .. len), whose occurrences are proj[0 .. n),
 * by one item at the end, write each frequent extension and grow it in
 * turn.
 */
static void
Extend(SeqMiner *m, int32 len, const Extension *proj, int64 n)
{
	int64		ncand = 0;
	int64		ntouched = 0;
	int64		i;
	int64		t;
	int64		at;
	uint32	   *touched;
	Extension  *cand;
	Extension  *bucket;

	CHECK_FOR_INTERRUPTS();
	check_stack_depth();
	if (m->max_len > 0 && len >= m->max_len)
		return;
	ReserveDepth(m, len);

	/* every item reachable from each occurrence, at its earliest event */
	for (i = 0; i < n; i++)
	{
		const Occurrence *o = &proj[i].occ;
		int64		last = m->cust_ev[o->cust + 1];
		uint64		stamp = ++m->next_stamp;
		int64		e;

		STEP_CHECK(i);
		for (e = o->end + 1; e < last; e++)
		{
			int64		k;

			if ((uint64) m->ev_time[e] - (uint64) m->ev_time[o->start] > (uint64) m->window)
				break;
			if (++m->tick == 0x10000)
			{
				m->tick = 0;
				CHECK_FOR_INTERRUPTS();
			}
			for (k = m->ev_off[e]; k < m->ev_off[e + 1]; k++)
			{
				uint32		y = m->ev_items[k];
				Extension  *x;

				if (m->stamp[y] == stamp)
					continue;
				m->stamp[y] = stamp;
				if (m->ext_count[y] == 0)
				{
					m->touched[len] = Grow(m, m->touched[len], &m->touched_cap[len],
										   ntouched + 1, sizeof(uint32));
					m->touched[len][ntouched++] = y;
					m->ext_custs[y] = 0;
					m->ext_last[y] = 0;
				}
				m->ext_count[y]++;
				if (m->ext_last[y] != o->cust + 1)
				{
					m->ext_last[y] = o->cust + 1;
					m->ext_custs[y]++;
				}
				m->cand[len] = Grow(m, m->cand[len], &m->cand_cap[len], ncand + 1,
									sizeof(Extension));
				x = &m->cand[len][ncand++];
				x->occ.cust = o->cust;
				x->occ.start = o->start;
				x->occ.end = e;
				x->item = y;
				x->gap = m->ev_time[e] - m->ev_time[o->end];
			}
		}
	}

	/* the frequent extensions' occurrences, bucketed by item in order */
	touched = m->touched[len];
	CxSortUint32(touched, ntouched);
	at = 0;
	for (t = 0; t < ntouched; t++)
	{
		uint32		y = touched[t];
		int64		c = m->ext_count[y];

		m->ext_count[y] = m->ext_custs[y] >= m->min_count ? at : -1;
		if (m->ext_custs[y] >= m->min_count)
			at += c;
	}
	m->bucket[len] = Grow(m, m->bucket[len], &m->bucket_cap[len], Max(at, 1), sizeof(Extension));
	bucket = m->bucket[len];
	cand = m->cand[len];
	for (i = 0; i < ncand; i++)
	{
		int64		to = m->ext_count[cand[i].item];

		STEP_CHECK(i);
		if (to >= 0)
			bucket[m->ext_count[cand[i].item]++] = cand[i];
	}
	for (t = 0; t < ntouched; t++)
		m->ext_count[touched[t]] = 0;

	/* each frequent extension in item order: write it, then grow it */
	for (i = 0; i < at;)
	{
		uint32		y = bucket[i].item;
		int64		end = i;
		int64		ngaps = 0;
		uint32		last_cust = 0;

		while (end < at && bucket[end].item == y)
		{
			/* a customer's first occurrence is their earliest */
			if (ngaps == 0 || bucket[end].occ.cust != last_cust)
			{
				m->gaps = Grow(m, m->gaps, &m->gaps_cap, ngaps + 1, sizeof(int64));
				m->gaps[ngaps++] = bucket[end].gap;
				last_cust = bucket[end].occ.cust;
			}
			end++;
		}
		m->prefix[len] = y;
		Emit(m, len + 1, ngaps, MedianGap(m->gaps, ngaps));
		/* deeper levels reuse the buffers of their own depth only */
		Extend(m, len + 1, m->bucket[len] + i, end - i);
		bucket = m->bucket[len];
		i = end;
	}
}

/* Sequences by length, keeping the depth-first order within a length. */
static void
CanonicalOrder(SeqMiner *m, CxSequences *out)
{
	int64	   *src_off;
	int32		maxlen = 0;
	int64		q;
	int64		off = 0;
	int64	   *slot;
	int32		k;

	for (q = 0; q < m->nseqs; q++)
		maxlen = Max(maxlen, m->seq_len[q]);
	slot = palloc0((maxlen + 2) * sizeof(int64));
	for (q = 0; q < m->nseqs; q++)
		slot[m->seq_len[q] + 1]++;
	for (k = 1; k <= maxlen; k++)
		slot[k + 1] += slot[k];
	src_off = CxGrowArray(NULL, &off, Max(m->nseqs, 1), sizeof(int64), CurrentMemoryContext,
						  m->limitcxt, CX_WORK_MINING);
	off = 0;
	for (q = 0; q < m->nseqs; q++)
	{
		src_off[q] = off;
		off += m->seq_len[q];
	}
	CxCheckMemory(m->limitcxt, (Size) m->nseqs * 28 + (Size) m->items_len * 4, CX_WORK_MINING);
	out->nseqs = m->nseqs;
	out->seq_len = palloc_extended(Max(m->nseqs, 1) * sizeof(int32), MCXT_ALLOC_HUGE);
	out->seq_count = palloc_extended(Max(m->nseqs, 1) * sizeof(int64), MCXT_ALLOC_HUGE);
	out->seq_gap = palloc_extended(Max(m->nseqs, 1) * sizeof(double), MCXT_ALLOC_HUGE);
	out->seq_off = palloc_extended(Max(m->nseqs, 1) * sizeof(int64), MCXT_ALLOC_HUGE);
	out->seq_items = palloc_extended(Max(m->items_len, 1) * sizeof(uint32), MCXT_ALLOC_HUGE);
	/* the offsets of each length's sequences in the output */
	{
		int64	   *item_at = palloc0((maxlen + 2) * sizeof(int64));

		for (k = 1; k <= maxlen; k++)
			item_at[k + 1] = item_at[k] + (slot[k + 1] - slot[k]) * k;
		for (q = 0; q < m->nseqs; q++)
		{
			int32		len = m->seq_len[q];
			int64		to = slot[len]++;

			STEP_CHECK(q);
			out->seq_len[to] = len;
			out->seq_count[to] = m->seq_count[q];
			out->seq_gap[to] = m->seq_gap[q];
			out->seq_off[to] = item_at[len];
			memcpy(out->seq_items + item_at[len], m->seq_items + src_off[q],
				   len * sizeof(uint32));
			item_at[len] += len;
		}
		pfree(item_at);
	}
	pfree(slot);
	pfree(src_off);
}

/*
 * Final function of cxsell.mine_sequences: the histories, their frequent
 * items, then every frequent sequence grown from each item, encoded as a
 * cxsell.sequences value.  The state is not modified.
 */
Datum
mine_sequences_final(PG_FUNCTION_ARGS)
{
	MemoryContext outcxt = CurrentMemoryContext;
	MineState  *st;
	Layout		l;
	int			nestlevel;
	int32	   *newid;
	int64		min_count;
	CxTimedItem  *rows;
	int64	   *off;
	int64	   *follow;
	SeqMiner	m;
	CxPatterns	names;
	CxSequences out;
	bytea	   *result;
	int32		f;
	ErrorContextCallback call;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (MineState *) PG_GETARG_POINTER(0);
	Assert(st->timed);
	if (!CxLayoutStart(&l, st))
		PG_RETURN_NULL();
	CxEnterAggregate(&call, fcinfo);
	MemoryContextSwitchTo(l.cxt);

	/* items ordered and named under fixed output settings, as by mine() */
	nestlevel = NewGUCNestLevel();
	CxPinOutputSettings();

	rows = Histories(&l, &off, &follow);
	min_count = CxMinCount(l.nb, st->min_support);
	newid = CxFrequentItems(&l, min_count);
	memset(&names, 0, sizeof(names));
	CxItemNames(&l, &names);
	AtEOXact_GUC(false, nestlevel);

	memset(&m, 0, sizeof(m));
	m.limitcxt = st->limitcxt;
	m.window = st->window;
	m.min_count = min_count;
	m.max_len = st->max_len;
	m.nfreq = l.nfreq;
	/* the value's header and items, before any sequence */
	m.encoded = VARHDRSZ + 53;
	for (f = 0; f < l.nfreq; f++)
		m.encoded += 20 + strlen(names.item_name[f]);
	FrequentHistories(&l, &m, rows, off, newid);
	pfree(rows);

	m.stamp = CxLayoutAlloc(&l, (Size) Max(l.nfreq, 1) * sizeof(uint64));
	m.ext_count = CxLayoutAlloc(&l, (Size) Max(l.nfreq, 1) * sizeof(int64));
	m.ext_custs = CxLayoutAlloc(&l, (Size) Max(l.nfreq, 1) * sizeof(int64));
	m.ext_last = CxLayoutAlloc(&l, (Size) Max(l.nfreq, 1) * sizeof(uint32));
	memset(m.stamp, 0, (Size) Max(l.nfreq, 1) * sizeof(uint64));
	memset(m.ext_count, 0, (Size) Max(l.nfreq, 1) * sizeof(int64));
	ReserveDepth(&m, 1);

	/* the single items, then each one's extensions */
	for (f = 0; f < l.nfreq; f++)
	{
		m.prefix[0] = (uint32) f;
		Emit(&m, 1, names.item_count[f], 0.0);
	}
	{
		/* every event of each item starts an occurrence */
		int64		nev = m.cust_ev[l.nb];
		int64		nocc = m.ev_off[nev];
		int64	   *item_at = CxLayoutAlloc(&l, (Size) (l.nfreq + 1) * sizeof(int64));
		Extension  *occ = CxLayoutAlloc(&l, (Size) Max(nocc, 1) * sizeof(Extension));
		uint32		c;

		int64		k;

		memset(item_at, 0, (Size) (l.nfreq + 1) * sizeof(int64));
		for (k = 0; k < nocc; k++)
			item_at[m.ev_items[k] + 1]++;
		for (f = 0; f < l.nfreq; f++)
			item_at[f + 1] += item_at[f];
		for (c = 0; c < l.nb; c++)
		{
			int64		e;

			STEP_CHECK(c);
			for (e = m.cust_ev[c]; e < m.cust_ev[c + 1]; e++)
			{
				for (k = m.ev_off[e]; k < m.ev_off[e + 1]; k++)
				{
					Extension  *x = &occ[item_at[m.ev_items[k]]++];

					x->occ.cust = c;
					x->occ.start = e;
					x->occ.end = e;
					x->item = m.ev_items[k];
					x->gap = 0;
				}
			}
		}
		for (f = 0; f < l.nfreq; f++)
		{
			int64		first = f == 0 ? 0 : item_at[f - 1];

			m.prefix[0] = (uint32) f;
			Extend(&m, 1, occ + first, item_at[f] - first);
		}
	}

	memset(&out, 0, sizeof(out));
	out.n = l.nb;
	out.min_support = st->min_support;
	out.max_len = st->max_len;
	out.min_count = min_count;
	out.time_kind = CxTimeKindOf(st->time_type);
	out.window = st->window;
	out.nitems = l.nfreq;
	out.item_name = names.item_name;
	out.item_count = names.item_count;
	out.item_follow = CxLayoutAlloc(&l, (Size) Max(l.nfreq, 1) * sizeof(int64));
	for (f = 0; f < l.nfreq; f++)
		out.item_follow[f] = follow[l.freq[f]];
	CanonicalOrder(&m, &out);

	MemoryContextSwitchTo(outcxt);
	result = CxSequencesEncode(&out);
	MemoryContextDelete(l.cxt);
	CxLeaveCall(&call);
	PG_RETURN_BYTEA_P(result);
}
