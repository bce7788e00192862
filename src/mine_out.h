/*
 * mine_out.h
 *		Where a miner puts what it finds: frequent itemsets, each possibly
 *		with perfect extensions, and the counts of item pairs, written into
 *		a CxPatterns value in canonical order, within cxsell.max_memory and
 *		the size of one cxsell.patterns value.
 */
#ifndef CXSELL_MINE_OUT_H
#define CXSELL_MINE_OUT_H

#include "cxsell.h"

typedef struct CxSetWriter
{
	CxPatterns *out;
	MemoryContext cxt;			/* the arrays of `out` */
	MemoryContext limitcxt;		/* held against cxsell.max_memory */
	CxWork		work;
	int32		maxlen;			/* largest itemset size written */
	int64		set_cap;
	int64		item_cap;
	int64		pair_cap;
	int64		nset_items;
	Size		encoded;		/* bytes of the cxsell.patterns value */
	bool		counting;		/* past a limit: itemsets are only counted */
	bool		over_memory;	/* ... the limit being cxsell.max_memory */
	double		more_sets;		/* itemsets counted, not stored */
	double		more_items;
	double		stop_at;		/* counting stops at this many itemsets */
	bool		stopped;		/* ... and has: miners return */
	uint32		tick;			/* itemsets since interrupts were checked */
	/* scratch for one call of CxWriterSets */
	uint32	   *base;
	uint32	   *ext;
	uint32	   *pick;
	int32		nbase;
	int32		next;
	int64		count;
} CxSetWriter;

extern void CxWriterInit(CxSetWriter *w, CxPatterns *out, int32 max_len,
						 CxWork work, MemoryContext cxt,
						 MemoryContext limitcxt);
extern void CxWriterSets(CxSetWriter *w, const uint32 *items, int32 nitems,
						 const uint32 *perfect, int32 nperfect, int64 count);
extern void CxWriterPair(CxSetWriter *w, uint32 a, uint32 b, int64 count);
extern void CxWriterFinish(CxSetWriter *w);

#endif							/* CXSELL_MINE_OUT_H */
