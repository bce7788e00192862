/*
 * mine_layout.h
 *		The layouts built from a cxsell.mine state: baskets with their
 *		items, item counts, the frequent items in value order, and the
 *		horizontal layout the miners read.
 */
#ifndef CXSELL_MINE_LAYOUT_H
#define CXSELL_MINE_LAYOUT_H

#include "cxsell.h"
#include "mine_state.h"

typedef struct Layout
{
	MineState  *st;
	MemoryContext cxt;
	uint32		nb;				/* baskets */
	uint32		ni;				/* distinct items */
	int64	   *boff;			/* basket b's items: items[boff[b] .. boff[b+1]) */
	uint32	   *items;			/* item numbers of the state, per basket;
								 * after CxHorizontalLayout, its frequent
								 * numbers, ascending */
	int64	   *icount;			/* baskets holding each item */
	uint32	   *freq;			/* the frequent items, in value order */
	int32		nfreq;
	int64		nfreqpairs;		/* (basket, frequent item) pairs */
	int64	   *fcount;			/* baskets holding each frequent item */
	CxWork		work;			/* named when memory runs out */
	const int32 *anc_off;		/* a hierarchy: the ancestors of each item
								 * of the state, added to its baskets */
	const uint32 *anc;
} Layout;

extern int64 CxMinCount(int64 n, double min_support);
extern bool CxLayoutStart(Layout *l, MineState *st);
extern void *CxLayoutAlloc(Layout *l, Size size);
extern void CxGroupByBasket(Layout *l);
extern void CxDedupAndCount(Layout *l);
extern int32 *CxFrequentItems(Layout *l, int64 min_count);
extern int64 CxMaxItemCount(const Layout *l);
extern void CxHorizontalLayout(Layout *l, const int32 *newid);
extern void CxItemNames(Layout *l, CxPatterns *out);

/* mine_weights.c */
extern void CxWeighItemsets(Layout *l, const INT128 *basket_weight, CxPatterns *out);

#endif							/* CXSELL_MINE_LAYOUT_H */
