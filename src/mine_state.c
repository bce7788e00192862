/*
 * mine_state.c
 *		Transition, combine, serialise and deserialise functions of the
 *		cxsell.mine aggregates.
 *
 * Serialised state, version 1 (all integers big-endian):
 *
 *	"CXM" u8 version=1, u8 flags (1 = row form)
 *	f64 min_support, u32 max_len, u32 collation
 *	row form: u32 basket type; u32 item type
 *	u32 nbaskets; row form: nbaskets values
 *	u32 nitems; nitems values
 *	u64 npairs; npairs x (u32 basket, u32 item)
 *	weighted (flag 2): nbaskets x (u64 high, u64 low) fixed-point weights
 *	with a hierarchy (flag 4): u64 nedges; nedges x (u32 child, u32 parent)
 *	timed (flag 8): u32 time type, i64 window; npairs x i64 time
 *
 * A value of a by-value integer type (smallint, integer, bigint, oid, date)
 * is a signed 8-byte integer; any other value is a u32 length and the bytes
 * of its type's send function (or of its output function for a type without
 * binary I/O).  Type and collation OIDs are those of the database that wrote
 * the state.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "bytes.h"
#include "cxsell.h"
#include "mine_state.h"

#define MINE_STATE_VERSION 1
#define MINE_FLAG_ROWFORM 1
#define MINE_FLAG_WEIGHTED 2
#define MINE_FLAG_HIERARCHY 4
#define MINE_FLAG_TIMED 8

PG_FUNCTION_INFO_V1(mine_row_trans);
PG_FUNCTION_INFO_V1(mine_array_trans);
PG_FUNCTION_INFO_V1(mine_sequences_trans);
PG_FUNCTION_INFO_V1(mine_combine);
PG_FUNCTION_INFO_V1(mine_serialize);
PG_FUNCTION_INFO_V1(mine_deserialize);

/*
 * Reject a min_support or max_len that cxsell.mine (timed: that
 * cxsell.mine_sequences) cannot use.
 */
static void
CheckParams(double min_support, int32 max_len, bool timed)
{
	if (isnan(min_support) || min_support <= 0.0 || min_support > 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_support %g is out of range", min_support),
				 timed ? errdetail("min_support is the fraction of customers a sequence must appear in.") :
				 errdetail("min_support is the fraction of baskets an itemset must appear in."),
				 errhint("Use a value greater than 0 and at most 1, such as 0.01 for 1%%.")));
	if (max_len < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_len %d is out of range", max_len),
				 timed ? errhint("Use 0 for no limit on the sequence length, or a positive length.") :
				 errhint("Use 0 for no limit on the itemset size, or a positive size.")));
}

/* Reject a min_support or max_len that cxsell.mine cannot use. */
void
CxCheckMineParams(double min_support, int32 max_len)
{
	CheckParams(min_support, max_len, false);
}

/* Read the min_support and max_len arguments of a transition call. */
static void
GetMineParams(FunctionCallInfo fcinfo, int argno, double *min_support,
			  int32 *max_len, bool timed)
{
	CxRequireArg(fcinfo, argno, "min_support", timed ?
				 "Pass the minimum support as a fraction of customers, such as 0.01." :
				 "Pass the minimum support as a fraction of baskets, such as 0.01.");
	*min_support = PG_GETARG_FLOAT8(argno);
	*max_len = 0;
	if (PG_NARGS() > argno + 1)
	{
		CxRequireArg(fcinfo, argno + 1, "max_len", timed ?
					 "Use 0 for no limit on the sequence length." :
					 "Use 0 for no limit on the itemset size.");
		*max_len = PG_GETARG_INT32(argno + 1);
	}
	CheckParams(*min_support, *max_len, timed);
}

/* Insist that every row of a group mines with the same parameters. */
static void
CheckSameParams(MineState *st, double min_support, int32 max_len)
{
	if (st->min_support != min_support || st->max_len != max_len)
		CxRequireSameParams(false, "min_support and max_len",
							psprintf("The group started with min_support %g and max_len %d, then got %g and %d.",
									 st->min_support, st->max_len, min_support, max_len));
}

/* acc += x, exactly. */
void
CxWeightAdd(INT128 *acc, INT128 x)
{
#if USE_NATIVE_INT128
	*acc += x;
#else
	uint64		lo = acc->lo + x.lo;

	acc->hi += x.hi + (lo < acc->lo ? 1 : 0);
	acc->lo = lo;
#endif
}

/* The weight whose high and low 64 bits are given. */
static INT128
WeightFromWords(uint64 hi, uint64 lo)
{
#if USE_NATIVE_INT128
	return (INT128) (((uint128) hi << 64) | lo);
#else
	INT128		x;

	x.hi = (int64) hi;
	x.lo = lo;
	return x;
#endif
}

