/*
 * mine_state.h
 *		Transition state of the cxsell.mine aggregates.
 */
#ifndef CXSELL_MINE_STATE_H
#define CXSELL_MINE_STATE_H

#include "value_io.h"

/*
 * The state collects (basket, item) number pairs.  The row form numbers
 * baskets through a dictionary of basket values; the array form numbers each
 * non-empty array as a basket of its own.  Duplicate pairs are removed when
 * the state is finalised.
 */
typedef struct MineState
{
	MemoryContext cxt;			/* holds everything below */
	MemoryContext limitcxt;		/* counts against cxsell.max_memory: the
								 * aggregate's context, shared by the states
								 * of every group */
	bool		rowform;
	double		min_support;
	int32		max_len;

	CxTypeInfo	basket_ti;		/* row form only */
	CxTypeInfo	item_ti;
	CxValueSet	baskets;		/* row form only */
	int64		last_basket;	/* row form: number of the last basket, or -1 */
	CxValueSet	items;
	uint32		nbaskets;		/* array form: arrays with an item */
	bool		flat;			/* deserialised partial state: its values are
								 * listed but not hashed, so it may only be
								 * merged into another state */

	uint32	   *pair_basket;
	uint32	   *pair_item;
	int64		npairs;
	int64		basket_cap;		/* capacities of the two pair arrays */
	int64		item_cap;
} MineState;

extern void CxCheckMineParams(double min_support, int32 max_len);
extern MineState *CxMineAddRow(FunctionCallInfo fcinfo, MemoryContext aggcxt,
							   MineState *st, double min_support, int32 max_len);

#endif							/* CXSELL_MINE_STATE_H */
