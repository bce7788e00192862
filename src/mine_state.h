/*
 * mine_state.h
 *		Transition state of the cxsell.mine aggregates.
 */
#ifndef CXSELL_MINE_STATE_H
#define CXSELL_MINE_STATE_H

#include "common/int128.h"

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

	/*
	 * Weighted states: each basket's weight, the sum of its rows' weights
	 * (row form) or its array's weight, in fixed point (CX_WEIGHT_ONE units)
	 * so that sums are exact and do not depend on the order of rows.
	 */
	bool		weighted;
	INT128	   *basket_weight;
	int64		weight_cap;

	/*
	 * States with a hierarchy: the (child, parent) item number pairs the
	 * rows named, with repeats; and, per item number, where the last
	 * ancestor list seen with it starts in chain_pool (-1: none yet), so
	 * that repeats are skipped.  Baskets get their items' ancestors when the
	 * state is finalised.
	 */
	bool		hierarchical;
	uint32	   *edge_child;
	uint32	   *edge_parent;
	int64		nedges;
	int64		edge_cap;
	int64	   *chain_at;
	int64		chain_cap;
	uint32	   *chain_pool;		/* lists as [room, length, item numbers...] */
	int64		pool_len;
	int64		pool_cap;

	/*
	 * Timed states (cxsell.mine_sequences): baskets are customers, and each
	 * pair has the time of its row, in the units of the time type (days for
	 * dates, microseconds for timestamps); `window` is in the same units.
	 */
	bool		timed;
	Oid			time_type;
	int64		window;
	int64	   *pair_time;
	int64		time_cap;
} MineState;

/* fixed-point weights: 2^32 units per unit of weight */
#define CX_WEIGHT_ONE (INT64CONST(1) << 32)
extern void CxWeightAdd(INT128 *acc, INT128 x);
extern double CxWeightDouble(INT128 x);

extern void CxCheckMineParams(double min_support, int32 max_len);

/* the kinds of time a timed state holds */
typedef enum CxTimeKind
{
	CX_TIME_INTEGER = 0,
	CX_TIME_DATE = 1,
	CX_TIME_TIMESTAMP = 2,
	CX_TIME_TIMESTAMPTZ = 3
} CxTimeKind;

extern int	CxTimeKindOf(Oid type);
extern int64 CxTimeUnits(Datum d, Oid type);

extern MineState *CxMineAddRow(FunctionCallInfo fcinfo, MemoryContext aggcxt,
							   MineState *st, double min_support, int32 max_len);

#endif							/* CXSELL_MINE_STATE_H */