/* A fixed-point weight as a double, the same however it was summed. */
double
CxWeightDouble(INT128 x)
{
#if USE_NATIVE_INT128
	return (double) x / (double) CX_WEIGHT_ONE;
#else
	return ((double) x.hi * 18446744073709551616.0 + (double) x.lo) /
		(double) CX_WEIGHT_ONE;
#endif
}

/*
 * The weight of argument `argno` in fixed point: a finite number from 0 up
 * to 2^62.  The whole part and the fraction (rounded to 2^-32) are added
 * separately, so the conversion is exact where the double is.
 */
static INT128
RowWeight(FunctionCallInfo fcinfo, int argno)
{
	double		w;
	double		whole;
	INT128		x = int64_to_int128(0);

	CxRequireArg(fcinfo, argno, "weight",
				 "Give every row a weight, such as coalesce(quantity * price, 0).");
	w = PG_GETARG_FLOAT8(argno);
	if (isnan(w) || w < 0.0 || w > 4611686018427387904.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("weight %g is out of range", w),
				 errdetail("A weight is a basket's revenue, margin or quantity: a number from 0 to 2^62."),
				 errhint("Leave out or zero the rows of returns and refunds, whose weight is negative.")));
	whole = floor(w);
	int128_add_int64_mul_int64(&x, (int64) whole, CX_WEIGHT_ONE);
	int128_add_int64(&x, (int64) rint((w - whole) * (double) CX_WEIGHT_ONE));
	return x;
}

/* Make room for the weights of `nbaskets` baskets; new ones weigh 0. */
static void
ReserveWeights(MineState *st, int64 nbaskets)
{
	int64		old = st->weight_cap;

	if (nbaskets <= old)
		return;
	st->basket_weight = CxGrowArray(st->basket_weight, &st->weight_cap, nbaskets,
									sizeof(INT128), st->cxt, st->limitcxt,
									CX_WORK_MINING);
	memset(st->basket_weight + old, 0, (st->weight_cap - old) * sizeof(INT128));
}

/* Record that item `child` has parent `parent`. */
static void
AddEdge(MineState *st, uint32 child, uint32 parent)
{
	/*
	 * Full: drop repeats first (rows whose items alternate between lists
	 * repeat their links), and grow only if that leaves it over half full.
	 */
	if (st->nedges == st->edge_cap && st->nedges > 0)
		st->nedges = CxSortLinks(st->edge_child, st->edge_parent, st->nedges,
								 st->limitcxt);
	if (st->nedges == st->edge_cap || st->nedges * 2 > st->edge_cap)
	{
		int64		cap = st->edge_cap;

		st->edge_child = CxGrowArray(st->edge_child, &cap, st->nedges + 1,
									 sizeof(uint32), st->cxt, st->limitcxt,
									 CX_WORK_MINING);
		cap = st->edge_cap;
		st->edge_parent = CxGrowArray(st->edge_parent, &cap, st->nedges + 1,
									  sizeof(uint32), st->cxt, st->limitcxt,
									  CX_WORK_MINING);
		st->edge_cap = cap;
	}
	st->edge_child[st->nedges] = child;
	st->edge_parent[st->nedges] = parent;
	st->nedges++;
}

/*
 * Create an empty state in a memory context of its own under `parent`; its
 * memory counts against cxsell.max_memory as held by `parent`.
 */
