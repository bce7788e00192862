/*
 * sequences.h
 *		A decoded cxsell.sequences value: the sequential patterns of
 *		cxsell.mine_sequences, and the readers' lookups into it.
 */
#ifndef CXSELL_SEQUENCES_H
#define CXSELL_SEQUENCES_H

#include "cxsell.h"
#include "mine_state.h"

/*
 * Items are numbered 0..nitems-1 in the item type's order.  A sequence is a
 * list of items (repeats allowed) that a customer took at strictly
 * increasing times, the last at most `window` after the first.  Sequences
 * come in canonical order: by length, then lexicographically by item
 * numbers; the first nitems are the single items.
 */
typedef struct CxSequences
{
	int64		n;				/* customers */
	double		min_support;
	int32		max_len;		/* 0 = unlimited */
	int64		min_count;
	int32		time_kind;		/* a CxTimeKind */
	int64		window;			/* in the time's units */

	int32		nitems;
	char	  **item_name;
	int64	   *item_count;		/* customers who took the item */
	int64	   *item_follow;	/* customers who took it after another
								 * event of theirs, within the window */

	int64		nseqs;
	int32	   *seq_len;
	int64	   *seq_count;		/* customers with the sequence */
	double	   *seq_gap;		/* median time from the next-to-last item to
								 * the last (0 for single items) */
	int64	   *seq_off;
	uint32	   *seq_items;
	int64	   *seq_prefix;		/* the sequence one item shorter at the end
								 * (-1 for single items) */
	int32		max_size;
	int64	   *size_first;		/* [k] = first sequence of length k,
								 * k = 1..max_size+1 */

	int32	   *by_name;		/* built on first use */
} CxSequences;

/*
 * A time difference in the units users read: days for dates and
 * timestamps (stored in days and microseconds), the times' own units for
 * integers.
 */
static inline double
CxTimeUnitsToGap(int32 time_kind, double units)
{
	if (time_kind == CX_TIME_TIMESTAMP || time_kind == CX_TIME_TIMESTAMPTZ)
		return units / 86400000000.0;
	return units;
}

/* A row of a customer's history: a time and an item number. */
typedef struct CxTimedItem
{
	int64		time;
	uint32		item;
} CxTimedItem;

/* qsort comparator: CxTimedItem by time, then item. */
static inline int
CxCompareTimedItems(const void *a, const void *b)
{
	const CxTimedItem *x = (const CxTimedItem *) a;
	const CxTimedItem *y = (const CxTimedItem *) b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return (x->item > y->item) - (x->item < y->item);
}

/* sequences.c */
extern void CxCheckSequencesSize(Size size, int64 nseqs);
extern bytea *CxSequencesEncode(const CxSequences *s);
extern CxSequences *CxSequencesFromDatumCached(FmgrInfo *flinfo, Datum d);
extern int64 CxSequencesFind(const CxSequences *s, const uint32 *items, int32 k);
extern int32 CxSequencesFindItem(CxSequences *s, const char *name, int32 *count);

#endif							/* CXSELL_SEQUENCES_H */
