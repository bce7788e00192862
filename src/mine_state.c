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
#include "utils/syscache.h"

#include "bytes.h"
#include "cxsell.h"
#include "mine_state.h"

#define MINE_STATE_VERSION 1
#define MINE_FLAG_ROWFORM 1

PG_FUNCTION_INFO_V1(mine_row_trans);
PG_FUNCTION_INFO_V1(mine_array_trans);
PG_FUNCTION_INFO_V1(mine_combine);
PG_FUNCTION_INFO_V1(mine_serialize);
PG_FUNCTION_INFO_V1(mine_deserialize);

/* Reject a min_support or max_len that cxsell.mine cannot use. */
void
CxCheckMineParams(double min_support, int32 max_len)
{
	if (isnan(min_support) || min_support <= 0.0 || min_support > 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_support %g is out of range", min_support),
				 errdetail("min_support is the fraction of baskets an itemset must appear in."),
				 errhint("Use a value greater than 0 and at most 1, such as 0.01 for 1%%.")));
	if (max_len < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_len %d is out of range", max_len),
				 errhint("Use 0 for no limit on the itemset size, or a positive size.")));
}

/* Read the min_support and max_len arguments of a transition call. */
static void
GetMineParams(FunctionCallInfo fcinfo, int argno, double *min_support,
			  int32 *max_len)
{
	CxRequireArg(fcinfo, argno, "min_support",
				 "Pass the minimum support as a fraction of baskets, such as 0.01.");
	*min_support = PG_GETARG_FLOAT8(argno);
	*max_len = 0;
	if (PG_NARGS() > argno + 1)
	{
		CxRequireArg(fcinfo, argno + 1, "max_len",
					 "Use 0 for no limit on the itemset size.");
		*max_len = PG_GETARG_INT32(argno + 1);
	}
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
 * Transition of cxsell.mine(basket, item, min_support [, max_len]): one row
 * per basket and item.  Rows with a NULL basket or item are skipped.
 */
Datum
mine_row_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = CxAggContext(fcinfo);
	MineState  *st = PG_ARGISNULL(0) ? NULL : (MineState *) PG_GETARG_POINTER(0);
	double		min_support;
	int32		max_len;
	ErrorContextCallback call;

	CxEnterAggregate(&call, fcinfo);
	GetMineParams(fcinfo, 3, &min_support, &max_len);
	st = CxMineAddRow(fcinfo, aggcxt, st, min_support, max_len);
	CxLeaveCall(&call);
	PG_RETURN_POINTER(st);
}

/*
 * Add the row (basket, item) of arguments 1 and 2 to `st`, created in
 * `aggcxt` on the first row (NULL `st`) with these parameters.  Rows with a
 * NULL basket or item are skipped.
 */
MineState *
CxMineAddRow(FunctionCallInfo fcinfo, MemoryContext aggcxt, MineState *st,
			 double min_support, int32 max_len)
{
	if (st == NULL)
		st = MineStateCreate(aggcxt, true, min_support, max_len,
							 get_fn_expr_argtype(fcinfo->flinfo, 1),
							 get_fn_expr_argtype(fcinfo->flinfo, 2),
							 PG_GET_COLLATION());
	else
		CheckSameParams(st, min_support, max_len);

	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
	{
		Datum		b = PG_GETARG_DATUM(1);
		uint32		basket;

		/* lines of one basket usually come together: try the last one first */
		if (st->last_basket >= 0 &&
			CxEqualValues(&st->basket_ti, st->baskets.values[st->last_basket], b))
			basket = (uint32) st->last_basket;
		else
			basket = CxValueSetId(&st->baskets, b);
		st->last_basket = basket;
		AddPair(st, basket, CxValueSetId(&st->items, PG_GETARG_DATUM(2)));
	}
	return st;
}

/*
 * Transition of cxsell.mine(items[], min_support [, max_len]): one row per
 * basket.  An array without a non-NULL element is no basket.
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
	GetMineParams(fcinfo, 2, &min_support, &max_len);
	if (st != NULL)
		CheckSameParams(st, min_support, max_len);
	else
		CxCheckMineParams(min_support, max_len);

	if (!PG_ARGISNULL(1))
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
		ArrayIterator it;
		Datum		value;
		bool		isnull;
		bool		started = false;

		if (st == NULL)
			st = MineStateCreate(aggcxt, false, min_support, max_len,
								 InvalidOid, ARR_ELEMTYPE(arr),
								 PG_GET_COLLATION());
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
		(dst->rowform && dst->basket_ti.type != src->basket_ti.type))
		elog(ERROR, "cannot combine cxsell.mine states of different kinds");
	Assert(!dst->flat);
	Assert(src->npairs == 0 || src->items.nvalues > 0);
	CheckSameParams(dst, src->min_support, src->max_len);

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
		dst->npairs++;
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
		dst = MineStateCreate(aggcxt, src->rowform, src->min_support,
							  src->max_len,
							  src->rowform ? src->basket_ti.type : InvalidOid,
							  src->item_ti.type, src->item_ti.collation);
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
	appendStringInfoChar(&buf, st->rowform ? MINE_FLAG_ROWFORM : 0);
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
	if ((flags & ~MINE_FLAG_ROWFORM) != 0)
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
	CxReaderEnd(&r);
	PG_RETURN_POINTER(st);
}