static MineState *
MineStateCreate(MemoryContext parent, bool rowform, double min_support,
				int32 max_len, Oid basket_type, Oid item_type, Oid collation)
{
	MemoryContext cxt;
	MemoryContext old;
	MineState  *st;

	CxCheckMineParams(min_support, max_len);
	cxt = AllocSetContextCreate(parent, "cxsell.mine state", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	st = palloc0(sizeof(MineState));

	st->cxt = cxt;
	st->limitcxt = parent;
	st->rowform = rowform;
	st->min_support = min_support;
	st->max_len = max_len;
	if (rowform)
	{
		CxTypeInfoInit(&st->basket_ti, basket_type, collation, "basket");
		CxValueSetInit(&st->baskets, &st->basket_ti, cxt, parent, CX_WORK_MINING);
	}
	CxTypeInfoInit(&st->item_ti, item_type, collation, "item");
	CxValueSetInit(&st->items, &st->item_ti, cxt, parent, CX_WORK_MINING);
	st->last_basket = -1;
	MemoryContextSwitchTo(old);
	return st;
}

/* Make room for `extra` more pairs, checking the memory bound as we grow. */
static void
ReservePairs(MineState *st, int64 extra)
{
	int64		want = st->npairs + extra;

	st->pair_basket = CxGrowArray(st->pair_basket, &st->basket_cap, want,
								  sizeof(uint32), st->cxt, st->limitcxt,
								  CX_WORK_MINING);
	st->pair_item = CxGrowArray(st->pair_item, &st->item_cap, want,
								sizeof(uint32), st->cxt, st->limitcxt,
								CX_WORK_MINING);
	Assert(st->basket_cap == st->item_cap);
	if (st->timed)
	{
		st->pair_time = CxGrowArray(st->pair_time, &st->time_cap, want,
									sizeof(int64), st->cxt, st->limitcxt,
									CX_WORK_MINING);
		Assert(st->time_cap >= st->basket_cap);
	}
}

static inline void
AddPair(MineState *st, uint32 basket, uint32 item)
{
	/* a pair names a basket and an item the state has numbered */
	Assert(item < st->items.nvalues);
	Assert(st->rowform ? basket < st->baskets.nvalues : basket < st->nbaskets);
	if (st->npairs == st->basket_cap)
		ReservePairs(st, 1);
	st->pair_basket[st->npairs] = basket;
	st->pair_item[st->npairs] = item;
	st->npairs++;
}

/*
 * Record the ancestors of argument `argno` (nearest first) of item `item`:
 * the links item -> first -> second ..., unless this item was just seen
 * with the same list.  NULL elements are skipped.  The final function adds
 * each item's ancestors to its baskets.
 */
static void
AddAncestors(FunctionCallInfo fcinfo, int argno, MineState *st, uint32 item)
{
	ArrayType  *arr;
	ArrayIterator it;
	Datum		value;
	bool		isnull;
	uint32		child = item;
	uint32	   *ids;
	int			nids = 0;
	int			k;

	if (PG_ARGISNULL(argno))
		return;
	arr = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("ancestors must be a one-dimensional array"),
				 errhint("List the item's parent, its parent's parent and so on: ARRAY[subcategory, department].")));
	ids = palloc(Max(ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr)), 1) * sizeof(uint32));
	it = array_create_iterator(arr, 0, NULL);
	while (array_iterate(it, &value, &isnull))
	{
		uint32		id;

		if (isnull)
			continue;
		id = CxValueSetId(&st->items, value);
		/* a level repeated (as coalesce makes them) is one level */
		if (nids == 0 || ids[nids - 1] != id)
			ids[nids++] = id;
	}
	array_free_iterator(it);
	if (st->chain_cap < (int64) st->items.nvalues)
	{
		int64		old = st->chain_cap;

		st->chain_at = CxGrowArray(st->chain_at, &st->chain_cap,
								   st->items.nvalues, sizeof(int64),
								   st->cxt, st->limitcxt, CX_WORK_MINING);
		for (k = old; k < st->chain_cap; k++)
			st->chain_at[k] = -1;
	}
	/* the item's last list, as [room, length, ids...] in the pool: the same? */
	if (st->chain_at[item] >= 0 &&
		st->chain_pool[st->chain_at[item] + 1] == (uint32) nids &&
		memcmp(st->chain_pool + st->chain_at[item] + 2, ids, nids * sizeof(uint32)) == 0)
	{
		pfree(ids);
		return;
	}
	/* keep it in the item's slot, which grows only for a longer list */
	if (st->chain_at[item] < 0 || st->chain_pool[st->chain_at[item]] < (uint32) nids)
	{
		st->chain_pool = CxGrowArray(st->chain_pool, &st->pool_cap, st->pool_len + nids + 2,
									 sizeof(uint32), st->cxt, st->limitcxt, CX_WORK_MINING);
		st->chain_at[item] = st->pool_len;
		st->chain_pool[st->pool_len] = (uint32) nids;
		st->pool_len += nids + 2;
	}
	st->chain_pool[st->chain_at[item] + 1] = (uint32) nids;
	memcpy(st->chain_pool + st->chain_at[item] + 2, ids, nids * sizeof(uint32));
	/* a new list for this item: record its links */
	for (k = 0; k < nids; k++)
	{
		AddEdge(st, child, ids[k]);
		child = ids[k];
	}
	pfree(ids);
}

/*
 * Transition of cxsell.mine(basket, item, min_support [, max_len
 * [, ancestors] [, weight]]): one row per basket and item.  Rows with a NULL
 * basket or item are skipped.  `ancestors` names the item's ancestors in a
 * hierarchy; `weight` adds to the basket's weight.
 */
Datum
mine_row_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = CxAggContext(fcinfo);
	MineState  *st = PG_ARGISNULL(0) ? NULL : (MineState *) PG_GETARG_POINTER(0);
	double		min_support;
	int32		max_len;
	int			ancestors_arg = -1;
	int			weight_arg = -1;
	bool		fresh = (st == NULL);
	ErrorContextCallback call;

	CxEnterAggregate(&call, fcinfo);
	if (PG_NARGS() == 7)
	{
		ancestors_arg = 5;
		weight_arg = 6;
	}
	else if (PG_NARGS() == 6)
	{
		if (get_fn_expr_argtype(fcinfo->flinfo, 5) == FLOAT8OID)
			weight_arg = 5;
		else
			ancestors_arg = 5;
	}
	GetMineParams(fcinfo, 3, &min_support, &max_len, false);
	st = CxMineAddRow(fcinfo, aggcxt, st, min_support, max_len);
	if (fresh)
	{
		st->weighted = (weight_arg >= 0);
		st->hierarchical = (ancestors_arg >= 0);
	}
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
	{
		uint32		basket = (uint32) st->last_basket;

		if (weight_arg >= 0)
		{
			ReserveWeights(st, st->baskets.nvalues);
			CxWeightAdd(&st->basket_weight[basket], RowWeight(fcinfo, weight_arg));
		}
		if (ancestors_arg >= 0)
			AddAncestors(fcinfo, ancestors_arg, st, st->pair_item[st->npairs - 1]);
	}
	CxLeaveCall(&call);
	PG_RETURN_POINTER(st);
}

/*
 * Add the row (basket, item) of arguments basket_arg and item_arg to `st`,
 * created in `aggcxt` on the first row (NULL `st`) with these parameters.
 * Rows with a NULL basket or item are skipped; after any other,
 * st->last_basket is its basket and the last pair its own.
 */
static MineState *
AddRow(FunctionCallInfo fcinfo, MemoryContext aggcxt, MineState *st,
	   int basket_arg, int item_arg, double min_support, int32 max_len)
{
	if (st == NULL)
		st = MineStateCreate(aggcxt, true, min_support, max_len,
							 get_fn_expr_argtype(fcinfo->flinfo, basket_arg),
							 get_fn_expr_argtype(fcinfo->flinfo, item_arg),
							 PG_GET_COLLATION());
	else
		CheckSameParams(st, min_support, max_len);

	if (!PG_ARGISNULL(basket_arg) && !PG_ARGISNULL(item_arg))
	{
		Datum		b = PG_GETARG_DATUM(basket_arg);
		uint32		basket;

		/* lines of one basket usually come together: try the last one first */
		if (st->last_basket >= 0 &&
			CxEqualValues(&st->basket_ti, st->baskets.values[st->last_basket], b))
			basket = (uint32) st->last_basket;
		else
			basket = CxValueSetId(&st->baskets, b);
		st->last_basket = basket;
		AddPair(st, basket, CxValueSetId(&st->items, PG_GETARG_DATUM(item_arg)));
	}
	return st;
}

/* The row (basket, item) of arguments 1 and 2: see AddRow. */
MineState *
CxMineAddRow(FunctionCallInfo fcinfo, MemoryContext aggcxt, MineState *st,
			 double min_support, int32 max_len)
{
	return AddRow(fcinfo, aggcxt, st, 1, 2, min_support, max_len);
}

/* The kind of time of a type cxsell.mine_sequences takes, or -1. */
int
CxTimeKindOf(Oid type)
{
	switch (type)
	{
		case INT8OID:
		case INT4OID:
		case INT2OID:
			return CX_TIME_INTEGER;
		case DATEOID:
			return CX_TIME_DATE;
		case TIMESTAMPOID:
			return CX_TIME_TIMESTAMP;
		case TIMESTAMPTZOID:
			return CX_TIME_TIMESTAMPTZ;
	}
	return -1;
}

/* A time of type `type`, in the units of its kind; it must be finite. */
int64
CxTimeUnits(Datum d, Oid type)
{
	switch (CxTimeKindOf(type))
	{
		case CX_TIME_INTEGER:
			return type == INT8OID ? DatumGetInt64(d) :
				type == INT4OID ? (int64) DatumGetInt32(d) :
				(int64) DatumGetInt16(d);
		case CX_TIME_DATE:
			if (DATE_NOT_FINITE(DatumGetDateADT(d)))
				break;
			return (int64) DatumGetDateADT(d);
		case CX_TIME_TIMESTAMP:
		case CX_TIME_TIMESTAMPTZ:
			if (TIMESTAMP_NOT_FINITE(DatumGetTimestamp(d)))
				break;
			return DatumGetTimestamp(d);
		default:
			elog(ERROR, "unsupported time type %u", type);
	}
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("a time must be finite"),
			 errhint("Leave out rows dated infinity or -infinity.")));
	return 0;
}

/*
 * Argument `argno`, the window, in the units of times of type `type`: an
 * integer for integer times; an interval for dates (whole days, rounded
 * down) and timestamps (microseconds).  A month counts 30 days and a day 24
 * hours, as when PostgreSQL compares intervals.  It must be positive; the
 * conversion is exact, and a window longer than any difference of two
 * times is no limit.
 */
static int64
WindowArg(FunctionCallInfo fcinfo, int argno, Oid type)
{
	int			kind = CxTimeKindOf(type);
	INT128		w = int64_to_int128(0);

	CxRequireArg(fcinfo, argno, "within",
				 kind == CX_TIME_INTEGER ?
				 "Pass the longest time a sequence may span, in the units of the times." :
				 "Pass the longest time a sequence may span, such as interval '90 days'.");
	if (kind == CX_TIME_INTEGER)
		int128_add_int64(&w, PG_GETARG_INT64(argno));
	else
	{
		Interval   *iv = PG_GETARG_INTERVAL_P(argno);
		int64		days = (int64) iv->month * DAYS_PER_MONTH + iv->day;

		if (kind == CX_TIME_DATE)
		{
			/* whole days: the time part's days, rounded down */
			int64		t = iv->time / USECS_PER_DAY;

			if (iv->time % USECS_PER_DAY < 0)
				t--;
			int128_add_int64(&w, days + t);
		}
		else
		{
			int128_add_int64_mul_int64(&w, days, USECS_PER_DAY);
			int128_add_int64(&w, iv->time);
		}
	}
	if (int128_compare(w, int64_to_int128(0)) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("within must be positive"),
				 errdetail("within is the longest time from the first item of a sequence to its last."),
				 errhint(kind == CX_TIME_DATE ? "Use at least interval '1 day' with dates." :
						 "Use a positive window, such as interval '90 days'.")));
	if (int128_compare(w, int64_to_int128(PG_INT64_MAX)) > 0)
		return PG_INT64_MAX;
	return int128_to_int64(w);
}

/*
 * Transition of cxsell.mine_sequences(customer, at, item, min_support,
 * max_len, within): one row per customer, time and item.  Rows with a NULL
 * customer, time or item are skipped.
 */
Datum
mine_sequences_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = CxAggContext(fcinfo);
	MineState  *st = PG_ARGISNULL(0) ? NULL : (MineState *) PG_GETARG_POINTER(0);
	Oid			time_type = get_fn_expr_argtype(fcinfo->flinfo, 2);
	double		min_support;
	int32		max_len;
	int64		window;
	ErrorContextCallback call;

	CxEnterAggregate(&call, fcinfo);
	if (CxTimeKindOf(time_type) < 0)
		elog(ERROR, "unsupported time type %u", time_type);
	GetMineParams(fcinfo, 4, &min_support, &max_len, true);
	window = WindowArg(fcinfo, 6, time_type);
	if (st == NULL)
	{
		st = MineStateCreate(aggcxt, true, min_support, max_len,
							 get_fn_expr_argtype(fcinfo->flinfo, 1),
							 get_fn_expr_argtype(fcinfo->flinfo, 3),
							 PG_GET_COLLATION());
		st->timed = true;
		st->time_type = time_type;
		st->window = window;
	}
	else if (st->window != window)
		CxRequireSameParams(false, "within", NULL);
	if (!PG_ARGISNULL(2))
	{
		int64		npairs = st->npairs;

		st = AddRow(fcinfo, aggcxt, st, 1, 3, min_support, max_len);
		if (st->npairs > npairs)
		{
			Assert(st->time_cap >= st->npairs);
			st->pair_time[st->npairs - 1] = CxTimeUnits(PG_GETARG_DATUM(2), time_type);
		}
	}
	CxLeaveCall(&call);
	PG_RETURN_POINTER(st);
}

/*
 * Transition of cxsell.mine(items[], min_support [, max_len [, weight]]):
 * one row per basket.  An array without a non-NULL element is no basket,
 * and its weight counts for nothing.
 */
Datum
mine_array_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = CxAggContext(fcinfo);
	MineState  *st = PG_ARGISNULL(0) ? NULL : (MineState *) PG_GETARG_POINTER(0);
	double		min_support;
	int32		max_len;
	ErrorContextCallback call;

	CxEnterAggregate(&call, fcinfo);
	GetMineParams(fcinfo, 2, &min_support, &max_len, false);
	if (st != NULL)
		CheckSameParams(st, min_support, max_len);

	if (!PG_ARGISNULL(1))
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
		ArrayIterator it;
		Datum		value;
		bool		isnull;
		bool		started = false;

		if (st == NULL)
		{
			st = MineStateCreate(aggcxt, false, min_support, max_len,
								 InvalidOid, ARR_ELEMTYPE(arr),
								 PG_GET_COLLATION());
			st->weighted = (PG_NARGS() == 5);
		}
		ReservePairs(st, ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr)));
		it = array_create_iterator(arr, 0, NULL);
		while (array_iterate(it, &value, &isnull))
		{
			if (isnull)
				continue;
			if (!started)
			{
				if (st->nbaskets == PG_UINT32_MAX - 1)
					ereport(ERROR,
							(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							 errmsg("too many baskets: at most %u are supported",
									PG_UINT32_MAX - 1)));
				st->nbaskets++;
				started = true;
			}
			AddPair(st, st->nbaskets - 1, CxValueSetId(&st->items, value));
		}
		array_free_iterator(it);
		if (started && st->weighted)
		{
			ReserveWeights(st, st->nbaskets);
			st->basket_weight[st->nbaskets - 1] = RowWeight(fcinfo, 4);
		}
	}
	CxLeaveCall(&call);
	if (st == NULL)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(st);
}

/* Add the contents of `src` to `dst`. */
static void
MergeState(MineState *dst, MineState *src)
{
	uint32	   *item_map = palloc(Max(src->items.nvalues, 1) * sizeof(uint32));
	uint32	   *basket_map = NULL;
	uint32		basket_base = dst->nbaskets;
	uint32		i;
	int64		k;

	if (dst->rowform != src->rowform || dst->item_ti.type != src->item_ti.type ||
		(dst->rowform && dst->basket_ti.type != src->basket_ti.type) ||
		dst->weighted != src->weighted || dst->hierarchical != src->hierarchical ||
		dst->timed != src->timed || dst->time_type != src->time_type)
		elog(ERROR, "cannot combine cxsell.mine states of different kinds");
	Assert(!dst->flat);
	Assert(src->npairs == 0 || src->items.nvalues > 0);
	CheckSameParams(dst, src->min_support, src->max_len);
	if (dst->window != src->window)
		CxRequireSameParams(false, "within", NULL);

	for (i = 0; i < src->items.nvalues; i++)
	{
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		item_map[i] = CxValueSetId(&dst->items, src->items.values[i]);
	}
	if (dst->rowform)
	{
		basket_map = palloc(Max(src->baskets.nvalues, 1) * sizeof(uint32));
		for (i = 0; i < src->baskets.nvalues; i++)
		{
			if ((i & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			basket_map[i] = CxValueSetId(&dst->baskets, src->baskets.values[i]);
		}
	}
	else
	{
		if ((uint64) dst->nbaskets + src->nbaskets >= PG_UINT32_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many baskets: at most %u are supported",
							PG_UINT32_MAX - 1)));
		dst->nbaskets += src->nbaskets;
	}

	ReservePairs(dst, src->npairs);
	for (k = 0; k < src->npairs; k++)
	{
		if ((k & 0xFFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		Assert(src->pair_item[k] < src->items.nvalues);
		dst->pair_basket[dst->npairs] = basket_map ?
			basket_map[src->pair_basket[k]] : basket_base + src->pair_basket[k];
		dst->pair_item[dst->npairs] = item_map[src->pair_item[k]];
		if (dst->timed)
			dst->pair_time[dst->npairs] = src->pair_time[k];
		dst->npairs++;
	}
	if (dst->weighted)
	{
		uint32		nsrc = src->rowform ? src->baskets.nvalues : src->nbaskets;

		ReserveWeights(dst, dst->rowform ? dst->baskets.nvalues : dst->nbaskets);
		for (i = 0; i < nsrc && i < src->weight_cap; i++)
		{
			if ((i & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			CxWeightAdd(&dst->basket_weight[basket_map ? basket_map[i] : basket_base + i],
						src->basket_weight[i]);
		}
	}
	for (k = 0; k < src->nedges; k++)
	{
		if ((k & 0xFFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		AddEdge(dst, item_map[src->edge_child[k]], item_map[src->edge_parent[k]]);
	}
	pfree(item_map);
	if (basket_map)
		pfree(basket_map);
}

/*
 * Combine two partial states.  The result's contents do not depend on which
 * state comes first: the final function works on sets of values.
 */
Datum
mine_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	MineState  *dst;
	MineState  *src;
	ErrorContextCallback call;

	if (!CxCombineStates(fcinfo, &aggcxt, (void **) &dst, (void **) &src))
	{
		if (dst == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(dst);
	}
	CxEnterAggregate(&call, fcinfo);
	if (dst != NULL && dst->flat)
		elog(ERROR, "cannot combine into a deserialised cxsell.mine state");
	/* the source may live in per-call memory: merging copies it */
	if (dst == NULL)
	{
		dst = MineStateCreate(aggcxt, src->rowform, src->min_support,
							  src->max_len,
							  src->rowform ? src->basket_ti.type : InvalidOid,
							  src->item_ti.type, src->item_ti.collation);
		dst->weighted = src->weighted;
		dst->hierarchical = src->hierarchical;
		dst->timed = src->timed;
		dst->time_type = src->time_type;
		dst->window = src->window;
	}
	MergeState(dst, src);
	CxLeaveCall(&call);
	PG_RETURN_POINTER(dst);
}

/* Serialise a state into its portable form (see the top of this file). */
Datum
mine_serialize(PG_FUNCTION_ARGS)
{
	MineState  *st = (MineState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	uint32		i;
	int64		k;

	CxStateBegin(&buf, "CXM", MINE_STATE_VERSION);
	appendStringInfoChar(&buf, (st->rowform ? MINE_FLAG_ROWFORM : 0) |
						 (st->weighted ? MINE_FLAG_WEIGHTED : 0) |
						 (st->hierarchical ? MINE_FLAG_HIERARCHY : 0) |
						 (st->timed ? MINE_FLAG_TIMED : 0));
	cx_put_f64(&buf, st->min_support);
	cx_put_u32(&buf, (uint32) st->max_len);
	cx_put_u32(&buf, st->item_ti.collation);
	if (st->rowform)
		cx_put_u32(&buf, st->basket_ti.type);
	cx_put_u32(&buf, st->item_ti.type);

	if (st->rowform)
	{
		cx_put_u32(&buf, st->baskets.nvalues);
		for (i = 0; i < st->baskets.nvalues; i++)
			CxWriteValue(&buf, &st->basket_ti, st->baskets.values[i]);
	}
	else
		cx_put_u32(&buf, st->nbaskets);
	cx_put_u32(&buf, st->items.nvalues);
	for (i = 0; i < st->items.nvalues; i++)
		CxWriteValue(&buf, &st->item_ti, st->items.values[i]);
	cx_put_u64(&buf, st->npairs);
	CxStateReserve(&buf, (Size) st->npairs * 8);
	for (k = 0; k < st->npairs; k++)
	{
		cx_put_u32(&buf, st->pair_basket[k]);
		cx_put_u32(&buf, st->pair_item[k]);
	}
	if (st->weighted)
	{
		uint32		nb = st->rowform ? st->baskets.nvalues : st->nbaskets;

		CxStateReserve(&buf, (Size) nb * 16);
		for (i = 0; i < nb; i++)
		{
			INT128		x = i < st->weight_cap ? st->basket_weight[i] : int64_to_int128(0);

#if USE_NATIVE_INT128
			cx_put_u64(&buf, (uint64) (x >> 64));
			cx_put_u64(&buf, (uint64) x);
#else
			cx_put_u64(&buf, (uint64) x.hi);
			cx_put_u64(&buf, x.lo);
#endif
		}
	}
	if (st->hierarchical)
	{
		cx_put_u64(&buf, st->nedges);
		CxStateReserve(&buf, (Size) st->nedges * 8);
		for (k = 0; k < st->nedges; k++)
		{
			cx_put_u32(&buf, st->edge_child[k]);
			cx_put_u32(&buf, st->edge_parent[k]);
		}
	}
	if (st->timed)
	{
		cx_put_u32(&buf, st->time_type);
		cx_put_u64(&buf, (uint64) st->window);
		CxStateReserve(&buf, (Size) st->npairs * 8);
		for (k = 0; k < st->npairs; k++)
			cx_put_u64(&buf, (uint64) st->pair_time[k]);
	}
	PG_RETURN_BYTEA_P(CxStateEnd(&buf));
}

/* Read a type OID from a serialised state, insisting that the type exists. */
static Oid
ReadTypeOid(CxReader *r)
{
	Oid			type = cx_get_u32(r);

	if (!SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(type)))
		CxReaderFail(r, "The state names a type that does not exist");
	return type;
}

/*
 * Read `n` values into `set`, listed in order without hashing: the state
 * being read is flat and is only ever merged into another one, which hashes
 * each value once.
 */
static void
ReadValues(CxReader *r, CxValueSet *set, uint32 n)
{
	uint32		i;
	StringInfoData scratch;

	/* each value takes at least 4 bytes */
	if (n > (r->len - r->pos) / 4)
		CxReaderFail(r, "The value count exceeds the bytes present");
	initStringInfo(&scratch);
	for (i = 0; i < n; i++)
	{
		Datum		v = CxReadValue(r, set->ti, &scratch);

		CxValueSetAppend(set, v);
		if (!set->ti->typbyval)
			pfree(DatumGetPointer(v));
	}
	pfree(scratch.data);
}

/*
 * Rebuild a state from its portable form, rejecting malformed bytes.  It
 * lives in the current (per-call) memory: the combine function copies it.
 */
Datum
mine_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	CxReader	r;
	uint8		flags;
	double		min_support;
	int32		max_len;
	Oid			collation;
	Oid			basket_type = InvalidOid;
	Oid			item_type;
	MineState  *st;
	uint32		nbaskets;
	uint32		nitems;
	uint64		npairs;
	uint64		k;
	const char *pairs;

	CxStateOpen(&r, bytes, "CXM", MINE_STATE_VERSION, "cxsell.mine state",
				ERRCODE_DATA_CORRUPTED);
	flags = cx_get_u8(&r);
	if ((flags & ~(MINE_FLAG_ROWFORM | MINE_FLAG_WEIGHTED | MINE_FLAG_HIERARCHY |
				   MINE_FLAG_TIMED)) != 0 ||
		((flags & (MINE_FLAG_HIERARCHY | MINE_FLAG_TIMED)) && !(flags & MINE_FLAG_ROWFORM)) ||
		((flags & MINE_FLAG_TIMED) && (flags & (MINE_FLAG_HIERARCHY | MINE_FLAG_WEIGHTED))))
		CxReaderFail(&r, "The state has unknown flags");
	min_support = cx_get_f64(&r);
	max_len = (int32) cx_get_u32(&r);
	collation = cx_get_u32(&r);
	if (flags & MINE_FLAG_ROWFORM)
		basket_type = ReadTypeOid(&r);
	item_type = ReadTypeOid(&r);

	st = MineStateCreate(CurrentMemoryContext, (flags & MINE_FLAG_ROWFORM) != 0,
						 min_support, max_len, basket_type, item_type,
						 collation);
	st->flat = true;
	st->weighted = (flags & MINE_FLAG_WEIGHTED) != 0;
	st->hierarchical = (flags & MINE_FLAG_HIERARCHY) != 0;
	st->timed = (flags & MINE_FLAG_TIMED) != 0;
	nbaskets = cx_get_u32(&r);
	if (st->rowform)
		ReadValues(&r, &st->baskets, nbaskets);
	else
		st->nbaskets = nbaskets;
	nitems = cx_get_u32(&r);
	ReadValues(&r, &st->items, nitems);
	npairs = cx_get_u64(&r);
	if (npairs > (r.len - r.pos) / 8)
		CxReaderFail(&r, "The pair count exceeds the bytes present");
	ReservePairs(st, (int64) npairs);
	pairs = cx_get_bytes(&r, npairs * 8);
	for (k = 0; k < npairs; k++)
	{
		uint32		b;
		uint32		i;

		if ((k & 0xFFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		memcpy(&b, pairs + k * 8, 4);
		memcpy(&i, pairs + k * 8 + 4, 4);
		b = pg_ntoh32(b);
		i = pg_ntoh32(i);
		if (b >= nbaskets || i >= nitems)
			CxReaderFail(&r, "A pair refers to a basket or item that is not in the state");
		st->pair_basket[k] = b;
		st->pair_item[k] = i;
	}
	st->npairs = npairs;
	if (st->weighted)
	{
		if (nbaskets > (r.len - r.pos) / 16)
			CxReaderFail(&r, "The basket weights exceed the bytes present");
		ReserveWeights(st, nbaskets);
		for (k = 0; k < nbaskets; k++)
		{
			uint64		hi = cx_get_u64(&r);
			uint64		lo = cx_get_u64(&r);

			if ((int64) hi < 0)
				CxReaderFail(&r, "A basket weight is negative");
			st->basket_weight[k] = WeightFromWords(hi, lo);
		}
	}
	if (st->hierarchical)
	{
		uint64		nedges = cx_get_u64(&r);

		if (nedges > (r.len - r.pos) / 8)
			CxReaderFail(&r, "The link count exceeds the bytes present");
		for (k = 0; k < nedges; k++)
		{
			uint32		c = cx_get_u32(&r);
			uint32		p = cx_get_u32(&r);

			if (c >= nitems || p >= nitems)
				CxReaderFail(&r, "A link refers to an item that is not in the state");
			AddEdge(st, c, p);
		}
	}
	if (st->timed)
	{
		st->time_type = cx_get_u32(&r);
		st->window = (int64) cx_get_u64(&r);
		if (CxTimeKindOf(st->time_type) < 0)
			CxReaderFail(&r, "The state names an unsupported time type");
		if (st->window <= 0)
			CxReaderFail(&r, "The window is not positive");
		if (npairs > (r.len - r.pos) / 8)
			CxReaderFail(&r, "The times exceed the bytes present");
		for (k = 0; k < npairs; k++)
		{
			if ((k & 0xFFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			st->pair_time[k] = (int64) cx_get_u64(&r);
		}
	}
	CxReaderEnd(&r);
	PG_RETURN_POINTER(st);
}
